"""Cutting a model into LiteRT parts (emozoo.export.lite_parts)."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from emozoo.export.lite_layers import Float16SafeWhisperLogMel, lite_replacement
from emozoo.export.lite_parts import unimodal_parts
from emozoo.models.audio_whisper.model import WhisperLogMel


def test_float16_safe_log_mel_computes_what_the_layer_does_silence_included():
    layer = WhisperLogMel()
    safe = lite_replacement(layer, "float16")
    assert isinstance(safe, Float16SafeWhisperLogMel)
    assert lite_replacement(layer, None) is None  # float32 builds keep the layer
    rng = np.random.default_rng(0)
    waves = np.stack([rng.normal(0, 0.1, 8000), np.zeros(8000)]).astype("float32")
    expected = keras.ops.convert_to_numpy(layer(waves))
    got = keras.ops.convert_to_numpy(safe(waves))
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_unimodal_parts_compose_to_the_model():
    inputs = keras.Input((12,), name="text")
    x = keras.layers.Dense(8, activation="relu")(inputs)
    x = keras.layers.Identity(name="embedding")(x)
    x = keras.layers.Dropout(0.3, name="head_dropout")(x)
    outputs = keras.layers.Dense(7, activation="softmax", name="predictions")(x)
    model = keras.Model({"text": inputs}, outputs)
    encoder, head = unimodal_parts(model, "text")
    assert [t.name for t in head.inputs] == ["text"]
    batch = np.random.default_rng(1).normal(size=(5, 12)).astype("float32")
    embedding = encoder.predict({"text": batch}, verbose=0)
    assert embedding.shape == (5, 8)
    np.testing.assert_allclose(
        head.predict({"text": embedding}, verbose=0),
        model.predict({"text": batch}, verbose=0),
        atol=1e-6,
    )


def _embed(path, modality: str, rows: np.ndarray) -> np.ndarray:
    """The embeddings an encoder part file gives for ``rows``, one row at a time."""
    from emozoo.export.lite_parts import EMBEDDING_OUTPUT
    from emozoo.export.runtime import interpreter_class

    interpreter, _ = interpreter_class()
    it = interpreter(model_path=str(path))
    it.allocate_tensors()
    run = it.get_signature_runner("serving_default")
    return np.stack([run(**{modality: row[None]})[EMBEDDING_OUTPUT][0] for row in rows])


def _small_face_encoder() -> keras.Model:
    inputs = keras.Input((16, 16, 1), name="face")
    x = keras.layers.Rescaling(1 / 127.5, offset=-1)(inputs)
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(x)
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(x)
    x = keras.layers.GlobalAveragePooling2D(name="embedding")(x)
    return keras.Model({"face": inputs}, x)


def test_an_int8_part_is_integer_and_computes_the_float_embedding(tmp_path):
    from emozoo.export.flatbuffer import float_operator_counts
    from emozoo.export.lite_parts import EMBEDDING_OUTPUT, convert_part

    encoder = _small_face_encoder()
    rng = np.random.default_rng(0)
    faces = rng.uniform(0, 255, (64, 16, 16, 1)).astype("float32")
    path = convert_part(
        encoder, tmp_path / "face.tflite", "int8", EMBEDDING_OUTPUT, {"face": faces}
    )
    assert "CONV_2D" not in float_operator_counts(path)
    got = _embed(path, "face", faces[:8])
    expected = encoder.predict({"face": faces[:8]}, verbose=0)
    spread = float(expected.max() - expected.min())
    assert np.abs(got - expected).max() < 0.05 * spread


def test_int8_parts_need_calibration_and_a_fixed_number_of_steps(tmp_path):
    from emozoo.export.lite_parts import convert_part

    with pytest.raises(ValueError, match="float32, float16, dynamic or int8"):
        convert_part(_small_face_encoder(), tmp_path / "a.tflite", "int4", "embedding")
    with pytest.raises(ValueError, match="calibrate int8"):
        convert_part(_small_face_encoder(), tmp_path / "a.tflite", "int8", "embedding")
    with pytest.raises(ValueError, match="calibrate int8"):
        convert_part(
            _small_face_encoder(), tmp_path / "a.tflite", None, "embedding", {"face": None}
        )
    inputs = keras.Input((None,), dtype="int32", name="text")
    x = keras.layers.Embedding(50, 8, name="tokens")(inputs)
    x = keras.layers.LSTM(4, name="embedding")(x)
    text_encoder = keras.Model({"text": inputs}, x)
    with pytest.raises(ValueError, match="any length"):
        convert_part(
            text_encoder,
            tmp_path / "t.tflite",
            "int8",
            "embedding",
            {"text": np.ones((4, 6), "int32")},
        )


def test_a_fixed_length_recurrent_encoder_is_unrolled_for_int8(tmp_path):
    from emozoo.export.lite_parts import EMBEDDING_OUTPUT, convert_part

    inputs = keras.Input((20, 6), name="audio")
    x = keras.layers.LSTM(8, name="recurrent")(inputs)
    x = keras.layers.Identity(name="embedding")(x)
    encoder = keras.Model({"audio": inputs}, x)
    clips = np.random.default_rng(2).normal(size=(64, 20, 6)).astype("float32")
    path = convert_part(encoder, tmp_path / "a.tflite", "int8", EMBEDDING_OUTPUT, {"audio": clips})
    got = _embed(path, "audio", clips[:8])
    expected = encoder.predict({"audio": clips[:8]}, verbose=0)
    assert np.abs(got - expected).max() < 0.1
