"""FER2013: 48x48 grayscale faces, 7 classes, in canonical label order."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from emozoo.data.datasets.common import (
    DatasetNotFoundError,
    encode_source_labels,
    resolve_split,
    source_root,
)
from emozoo.data.records import Records

NAME = "fer2013"
SPLITS = ("Training", "PublicTest", "PrivateTest")
ALIASES = {"train": "Training", "val": "PublicTest", "test": "PrivateTest"}


def load_fer2013(
    split: str, root: str | Path | None = None, labels: str | Sequence[str] = "canonical"
) -> Records:
    """FER2013 ``Training`` / ``PublicTest`` (validation) / ``PrivateTest`` (test)."""
    split = resolve_split(NAME, split, SPLITS, ALIASES)
    path = source_root(NAME, root) / "fer2013.npz"
    if not path.is_file():
        raise DatasetNotFoundError(f"{path} not found")
    with np.load(path, allow_pickle=False) as data:
        keep = data["split"] == split
        images = data["x"][keep]
        names = np.asarray(data["class_names"])[data["y"][keep]]
    indices, label_names = encode_source_labels(NAME, names.tolist(), labels)
    return Records(NAME, split, "face", images, indices, label_names)
