"""The Runner protocol: the Keras and LiteRT runners both implement it, answer alike on
the same batch, and say whether batching pays; the Keras runner splits any fused model."""

from __future__ import annotations

import numpy as np
import pytest

from emozoo.inference.engine import ModelRunner
from emozoo.inference.lite import LiteRunner
from emozoo.inference.runner import Runner, make_runner
from emozoo.registry import get_entry


@pytest.fixture(scope="module")
def raw() -> dict:
    rng = np.random.default_rng(7)
    return {
        "face": rng.integers(0, 255, (4, 48, 48), dtype=np.uint8),
        "text": ["so happy", "this is awful", "wait what", "I am scared"],
        "audio": rng.normal(0, 0.1, (4, 48000)).astype(np.float32),
    }


def test_both_runners_are_runners(rec, keras_rec):
    from emozoo.inference.lite_parts import LitePartsRunner

    # The default model ships a LiteRT parts build; its v1 one whole LiteRT file.
    lite, whole, keras = (
        rec.runner,
        make_runner("cnn_lstm_fusion@v1", "default", 8),
        keras_rec.runner,
    )
    assert isinstance(lite, LitePartsRunner) and isinstance(whole, LiteRunner)
    assert isinstance(keras, ModelRunner)
    for runner in (lite, whole, keras):
        assert isinstance(runner, Runner)
        assert runner.labels == rec.labels and runner.modalities == ("face", "text", "audio")
    # Batching pays where the network runs a batch in one call (Keras), not row by row.
    assert keras.prefers_batching and not lite.prefers_batching and not whole.prefers_batching
    assert keras.split and lite.split and not whole.split
    assert not isinstance(object(), Runner)


@pytest.mark.parametrize("subset", [("face",), ("text", "audio"), ("face", "text", "audio")])
def test_both_runners_give_the_same_probabilities_on_the_same_batch(rec, keras_rec, raw, subset):
    outputs = []
    for runner in (rec.runner, keras_rec.runner):
        inputs = runner.preprocessor(**{m: raw[m] for m in subset})
        outputs.append(runner.classify({m: runner.encode(m, inputs[m]) for m in subset}))
    lite, keras = outputs
    assert lite.shape == keras.shape == (4, len(rec.labels))
    # A quantized encoder file (int8 face, dynamic-range speech) computes the float
    # model's answer to within its 8 bits; float32 files to within rounding.
    parts = get_entry(rec.runner.name).lite["parts"]
    quantized = any(parts[m]["quantize"] != "float32" for m in subset)
    np.testing.assert_allclose(lite, keras, atol=0.02 if quantized else 1e-4)
    np.testing.assert_array_equal(lite.argmax(1), keras.argmax(1))


def test_the_lite_parts_runner_is_a_runner():
    from emozoo.inference.lite_parts import LitePartsRunner

    runner = make_runner("face_vgg", "default", 8)
    assert isinstance(runner, LitePartsRunner) and isinstance(runner, Runner)
    assert runner.split and not runner.prefers_batching


def test_make_runner_picks_the_backend(rec):
    assert isinstance(make_runner("face_cnn", "default", 8), LiteRunner)
    with pytest.raises(ValueError, match="backend"):
        make_runner("face_cnn", "default", 8, backend="onnx")
    with pytest.raises(ValueError, match="no LiteRT build"):
        make_runner("face_au", "default", 8, backend="lite")


def test_the_keras_runner_splits_a_fused_model_of_any_modalities():
    """``au_whisper_fusion`` (action units + speech): split into its two encoders and a
    head, which answers as the whole model, with either modality missing too."""
    runner = ModelRunner("au_whisper_fusion")
    assert runner.split and set(runner.encoders) == {"face_au", "audio"}
    rng = np.random.default_rng(0)
    aus = rng.uniform(0, 3, (3, 35)).astype(np.float32)
    aus[1, :5] = np.nan  # AUs OpenFace could not read
    raw = {"face_au": aus, "audio": rng.normal(0, 0.1, (3, 48000)).astype(np.float32)}
    for subset in (("face_au",), ("audio",), ("face_au", "audio")):
        inputs = runner.preprocessor(**{m: raw[m] for m in subset})
        whole = np.asarray(runner.model.predict_on_batch(inputs))
        parts = runner.classify({m: runner.encode(m, inputs[m]) for m in subset})
        np.testing.assert_allclose(parts, whole, atol=1e-5)
