"""Speech datasets: RAVDESS (actor-independent splits) and TESS."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from emozoo.data.datasets.common import encode_source_labels, read_csv, resolve_split, source_root
from emozoo.data.records import Records

#: RAVDESS actor-independent protocol: 1-18 train, 19-20 validation, 21-24 test.
RAVDESS_ACTORS = {
    "train": range(1, 19),
    "val": range(19, 21),
    "trainval": range(1, 21),
    "test": range(21, 25),
}


def load_ravdess(
    split: str, root: str | Path | None = None, labels: str | Sequence[str] = "canonical"
) -> Records:
    """RAVDESS speech by actor: ``train`` (1-18), ``val`` (19-20), ``trainval`` (1-20), ``test`` (21-24).

    Calm is mapped to neutral (8 acted emotions -> the 7 canonical ones).
    """
    name = "ravdess_speech"
    split = resolve_split(name, split, tuple(RAVDESS_ACTORS), {"validation": "val"})
    folder = source_root(name, root)
    rows = [r for r in read_csv(folder / "labels.csv") if int(r["actor"]) in RAVDESS_ACTORS[split]]
    indices, label_names = encode_source_labels(name, [r["emotion"] for r in rows], labels)
    paths = [str(folder / r["path"]) for r in rows]
    report = {"calm_as_neutral": sum(r["emotion"] == "calm" for r in rows)}
    return Records(name, split, "audio", paths, indices, label_names, report)


def load_tess(
    split: str = "all", root: str | Path | None = None, labels: str | Sequence[str] = "canonical"
) -> Records:
    """TESS: ``all`` (alias ``train``), or one speaker ``OAF`` / ``YAF``.

    Only two speakers, so it serves as extra training data, not as a test set.
    """
    name = "tess"
    split = resolve_split(name, split, ("all", "OAF", "YAF"), {"train": "all"})
    folder = source_root(name, root)
    rows = [r for r in read_csv(folder / "labels.csv") if split in ("all", r["speaker"])]
    indices, label_names = encode_source_labels(name, [r["emotion"] for r in rows], labels)
    return Records(
        name, split, "audio", [str(folder / r["path"]) for r in rows], indices, label_names
    )
