"""TFLite exports of tiny models: every quantization, builtin operators only, labels
carried, parity checked and reported beside the file."""

from __future__ import annotations

import json

import numpy as np
import pytest

from emozoo.export import (
    TFLiteModel,
    non_builtin_operators,
    operator_counts,
    read_labels,
    read_metadata,
    to_tflite,
)
from emozoo.labels import EMOTIONS
from tests.export.helpers import samples_for, tiny_face, tiny_fusion


@pytest.fixture(scope="module")
def face():
    return tiny_face()


@pytest.fixture(scope="module")
def fusion():
    return tiny_fusion()


@pytest.mark.parametrize("quantize", [None, "float16", "dynamic", "int8"])
def test_face_model_in_every_quantization(face, tmp_path, quantize):
    path = tmp_path / f"face_{quantize}.tflite"
    calibration = samples_for(face, 16, seed=1) if quantize == "int8" else None
    result = to_tflite(
        face, path, quantize, representative_data=calibration, parity_data=samples_for(face)
    )
    assert path.is_file() and result.size_bytes == path.stat().st_size
    assert non_builtin_operators(path) == []
    assert operator_counts(path)["CONV_2D"] > 0
    assert read_labels(path) == list(EMOTIONS)
    meta = read_metadata(path)
    assert meta["inputs"] == [{"name": "face", "shape": [1, 32, 32, 1], "dtype": "float32"}]
    assert meta["export"]["quantize"] == quantize
    assert meta["preprocessing"]["face"]["image_size"] == 32
    report = json.loads((tmp_path / f"face_{quantize}.parity.json").read_text())
    assert report["passed"] and report["samples"] == 12 and not report["real_samples"]
    assert report["max_abs_diff"] == result.parity.max_abs_diff
    if quantize == "int8":
        assert "QUANTIZE" in operator_counts(path)
        assert result.float_operators == {}  # a CNN quantizes entirely
    if quantize is None:
        # Without ai_edge_litert the file runs on TensorFlow's own (deprecated) interpreter.
        import sys

        sample = samples_for(face).row(0)
        expected = TFLiteModel(path)(sample)
        saved = sys.modules.get("ai_edge_litert.interpreter")
        sys.modules["ai_edge_litert.interpreter"] = None
        try:
            with pytest.warns(UserWarning, match="deprecated"):
                fallback = TFLiteModel(path)
        finally:
            sys.modules.pop("ai_edge_litert.interpreter")
            if saved is not None:
                sys.modules["ai_edge_litert.interpreter"] = saved
        assert fallback.runtime == "tf.lite"
        np.testing.assert_allclose(fallback(sample), expected, atol=1e-6)


def test_fused_model_float32_keeps_while_loops(fusion, tmp_path):
    parity = samples_for(fusion, 10)
    plain = to_tflite(fusion, tmp_path / "fusion.tflite", parity_data=parity)
    assert plain.operators["WHILE"] == 3  # text forward/backward and audio LSTM: while loops
    assert plain.metadata["export"]["recurrent_layers"] == "while loop"
    assert non_builtin_operators(plain.path) == []
    assert plain.parity.max_abs_diff < 1e-4 and plain.parity.top1_agreement == 1.0
    runner = TFLiteModel(plain.path)
    probabilities = runner(parity.row(0))
    np.testing.assert_allclose(probabilities.sum(), 1.0, atol=1e-5)
    meta = read_metadata(plain.path)
    assert meta["preprocessing"]["presence"]["inputs"] == [
        "audio_present",
        "face_present",
        "text_present",
    ]


def test_fused_model_int8_unrolls_and_keeps_fragile_layers_float(fusion, tmp_path):
    parity = samples_for(fusion, 10)
    int8 = to_tflite(
        fusion,
        tmp_path / "fusion_int8.tflite",
        "int8",
        representative_data=samples_for(fusion, 24, seed=3, drop_modalities=True),
        parity_data=parity,
    )
    assert "WHILE" not in int8.operators  # unrolled: what calibration needs
    assert int8.metadata["export"]["recurrent_layers"] == "unrolled"
    assert non_builtin_operators(int8.path) == []
    # The log-mel front end (RFFT2D has no int8 kernel anyway) and the Transformer stay float.
    assert "RFFT2D" in int8.float_operators and int8.float_operators.get("SOFTMAX")
    assert {"log_mel", "transformer_1"} <= set(int8.metadata["export"]["float_layers"])
    names = [spec["name"] for spec in read_metadata(int8.path)["inputs"]]
    assert sorted(names) == sorted(t.name for t in fusion.inputs)
    assert int8.parity.passed


def test_subclassed_backbone_exports(tmp_path):
    """keras-hub's BertBackbone (a Functional subclass, as in text_minilm) is rebuilt from
    its config for export, where Keras's recursive cloning fails."""
    import keras

    from emozoo.models import build_text_minilm

    keras.utils.set_random_seed(0)
    small = {"vocabulary_size": 50, "num_layers": 1, "num_heads": 2, "hidden_dim": 8}
    model = build_text_minilm(intermediate_dim=16, sequence_length=12, **small)
    result = to_tflite(model, tmp_path / "bert.tflite", parity_data=samples_for(model, 6))
    assert result.parity.passed and non_builtin_operators(result.path) == []
    assert read_labels(result.path) == list(EMOTIONS)
