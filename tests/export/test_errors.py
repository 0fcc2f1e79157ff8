"""Wrong, empty or unsupported requests end in clear errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from emozoo.export import ParityError, read_labels, to_saved_model, to_tflite
from emozoo.export.parity import as_tolerance
from emozoo.export.tflite import ConverterError
from tests.export.helpers import samples_for, tiny_face


@pytest.fixture(scope="module")
def face():
    return tiny_face()


def test_int8_without_representative_data(face, tmp_path):
    with pytest.raises(ValueError, match="needs representative_data"):
        to_tflite(face, tmp_path / "f.tflite", "int8")


def test_representative_data_outside_int8(face, tmp_path):
    with pytest.raises(ValueError, match="only used by quantize='int8'"):
        to_tflite(face, tmp_path / "f.tflite", "float16", representative_data=samples_for(face))


def test_unknown_quantization_and_bad_paths(face, tmp_path):
    with pytest.raises(ValueError, match="quantize must be one of"):
        to_tflite(face, tmp_path / "f.tflite", "int4")
    with pytest.raises(ValueError, match="ending in .tflite"):
        to_tflite(face, tmp_path / "f.onnx")
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="is a file"):
        to_saved_model(face, tmp_path / "file")
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "keep.txt").write_text("mine")
    with pytest.raises(ValueError, match="not a SavedModel; not overwriting"):
        to_saved_model(face, tmp_path / "notes")
    assert (tmp_path / "notes" / "keep.txt").read_text() == "mine"


def test_models_that_cannot_be_exported(tmp_path):
    from emozoo.models import build_face_cnn
    from tests.models.helpers import SMALL_FACE

    embedding = build_face_cnn(**SMALL_FACE, include_top=False)
    with pytest.raises(ValueError, match="carries no label names"):
        to_saved_model(embedding, tmp_path / "sm")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        to_saved_model(str(tmp_path / "missing.keras"), tmp_path / "sm")
    broken = tmp_path / "broken.keras"
    broken.write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="Cannot load"):
        to_saved_model(str(broken), tmp_path / "sm")
    with pytest.raises(TypeError, match="Expected a keras.Model"):
        to_saved_model(42, tmp_path / "sm")


def test_wrong_samples(face, tmp_path):
    with pytest.raises(ValueError, match="lacks model inputs"):
        to_tflite(face, tmp_path / "f.tflite", parity_data={"text": np.zeros((2, 4))})
    with pytest.raises(ValueError, match="has shape"):
        to_tflite(face, tmp_path / "f.tflite", parity_data={"face": np.zeros((2, 48, 48, 1))})
    with pytest.raises(ValueError, match="is empty"):
        to_tflite(face, tmp_path / "f.tflite", parity_data=[])
    with pytest.raises(ValueError, match="must be 'auto'"):
        to_tflite(face, tmp_path / "f.tflite", parity_data="synthetic")


def test_tolerance_values():
    assert as_tolerance(0.5, "tflite", "int8").max_abs_diff == 0.5
    assert as_tolerance({"min_top1_agreement": 0.7}, "tflite", None).min_top1_agreement == 0.7
    with pytest.raises(ValueError, match="Unknown tolerance fields"):
        as_tolerance({"max": 1}, "tflite", None)
    with pytest.raises(ValueError, match="must lie in"):
        as_tolerance(2.0, "tflite", None)


def test_failed_parity_is_an_error_with_a_report(face, tmp_path):
    path = tmp_path / "face16.tflite"
    with pytest.raises(ParityError, match="fails its parity check"):
        to_tflite(face, path, "float16", parity_data=samples_for(face), tolerance=0.0)
    report = json.loads((tmp_path / "face16.parity.json").read_text())
    assert report["passed"] is False and report["max_abs_diff"] > 0


def test_runners_and_samples_reject_wrong_inputs(tmp_path):
    from emozoo.export import (
        SavedModelRunner,
        TFLiteModel,
        read_vocabulary,
        real_samples,
        synthetic_samples,
    )

    with pytest.raises(FileNotFoundError, match="not a SavedModel"):
        SavedModelRunner(tmp_path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        TFLiteModel(tmp_path / "missing.tflite")
    junk = tmp_path / "junk.tflite"
    junk.write_bytes(b"\x00" * 64)
    with pytest.raises(ValueError, match="cannot be loaded"):
        TFLiteModel(junk)
    with pytest.raises(ValueError, match="not a TFLite flatbuffer"):
        read_vocabulary(junk)
    from emozoo.export import float_operator_counts, read_metadata

    with pytest.raises(ValueError, match="not a TFLite flatbuffer"):
        float_operator_counts(junk)
    foreign = tmp_path / "foreign_sm"
    foreign.mkdir()
    (foreign / "saved_model.pb").write_bytes(b"")
    with pytest.raises(ValueError, match="not exported by emozoo"):
        read_metadata(foreign)
    face = tiny_face()
    with pytest.raises(ValueError, match="at least 1"):
        synthetic_samples(face, 0)
    with pytest.raises(ValueError, match="split must be one of"):
        real_samples(face, "holdout")


def test_reading_labels_of_foreign_files(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_labels(tmp_path / "missing.tflite")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="not a SavedModel"):
        read_labels(tmp_path / "empty")
    junk = tmp_path / "junk.tflite"
    junk.write_bytes(b"\x00" * 64)
    with pytest.raises(ValueError, match="not a TFLite flatbuffer"):
        read_labels(junk)


def test_converter_crash_becomes_a_clear_error(tmp_path):
    """Integer calibration of an LSTM while loop segfaults TF 2.21's converter; the
    subprocess turns that into an exception instead of killing the test run."""
    from emozoo.export.common import save_samples
    from emozoo.export.savedmodel import write_archive
    from emozoo.export.source import export_copy
    from emozoo.export.tflite import convert_saved_model
    from emozoo.models import build_audio_lstm
    from tests.models.helpers import SMALL_AUDIO

    model = build_audio_lstm(**SMALL_AUDIO)
    write_archive(export_copy(model), tmp_path / "sm", batch_size=1)  # not unrolled
    save_samples(samples_for(model, 4), tmp_path / "rep.npz")
    with pytest.raises(ConverterError, match=r"crashed \(SIG") as error:
        convert_saved_model(tmp_path / "sm", tmp_path / "out.tflite", "int8", tmp_path / "rep.npz")
    assert "unrolls recurrent layers for int8" in str(error.value)
