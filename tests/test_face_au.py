"""The facial action-unit modality: readers, preprocessor, dataset adapter, models."""

from __future__ import annotations

import numpy as np
import pytest

import emozoo
from emozoo.preprocessing import AU_NAMES, FaceAUPreprocessor
from emozoo.preprocessing.face_au import (
    AUReadError,
    au_vector,
    read_au_csv,
    read_openface_csv,
    read_pyfeat_csv,
)


def _openface_csv(path, rows):
    """An OpenFace 2 FeatureExtraction CSV: names padded with a space, as it writes them."""
    header = ["frame", "face_id", "timestamp", "confidence", "success", *AU_NAMES]
    lines = [", ".join(header)]
    for frame, (time, confidence, success, value) in enumerate(rows, start=1):
        aus = [value] * len(AU_NAMES)
        lines.append(", ".join(str(v) for v in [frame, 0, time, confidence, success, *aus]))
    path.write_text("\n".join(lines) + "\n")
    return path


def test_openface_reader_skips_failed_and_unsure_frames_and_averages(tmp_path):
    path = _openface_csv(
        tmp_path / "clip.csv",
        [(0.00, 0.98, 1, 1.0), (0.04, 0.98, 1, 3.0), (0.08, 0.10, 1, 50.0), (0.12, 0.0, 0, 99.0)],
    )
    values = read_openface_csv(path)
    assert values.shape == (1, 35)
    np.testing.assert_allclose(values[0], 2.0)  # mean of the two good frames


def test_openface_reader_averages_windows(tmp_path):
    path = _openface_csv(
        tmp_path / "clip.csv",
        [(0.0, 0.9, 1, 1.0), (0.5, 0.9, 1, 3.0), (1.0, 0.9, 1, 5.0), (1.5, 0.9, 1, 7.0)],
    )
    np.testing.assert_allclose(read_openface_csv(path, window_s=1.0)[:, 0], [2.0, 6.0])


def test_openface_reader_errors_name_the_file(tmp_path):
    path = _openface_csv(tmp_path / "bad.csv", [(0.0, 0.1, 1, 1.0), (0.1, 0.9, 0, 1.0)])
    with pytest.raises(AUReadError, match="bad.csv.*no frame"):
        read_openface_csv(path)
    with pytest.raises(AUReadError, match="does not exist"):
        read_openface_csv(tmp_path / "missing.csv")


def test_pyfeat_columns_map_onto_openface(tmp_path):
    path = tmp_path / "fex.csv"
    path.write_text(
        "frame,FaceScore,AU01,AU12,AU43\n0,0.99,0.2,0.8,0.5\n1,0.99,0.4,0.6,0.5\n2,0.1,1,1,1\n"
    )
    values = read_pyfeat_csv(path)[0]
    index = {name: i for i, name in enumerate(AU_NAMES)}
    assert values[index["AU01_r"]] == pytest.approx(0.3 * 5)
    assert values[index["AU12_r"]] == pytest.approx(0.7 * 5)
    assert values[index["AU12_c"]] == pytest.approx(1.0)
    assert values[index["AU01_c"]] == pytest.approx(0.0)
    assert np.isnan(values[index["AU45_r"]])  # py-feat has no blink unit
    np.testing.assert_allclose(read_au_csv(path), read_pyfeat_csv(path))


def test_preprocessor_takes_arrays_dicts_and_files(tmp_path):
    pre = FaceAUPreprocessor()
    assert pre(np.zeros(35)).shape == (1, 35)
    assert pre(np.zeros((4, 35))).shape == (4, 35)
    row = pre({"AU12_r": 2.5})[0]
    assert row[AU_NAMES.index("AU12_r")] == 2.5 and np.isnan(row[0])
    path = _openface_csv(tmp_path / "clip.csv", [(0.0, 0.9, 1, 1.0)])
    assert pre([str(path), {"AU06": 0.5}]).shape == (2, 35)
    with pytest.raises(ValueError, match="35 values"):
        pre(np.zeros(34))
    with pytest.raises(ValueError, match="Unknown AU names"):
        au_vector({"AU12_r": 1.0, "AU99_r": 1.0})


def test_face_au_model_reads_nan_as_the_training_mean():
    from emozoo.models import build_face_au, set_au_statistics

    model = build_face_au(num_classes=3, hidden_units=(8,), embedding_dim=4)
    set_au_statistics(model, np.full(35, 2.0), np.full(35, 0.5))
    means = np.full((1, 35), 2.0, np.float32)
    unknown = np.full((1, 35), np.nan, np.float32)
    np.testing.assert_allclose(
        model.predict({"face_au": means}, verbose=0), model.predict({"face_au": unknown}, verbose=0)
    )


def test_load_preprocessor_of_the_fused_card_takes_face_au_alone():
    pre = emozoo.load_preprocessor("au_whisper_fusion")
    batch = pre(face_au={"AU12_r": 2.0})
    assert batch["face_au"].shape == (1, 35)
    assert batch["face_au_present"].tolist() == [[1.0]] and batch["audio_present"].tolist() == [
        [0.0]
    ]
    with pytest.raises(ValueError, match="not face"):
        pre(face=np.zeros((48, 48), np.uint8))


def test_fusion_builder_takes_its_modality_set():
    from emozoo.models import build_cnn_lstm_fusion, build_fusion_transformer
    from emozoo.models.fusion.compose import identity_encoders

    default = build_fusion_transformer(embedding_dims={"face": 4, "text": 4, "audio": 4})
    assert {t.name for t in default.inputs} == {
        "face_embedding", "text_embedding", "audio_embedding",
        "face_present", "text_present", "audio_present",
    }  # fmt: skip
    pair = build_cnn_lstm_fusion(
        num_classes=3,
        modalities=("face_au", "audio"),
        encoder_models=identity_encoders({"face_au": 5, "audio": 6}),
        fusion={"model_dim": 8, "num_layers": 1, "num_heads": 2, "intermediate_dim": 8},
    )
    assert {t.name for t in pair.inputs} == {"face_au", "audio", "face_au_present", "audio_present"}


def test_ravdess_face_au_adapter(data_root):
    from emozoo.data import load_source
    from emozoo.data.datasets import load_ravdess_au_pairs

    if not (data_root / "ravdess_face_au").is_dir():
        pytest.skip(f"ravdess_face_au not found under {data_root}")
    sizes = {
        s: len(load_source("ravdess_face_au", s, root=data_root)) for s in ("train", "val", "test")
    }
    assert sizes == {"train": 1080, "val": 120, "test": 240}
    pairs = load_ravdess_au_pairs("test", root=data_root)
    assert pairs["face_au"].items.shape == (240, 35) and len(pairs["audio"]) == 240
    assert (pairs["face_au"].labels == pairs["audio"].labels).all()
    assert all(p.endswith(".flac") and "/Actor_2" in p for p in pairs["audio"].items)


def test_adapter_says_where_the_data_is_missing(tmp_path):
    from emozoo.data import DatasetNotFoundError, load_source

    with pytest.raises(DatasetNotFoundError, match="ravdess_face_au"):
        load_source("ravdess_face_au", "train", root=tmp_path)


def test_recognizer_predicts_from_aus_dicts_and_openface_files(tmp_path):
    from emozoo.inference import EmotionRecognizer

    rec = EmotionRecognizer("face_au")
    result = rec.predict(face_au={"AU06_r": 2.5, "AU12_r": 3.0, "AU06_c": 1, "AU12_c": 1})
    assert result.modalities_used == ["face_au"] and result.top in rec.labels
    path = _openface_csv(tmp_path / "clip.csv", [(0.0, 0.9, 1, 0.5), (0.04, 0.9, 1, 0.7)])
    from_file = rec.predict(face_au=str(path))
    same = rec.predict(face_au=np.full(35, 0.6, np.float32))
    assert from_file.probabilities == pytest.approx(same.probabilities, abs=1e-5)
    batch = rec.predict_batch(face_aus=np.zeros((3, 35), np.float32))
    assert len(batch) == 3
    with pytest.raises(ValueError, match="cannot use image"):
        rec.predict(image=np.zeros((48, 48, 3), np.uint8))


def test_cli_predict_openface(tmp_path, capsys):
    from emozoo.cli import main

    path = _openface_csv(tmp_path / "clip.csv", [(0.0, 0.9, 1, 0.5)])
    assert main(["predict", "--openface", str(path), "--json"]) == 0
    out = capsys.readouterr().out
    assert '"face_au"' in out and '"model": "face_au"' in out
