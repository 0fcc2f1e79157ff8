"""``emozoo export`` calls the same functions as the Python API."""

from __future__ import annotations

import json

import pytest

from emozoo.cli import main
from emozoo.export import read_labels
from emozoo.labels import EMOTIONS
from tests.export.helpers import tiny_face


@pytest.fixture(scope="module")
def keras_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "tiny_face.keras"
    tiny_face().save(path)
    return path


def test_export_a_keras_file_to_tflite(keras_file, tmp_path, capsys):
    out = tmp_path / "face.tflite"
    code = main(
        ["export", str(keras_file), "--format", "tflite", "--out", str(out), "--json"]
        + ["--parity-samples", "5"]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    result = json.loads(captured.out)
    assert result["path"] == str(out.resolve()) and result["labels"] == list(EMOTIONS)
    assert result["parity"]["passed"] and result["parity"]["samples"] == 5
    assert read_labels(out) == list(EMOTIONS)
    # A model that does not fit the shared data is checked on synthetic inputs, said loudly.
    assert "SYNTHETIC" in captured.err or result["parity"]["real_samples"]


def test_wrong_combinations_and_names_exit_2(keras_file, tmp_path, capsys):
    args = ["--format", "saved_model", "--out", str(tmp_path / "sm")]
    assert main(["export", str(keras_file), "--quantize", "int8", *args]) == 2
    assert "--quantize applies to --format tflite only" in capsys.readouterr().err
    assert main(["export", "face_cn", *args]) == 2
    assert "Did you mean 'face_cnn'" in capsys.readouterr().err
    assert main(["export", str(tmp_path / "nope.keras"), *args]) == 2
    assert "does not exist" in capsys.readouterr().err
    out = ["--format", "tflite", "--out", str(tmp_path / "x.bin")]
    assert main(["export", str(keras_file), *out]) == 2
    assert "ending in .tflite" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["export", str(keras_file), "--format", "onnx", "--out", "x"])


def test_without_the_datasets_the_cli_still_exports(keras_file, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("EMOZOO_DATA_DIR", str(tmp_path / "no-data"))
    out = tmp_path / "face_int8.tflite"
    args = ["export", str(keras_file), "--format", "tflite", "--quantize", "int8"]
    args += ["--out", str(out), "--calibration-samples", "8", "--parity-samples", "6"]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "calibrating int8 on 8 SYNTHETIC inputs" in err
    assert "checking parity on 6 SYNTHETIC inputs" in err
    report = json.loads((tmp_path / "face_int8.parity.json").read_text())
    assert report["passed"] and not report["real_samples"]
