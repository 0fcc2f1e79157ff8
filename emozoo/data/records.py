"""``Records``: a dataset split as plain columns, before it becomes a ``tf.data.Dataset``.

Adapters return records so that counts, label maps and pair lists can be checked
and built with numpy alone; :mod:`emozoo.data.pipeline` turns them into tf.data.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class Records:
    """One split of one source, one modality.

    Attributes:
        name: source name, for example ``"fer2013"``.
        split: split name, for example ``"PrivateTest"``.
        modality: ``"face"``, ``"text"`` or ``"audio"``.
        items: uint8 images ``(n, h, w)``, a list of texts, or a list of audio file paths.
        labels: int64 ``(n,)`` indices into ``label_names``.
        label_names: the label set ``labels`` index into (canonical unless asked otherwise).
        report: what the adapter dropped or changed, with counts (nothing is silent).
    """

    name: str
    split: str
    modality: str
    items: Any
    labels: np.ndarray
    label_names: tuple[str, ...]
    report: dict[str, int] = field(default_factory=dict)

    def __post_init__(self):
        self.labels = np.asarray(self.labels, dtype=np.int64)
        self.label_names = tuple(self.label_names)
        if len(self.items) != len(self.labels):
            raise ValueError(
                f"{self.name}/{self.split}: {len(self.items)} items but {len(self.labels)} labels"
            )

    def __len__(self) -> int:
        return len(self.labels)

    def class_counts(self) -> dict[str, int]:
        """``{label name: count}`` in label order (zero counts included)."""
        counts = Counter(self.labels.tolist())
        return {name: counts.get(i, 0) for i, name in enumerate(self.label_names)}

    def subset(self, indices) -> Records:
        """The records at ``indices`` (same source, split and labels)."""
        indices = np.asarray(indices, dtype=np.int64)
        if isinstance(self.items, np.ndarray):
            items = self.items[indices]
        else:
            items = [self.items[i] for i in indices]
        return Records(
            self.name,
            self.split,
            self.modality,
            items,
            self.labels[indices],
            self.label_names,
            dict(self.report),
        )

    def __repr__(self) -> str:
        return f"Records({self.name}/{self.split}, {self.modality}, n={len(self)}, labels={len(self.label_names)})"


def sample_indices(total: int, count, where: str = "") -> np.ndarray:
    """A fixed random subset of ``count`` of ``range(total)`` (seed 0), in ascending order:
    the quick-check subsets of recipes and evaluations. ``where`` names the source in the
    error message."""
    if not isinstance(count, int) or not 0 < count <= total:
        raise ValueError(f"sample must be an int in 1..{total}{where}, got {count!r}")
    return np.sort(np.random.default_rng(0).permutation(total)[:count])


def concat_records(parts: list[Records]) -> Records:
    """One :class:`Records` of several sources of the same modality and label set."""
    if len({(p.modality, p.label_names) for p in parts}) != 1:
        raise ValueError("Records to join must share modality and label set")
    first = parts[0]
    items: np.ndarray | list[Any]
    if isinstance(first.items, np.ndarray):
        items = np.concatenate([p.items for p in parts])
    else:
        items = [item for p in parts for item in p.items]
    name = "+".join(f"{p.name}/{p.split}" for p in parts)
    return Records(
        name,
        first.split,
        first.modality,
        items,
        np.concatenate([p.labels for p in parts]),
        first.label_names,
    )
