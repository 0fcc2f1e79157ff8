"""Users' own data: class folders, text CSV and multimodal manifests."""

from __future__ import annotations

import csv

import cv2
import numpy as np
import pytest
import soundfile as sf

import emozoo
from emozoo.data import (
    SkipReport,
    UnknownLabelError,
    from_audio_folder,
    from_image_folder,
    from_manifest,
    from_text_csv,
    load_source,
    make_dataset,
    read_manifest,
)

LABELS = ["calm", "happy", "sad", "angry"]


@pytest.fixture
def image_folder(tmp_path):
    rng = np.random.default_rng(0)
    for label in ("happy", "Sad"):
        (tmp_path / "faces" / label).mkdir(parents=True)
        for i in range(3):
            cv2.imwrite(
                str(tmp_path / "faces" / label / f"{i}.png"),
                rng.integers(0, 255, (64, 60, 3), dtype=np.uint8),
            )
    return tmp_path / "faces"


def test_image_folder(image_folder):
    records = from_image_folder(image_folder, LABELS)
    assert records.items.shape == (6, 48, 48) and records.items.dtype == np.uint8
    assert records.class_counts() == {"calm": 0, "happy": 3, "sad": 3, "angry": 0}
    ds = make_dataset(records, emozoo.load_preprocessor("face_cnn"), batch_size=6, augment=True)
    x, y = next(iter(ds))
    assert x["face"].shape == (6, 48, 48, 1) and sorted(y.numpy().tolist()) == [1, 1, 1, 2, 2, 2]


def test_image_folder_bad_files(image_folder):
    (image_folder / "happy" / "broken.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(ValueError, match="broken.jpg could not be decoded"):
        from_image_folder(image_folder, LABELS)
    report = SkipReport()
    records = from_image_folder(image_folder, LABELS, on_error="skip", report=report)
    assert len(records) == 6 and report.count == 1 and "broken.jpg" in report.skipped[0][0]
    (image_folder / "bored").mkdir()
    cv2.imwrite(str(image_folder / "bored" / "x.png"), np.zeros((48, 48), np.uint8))
    with pytest.raises(UnknownLabelError, match="bored"):
        from_image_folder(image_folder, LABELS, on_error="skip")
    with pytest.raises(FileNotFoundError):
        from_image_folder(image_folder / "nope", LABELS)


def test_audio_folder_any_rate_and_channels(tmp_path):
    for label, rate, channels in (("calm", 44100, 2), ("angry", 8000, 1)):
        (tmp_path / label).mkdir()
        t = np.arange(int(rate * 1.5)) / rate
        wave = (0.3 * np.sin(2 * np.pi * 300 * t)).astype(np.float32)
        sf.write(
            tmp_path / label / "a.ogg",
            np.stack([wave] * channels, 1) if channels > 1 else wave,
            rate,
        )
        sf.write(tmp_path / label / "b.wav", wave, rate)
    records = from_audio_folder(tmp_path, LABELS)
    assert len(records) == 4 and records.class_counts()["calm"] == 2
    x, _ = next(iter(make_dataset(records, emozoo.load_preprocessor("audio_lstm"), batch_size=4)))
    audio = x["audio"].numpy()
    assert audio.shape == (4, 48000) and (np.abs(audio[:, :20000]).max(axis=1) > 0.2).all()
    assert not audio[:, 24500:].any()  # 1.5 s clips padded to 3 s


def test_text_csv(tmp_path):
    path = tmp_path / "texts.csv"
    path.write_text("text,label\nwhat a lovely day,happy\nI miss her,sad\n", encoding="utf-8")
    records = from_text_csv(path, LABELS)
    assert records.items == ["what a lovely day", "I miss her"] and records.labels.tolist() == [
        1,
        2,
    ]
    with pytest.raises(ValueError, match="lacks columns"):
        from_text_csv(path, LABELS, text_column="sentence")
    path.write_text("text,label\nhm,bored\n", encoding="utf-8")
    with pytest.raises(UnknownLabelError, match="bored"):
        from_text_csv(path, LABELS)


@pytest.fixture
def manifest_path(tmp_path, data_root):
    faces = load_source("fer2013", "PublicTest")
    clips = load_source("ravdess_speech", "test")
    for i in range(2):
        cv2.imwrite(str(tmp_path / f"face{i}.png"), faces.items[i])
    rows = [
        ("face0.png", "I can't believe this happened!", clips.items[0], "happy"),
        ("", "so sad today", "", "sad"),
        ("face1.png", "", clips.items[1], "ANGRY"),
        ("", "", clips.items[2], "calm"),
    ]
    path = tmp_path / "manifest.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["face_path", "text", "audio_path", "label"])
        writer.writerows(rows)
    return path


def test_manifest_presence_flags(manifest_path):
    model = emozoo.load("cnn_lstm_fusion", weights=None, labels=LABELS)
    assert read_manifest(manifest_path, LABELS).counts == {
        "rows": 4,
        "face": 2,
        "text": 2,
        "audio": 3,
    }
    x, y = next(iter(from_manifest(manifest_path, model=model, shuffle=False, batch_size=4)))
    assert y.numpy().tolist() == [1, 2, 3, 0]
    assert x["face_present"].numpy().ravel().tolist() == [1, 0, 1, 0]
    assert x["text_present"].numpy().ravel().tolist() == [1, 1, 0, 0]
    assert x["audio_present"].numpy().ravel().tolist() == [1, 0, 1, 1]
    face, text, audio = x["face"].numpy(), x["text"].numpy(), x["audio"].numpy()
    assert face[0].any() and not face[1].any() and not face[3].any()
    assert (text[0] > 0).sum() > 3 and not text[2].any() and not text[3].any()
    assert audio[0].any() and not audio[1].any()
    assert model.predict(x, verbose=0).shape == (4, 4)


def test_manifest_augmentation_keeps_missing_modalities_zero(manifest_path):
    model = emozoo.load("cnn_lstm_fusion", weights=None, labels=LABELS)
    x, _ = next(
        iter(
            from_manifest(
                manifest_path, model=model, shuffle=False, batch_size=4, augment=True, seed=1
            )
        )
    )
    assert (
        not x["face"].numpy()[1].any()
        and not x["audio"].numpy()[1].any()
        and not x["text"].numpy()[2].any()
    )


def test_manifest_for_a_unimodal_model(manifest_path):
    model = emozoo.load("text_bilstm", weights=None, labels=LABELS)
    with pytest.raises(ValueError, match="2 manifest row"):
        from_manifest(manifest_path, model=model)
    report = SkipReport()
    x, y = next(
        iter(
            from_manifest(manifest_path, model=model, on_error="skip", report=report, shuffle=False)
        )
    )
    assert set(x) == {"text"} and y.numpy().tolist() == [1, 2] and report.count == 2


def test_manifest_bad_rows(manifest_path, tmp_path):
    model = emozoo.load("cnn_lstm_fusion", weights=None, labels=LABELS)
    text = manifest_path.read_text(encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text(text + "missing.png,,,happy\n", encoding="utf-8")
    with pytest.raises(Exception, match="missing.png does not exist"):
        list(from_manifest(bad, model=model))
    report = SkipReport()
    assert (
        sum(len(y) for _, y in from_manifest(bad, model=model, on_error="skip", report=report)) == 4
    )
    assert report.count == 1
    bad.write_text(text + ",,,happy\n", encoding="utf-8")
    with pytest.raises(ValueError, match="line 6 has no face, text or audio"):
        from_manifest(bad, model=model)
    bad.write_text(text + ",hello,,bored\n", encoding="utf-8")
    with pytest.raises(UnknownLabelError, match="bored"):
        from_manifest(bad, model=model)
    bad.write_text("face,label\n", encoding="utf-8")
    with pytest.raises(ValueError, match="lacks columns"):
        from_manifest(bad, model=model)
    with pytest.raises(FileNotFoundError):
        from_manifest(tmp_path / "none.csv", model=model)
    with pytest.raises(ValueError, match="model or a preprocessor"):
        from_manifest(manifest_path)


def test_emozoo_data_is_reachable_from_the_top_package():
    assert emozoo.data.from_manifest is from_manifest


def test_a_manifest_with_action_units_feeds_a_face_au_model(tmp_path):
    """``au_path`` rows (OpenFace 2 CSVs) become the clip's mean AUs; the other input
    columns may be absent from the file."""
    from emozoo.preprocessing.face_au import read_au_csv
    from emozoo.training.manifests import split_manifest
    from tests.preprocessing.helpers import openface_csv

    model = emozoo.load("face_au")
    for i, value in enumerate((0.5, 2.0, 3.5, 1.0)):
        openface_csv(tmp_path / f"clip{i}.csv", [(0.0, 0.98, 1, value), (0.04, 0.9, 1, value)])
    manifest = tmp_path / "aus.csv"
    manifest.write_text(
        "au_path,label\n"
        + "".join(f"clip{i}.csv,{label}\n" for i, label in enumerate(("happy", "sad") * 2)),
        encoding="utf-8",
    )
    ds = from_manifest(manifest, model=model, batch_size=4, shuffle=False)
    inputs, labels = next(iter(ds))
    assert set(inputs) == {"face_au"}
    expected = np.stack([read_au_csv(tmp_path / f"clip{i}.csv")[0] for i in range(4)])
    np.testing.assert_allclose(inputs["face_au"].numpy(), expected, rtol=1e-6)
    assert labels.shape[0] == 4
    train_csv, val_csv = split_manifest(manifest, tmp_path / "split", val_fraction=0.5)
    rows = list(csv.DictReader(val_csv.open(encoding="utf-8")))
    assert rows and all(row["au_path"].endswith(".csv") for row in rows)
