"""Cross-dataset pseudo-pairs: label-matched, split-pure, reproducible."""

from __future__ import annotations

import numpy as np
import pytest

import emozoo
from emozoo.data import Records, build_pairs, load_pairs, pairs_dataset
from emozoo.data.pairs import PAIR_SOURCES
from emozoo.labels import EMOTIONS


def toy_sources():
    rng = np.random.default_rng(0)
    face = Records(
        "f",
        "s",
        "face",
        rng.integers(0, 255, (70, 48, 48), dtype=np.uint8),
        np.arange(70) % 7,
        EMOTIONS,
    )
    text = Records(
        "t", "s", "text", [f"text {i}" for i in range(60)], np.arange(60) % 6, EMOTIONS
    )  # no neutral
    audio = Records(
        "a", "s", "audio", [f"clip{i}.wav" for i in range(35)], np.arange(35) % 7, EMOTIONS
    )
    return face, text, audio


def test_pairs_share_labels_and_are_reproducible():
    face, text, audio = toy_sources()
    pairs = build_pairs(face, text, audio, 500, seed=3)
    for source, column in ((face, pairs.face), (text, pairs.text), (audio, pairs.audio)):
        used = column >= 0
        np.testing.assert_array_equal(source.labels[column[used]], pairs.labels[used])
    assert (pairs.present.sum(axis=1) >= 1).all()
    assert (pairs.text[pairs.labels == 6] == -1).all()  # no neutral text to pair with
    again = build_pairs(face, text, audio, 500, seed=3)
    other = build_pairs(face, text, audio, 500, seed=4)
    np.testing.assert_array_equal(pairs.face, again.face)
    assert not np.array_equal(pairs.face, other.face)
    counts = np.bincount(pairs.labels, minlength=7)
    assert counts.min() > 40  # classes balanced


def test_modality_dropout():
    face, text, audio = toy_sources()
    full = build_pairs(face, text, audio, 300, full_probability=1.0)
    dropped = build_pairs(face, text, audio, 300, full_probability=0.0)
    assert (full.present[full.labels != 6].sum(axis=1) == 3).all()
    assert (dropped.present.sum(axis=1) < 3).all() and (dropped.present.sum(axis=1) >= 1).all()
    only_face = full.with_modalities({"face"})
    assert (only_face.present == [1, 0, 0]).all()


def test_pair_splits_use_only_their_own_source_splits(data_root):
    assert [s for _, s in PAIR_SOURCES["test"]["face"]] == ["PrivateTest"]
    test_pairs, test_sources = load_pairs("test", num_pairs=500)
    train_pairs, train_sources = load_pairs("train", num_pairs=2000)
    assert "test" in test_sources["text"].name and "train" not in test_sources["text"].name
    test_clips = {test_sources["audio"].items[i] for i in test_pairs.audio[test_pairs.audio >= 0]}
    train_clips = {
        train_sources["audio"].items[i] for i in train_pairs.audio[train_pairs.audio >= 0]
    }
    assert test_clips and not test_clips & train_clips
    actors = {int(p.split("Actor_")[1][:2]) for p in test_clips}
    assert actors <= {21, 22, 23, 24}
    assert (
        test_pairs.present.sum(axis=1) == 3
    ).mean() > 0.8  # all three unless a class lacks a modality


def test_pairs_dataset_batches(data_root):
    pairs, sources = load_pairs("val", num_pairs=40)
    pairs = pairs.with_modalities({"face", "audio"})
    pre = emozoo.load_preprocessor("cnn_lstm_fusion")
    ds = pairs_dataset(pairs, sources, pre, batch_size=20, shuffle=False, augment=True)
    x, y = next(iter(ds))
    assert (
        x["face"].shape == (20, 48, 48, 1)
        and x["audio"].shape == (20, 48000)
        and x["text"].shape == (20, 64)
    )
    assert not x["text"].numpy().any() and (x["text_present"].numpy() == 0).all()
    np.testing.assert_array_equal(y.numpy(), pairs.labels[:20])
    np.testing.assert_array_equal(x["face_present"].numpy()[:, 0], pairs.face[:20] >= 0)
    with pytest.raises(ValueError, match="multimodal"):
        pairs_dataset(pairs, sources, emozoo.load_preprocessor("face_cnn"))
    with pytest.raises(ValueError, match="Pair splits"):
        load_pairs("holdout")
