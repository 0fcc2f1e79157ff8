"""Pretrained models exported and checked on real samples from the shared datasets."""

from __future__ import annotations

import pytest

from emozoo.export import non_builtin_operators, read_labels, real_samples, to_tflite
from emozoo.labels import EMOTIONS

pytestmark = [pytest.mark.needs_data, pytest.mark.slow]


def test_real_samples_of_each_kind(data_root):
    face = real_samples("face_cnn", "test", n=5)
    assert face.inputs["face"].shape == (5, 48, 48, 1) and face.real
    fused = real_samples("cnn_lstm_fusion", "train", n=20, seed=1)
    assert set(fused.inputs) == {
        "face",
        "text",
        "audio",
        "face_present",
        "text_present",
        "audio_present",
    }
    assert fused.inputs["audio"].shape == (20, 48000)
    assert 0 < fused.inputs["text_present"].mean() <= 1  # training pairs drop modalities


def test_face_cnn_int8_calibrated_on_real_training_data(data_root, tmp_path):
    result = to_tflite(
        "face_cnn", tmp_path / "face_int8.tflite", "int8", representative_data="auto"
    )
    assert result.parity.real_samples and result.parity.passed
    assert "fer2013/Training" in result.metadata["export"]["calibration"]
    assert abs(result.parity.export_accuracy - result.parity.keras_accuracy) <= 0.03
    assert non_builtin_operators(result.path) == []
    assert read_labels(result.path) == list(EMOTIONS)


def test_audio_lstm_int8_keeps_the_log_mel_float(data_root, tmp_path):
    result = to_tflite(
        "audio_lstm", tmp_path / "audio_int8.tflite", "int8", representative_data="auto"
    )
    assert result.parity.passed and result.parity.real_samples
    assert "RFFT2D" in result.float_operators and "LOG" in result.float_operators
    assert result.operators.get("WHILE") is None
