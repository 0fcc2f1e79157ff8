"""Helpers shared by the dataset adapters."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from emozoo.data.label_maps import TO_CANONICAL, encode_labels
from emozoo.labels import EMOTIONS
from emozoo.paths import data_dir


class DatasetNotFoundError(FileNotFoundError):
    """A dataset folder or file is not where it should be."""


def source_root(name: str, root: str | Path | None) -> Path:
    """``root/name`` (``root`` defaults to :func:`emozoo.paths.data_dir`), checked to exist."""
    folder = Path(root).expanduser() if root is not None else data_dir()
    folder = folder / name
    if not folder.is_dir():
        raise DatasetNotFoundError(
            f"Dataset {name!r} not found at {folder}; set EMOZOO_DATA_DIR or pass root="
        )
    return folder


def read_csv(path: Path) -> list[dict[str, str]]:
    """Rows of a UTF-8 CSV file as dicts."""
    if not path.is_file():
        raise DatasetNotFoundError(f"{path} not found")
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def resolve_split(name: str, split: str, splits: Sequence[str], aliases: dict[str, str]) -> str:
    """A dataset's own split name for ``split`` (its own name or train/val/test)."""
    split = aliases.get(split, split)
    if split not in splits:
        raise ValueError(
            f"{name} has splits {list(splits)} (aliases {sorted(aliases)}); got {split!r}"
        )
    return split


def encode_source_labels(name: str, names, labels: str | Sequence[str] = "canonical", native=None):
    """``(indices, label_names)`` for ``names`` of source ``name``.

    ``labels="canonical"`` maps through :data:`TO_CANONICAL`; ``"native"`` keeps the
    source's own label set (``native``); a sequence maps to that label set.
    """
    if isinstance(labels, str) and labels == "native":
        if native is None:
            raise ValueError(f"{name} has no native label set other than the canonical one")
        return encode_labels(names, native), tuple(native)
    label_set = EMOTIONS if isinstance(labels, str) and labels == "canonical" else tuple(labels)
    return encode_labels(names, label_set, TO_CANONICAL[name]), label_set
