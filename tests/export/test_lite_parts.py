"""Cutting a model into LiteRT parts (emozoo.export.lite_parts)."""

from __future__ import annotations

import keras
import numpy as np

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
