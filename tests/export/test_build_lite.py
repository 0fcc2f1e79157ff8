"""The release tool that builds the shipped LiteRT files (tools/build_lite.py): what it
refuses to ship, and that a refused build leaves the shipped files alone."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from emozoo.export.parity import ParityReport, default_tolerance
from emozoo.export.samples import Samples

TOOL = Path(__file__).resolve().parents[2] / "tools" / "build_lite.py"


@pytest.fixture(scope="module")
def build_lite():
    spec = importlib.util.spec_from_file_location("build_lite", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def report(quantize, agreement, real=True, passed=True) -> ParityReport:
    tolerance = default_tolerance("tflite", quantize)
    return ParityReport(
        export="x.tflite",
        format="tflite",
        quantize=quantize,
        samples=200,
        sample_source="test",
        real_samples=real,
        max_abs_diff=0.05,
        mean_abs_diff=0.01,
        top1_agreement=agreement,
        tolerance={
            "max_abs_diff": tolerance.max_abs_diff,
            "min_top1_agreement": tolerance.min_top1_agreement,
        },
        passed=passed,
        runtime="ai_edge_litert",
    )


def test_an_int8_file_ships_only_near_full_agreement_on_real_samples(build_lite):
    bound = build_lite.SHIPPED_INT8_AGREEMENT
    build_lite._check_shipped("m", "int8", report("int8", bound + 0.01))
    with pytest.raises(RuntimeError, match="shipped file needs"):
        build_lite._check_shipped("m", "int8", report("int8", bound - 0.01))
    with pytest.raises(RuntimeError, match="real test samples"):
        build_lite._check_shipped("m", "int8", report("int8", 1.0, real=False))
    # Other formats keep the export's own bound.
    build_lite._check_shipped("m", "dynamic", report("dynamic", bound - 0.01))
    with pytest.raises(RuntimeError, match="parity failed"):
        build_lite._check_shipped("m", None, report(None, 1.0, passed=False))


def test_absent_modalities_are_checked_no_looser_than_dynamic_weights(build_lite):
    dynamic = default_tolerance("tflite", "dynamic").max_abs_diff
    assert build_lite._missing_bound(report("int8", 1.0)) == dynamic
    assert (
        build_lite._missing_bound(report(None, 1.0))
        == default_tolerance("tflite", None).max_abs_diff
    )


def test_int8_calibrates_an_encoder_on_the_samples_that_carry_its_modality(build_lite):
    faces = np.arange(4, dtype="float32").reshape(4, 1)
    samples = Samples(
        {"face": faces, "face_present": np.array([[1], [0], [1], [0]], "float32")},
        None,
        None,
        "train",
    )
    np.testing.assert_array_equal(build_lite._calibration_rows(samples, "face"), [[0], [2]])
    alone = Samples({"face": faces}, None, None, "train")  # a one-modality model
    assert len(build_lite._calibration_rows(alone, "face")) == 4
    none = Samples({"face": faces, "face_present": np.zeros((4, 1))}, None, None, "train")
    with pytest.raises(ValueError, match="calibrate"):
        build_lite._calibration_rows(none, "face")


def test_a_refused_build_leaves_the_shipped_files_alone(build_lite, monkeypatch, tmp_path):
    import emozoo.export
    import emozoo.paths

    shipped = tmp_path / "face_cnn.tflite"
    shipped.write_bytes(b"the shipped file")

    def fake_to_tflite(name, path, **kwargs):  # writes a file whose parity then fails
        Path(path).write_bytes(b"a new file")
        Path(path).with_suffix(".parity.json").write_text("{}")
        return SimpleNamespace(parity=report("int8", 0.5))

    monkeypatch.setattr(emozoo.paths, "WEIGHTS_DIR", tmp_path)
    monkeypatch.setattr(emozoo.export, "to_tflite", fake_to_tflite)
    with pytest.raises(RuntimeError, match="shipped file needs"):
        build_lite.build("face_cnn", "int8")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["face_cnn.tflite"]
    assert shipped.read_bytes() == b"the shipped file"
