"""Dataset adapters on the real data, checked against the counts in each SOURCE.md."""

from __future__ import annotations

import re

import numpy as np
import pytest

from emozoo.data import DatasetNotFoundError, UnknownLabelError, encode_labels, load_source
from emozoo.data.label_maps import CARER_LABELS, TO_CANONICAL
from emozoo.labels import EMOTIONS


def source_table(data_root, source: str) -> dict[str, dict[str, int]]:
    """``{first cell: {column: int}}`` of the counts table in ``<source>/SOURCE.md``."""
    text = (data_root / source / "SOURCE.md").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line.startswith("|")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    table = {}
    for line in lines[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        key = re.sub(r"\s*\(.*\)", "", cells[0])
        table[key] = {h: int(c) for h, c in zip(header[1:], cells[1:], strict=True) if c.isdigit()}
    return table


def canonical_counts(native: dict[str, int], source: str) -> dict[str, int]:
    counts = dict.fromkeys(EMOTIONS, 0)
    for name, n in native.items():
        counts[TO_CANONICAL[source][name]] += n
    return counts


@pytest.mark.parametrize("split", ["Training", "PublicTest", "PrivateTest"])
def test_fer2013_counts(data_root, split):
    expected = source_table(data_root, "fer2013")[split]
    records = load_source("fer2013", split)
    assert len(records) == expected["N"]
    assert records.class_counts() == {e: expected[e] for e in EMOTIONS}
    assert records.items.shape == (expected["N"], 48, 48) and records.items.dtype == np.uint8
    assert records.modality == "face"


def test_fer2013_split_aliases(data_root):
    assert len(load_source("fer2013", "test")) == len(load_source("fer2013", "PrivateTest"))
    with pytest.raises(ValueError, match="splits"):
        load_source("fer2013", "validation_set")


@pytest.mark.parametrize("split", ["train", "validation", "test"])
def test_carer_counts_native_and_canonical(data_root, split):
    expected = source_table(data_root, "carer_emotion")[split]
    native = load_source("carer_emotion", split, labels="native")
    assert native.label_names == CARER_LABELS
    assert native.class_counts() == {name: expected[name] for name in CARER_LABELS}
    canonical = load_source("carer_emotion", split)
    assert canonical.class_counts() == canonical_counts(native.class_counts(), "carer_emotion")
    assert canonical.class_counts()["happy"] == expected["joy"] + expected["love"]


@pytest.mark.parametrize("split", ["train", "dev", "test"])
def test_meld_counts(data_root, split):
    expected = source_table(data_root, "meld_text")[split]
    records = load_source("meld_text", split)
    assert len(records) == expected["utterances"]
    native = {k: v for k, v in expected.items() if k in TO_CANONICAL["meld_text"]}
    assert records.class_counts() == canonical_counts(native, "meld_text")


def test_meld_context_prepends_previous_utterances_of_the_dialogue(data_root):
    plain = load_source("meld_text", "dev")
    context = load_source("meld_text", "dev", context=2)
    assert context.items[0] == plain.items[0]  # a dialogue's first utterance has no context
    assert context.items[1] == plain.items[0] + " | " + plain.items[1]
    assert (context.labels == plain.labels).all()


@pytest.mark.parametrize(("split", "rows"), [("train", 43410), ("dev", 5426), ("test", 5427)])
def test_goemotions_multi_label_rows_are_explicit(data_root, split, rows):
    dropped = load_source("goemotions", split)
    first = load_source("goemotions", split, multi_label="first")
    assert dropped.report["rows"] == rows == len(first)
    assert len(dropped) == rows - dropped.report["multi_label_rows"]
    assert 0 < dropped.report["multi_label_rows"] < 0.15 * rows
    assert dropped.label_names == EMOTIONS and min(dropped.class_counts().values()) > 0


def test_ravdess_actor_independent_splits(data_root):
    splits = {s: load_source("ravdess_speech", s) for s in ("train", "val", "test", "trainval")}
    assert len(splits["train"]) + len(splits["val"]) == len(splits["trainval"]) == 20 * 60
    assert len(splits["test"]) == 4 * 60
    assert len(splits["trainval"]) + len(splits["test"]) == 1440  # SOURCE.md: 24 actors x 60
    actors = {s: {int(p.split("Actor_")[1][:2]) for p in r.items} for s, r in splits.items()}
    assert actors["test"] == {21, 22, 23, 24} and not actors["test"] & actors["trainval"]
    assert not actors["train"] & actors["val"]
    # SOURCE.md: neutral 4 per actor, calm and each other emotion 8 per actor; calm -> neutral.
    assert splits["test"].class_counts() == {**dict.fromkeys(EMOTIONS, 32), "neutral": 48}
    assert splits["test"].report["calm_as_neutral"] == 32


def test_tess_counts(data_root):
    records = load_source("tess", "all")
    assert records.class_counts() == dict.fromkeys(EMOTIONS, 400)  # SOURCE.md: 400 per emotion
    assert len(load_source("tess", "OAF")) == len(load_source("tess", "YAF")) == 1400
    assert all(path.endswith(".flac") for path in records.items)


def test_missing_dataset_is_a_clear_error(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="fer2013"):
        load_source("fer2013", "train", root=tmp_path)
    with pytest.raises(ValueError, match="Unknown dataset"):
        load_source("affectnet", "train")


def test_unknown_label_names_are_listed():
    with pytest.raises(UnknownLabelError, match=r"\['bored', 'calm'\]"):
        encode_labels(["happy", "calm", "bored"], EMOTIONS)
    assert encode_labels([" HAPPY ", "joy"], EMOTIONS, {"joy": "happy"}).tolist() == [3, 3]


def test_datasets_map_to_a_custom_label_set(data_root):
    with pytest.raises(UnknownLabelError, match="disgust"):
        load_source("tess", "all", labels=["happy", "sad"])
    records = load_source(
        "carer_emotion", "test", labels=["angry", "fear", "happy", "sad", "surprise"]
    )
    assert len(records.label_names) == 5 and len(records) == 2000
