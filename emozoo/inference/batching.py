"""The inference planner: which rows the fusion head runs, and in which batches.

Every caller that runs a model on raw inputs (:class:`~emozoo.EmotionRecognizer`,
:func:`~emozoo.inference.video.analyze_video`, :class:`~emozoo.streaming.LiveAnalyzer`,
and through the recognizer the server and the batch jobs) works in two steps:

1. each modality's inputs are preprocessed and encoded once, in batches, into an
   embedding *bank* (``runner.encode``: one row per face crop, text, audio window...);
2. the head runs on *rows*: a row names, for each modality it uses, a position in that
   modality's bank (a face with the second audio window, the text alone, ...).

A :class:`HeadPlan` collects the rows, keeps one copy of rows asked for twice, and runs
them grouped by the modalities they use, one ``runner.classify`` call per group: a
head pass per row, whatever the number of faces, windows and leave-one-out variants.
:func:`plan_prediction` asks for the rows of one prediction: every combination of its
modalities' positions, and with contributions the same without each modality and each
modality alone.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from emozoo.inference.runner import Runner


class HeadPlan:
    """Head rows as positions in per-modality embedding banks, deduplicated, run grouped
    by the set of modalities they use.

    >>> plan = HeadPlan()
    >>> plan.add({"text": 0}), plan.add({"text": 0, "audio": 1}), plan.add({"text": 0})
    (0, 1, 0)
    >>> len(plan), plan.groups()
    (2, {('text',): [0], ('audio', 'text'): [1]})
    """

    def __init__(self) -> None:
        self._index: dict[tuple[tuple[str, int], ...], int] = {}
        self._rows: list[dict[str, int]] = []

    def add(self, row: Mapping[str, int | None]) -> int:
        """The index of the head row using ``row``'s bank positions (``None``: the modality
        is absent); a row asked for before keeps its index."""
        key = tuple(sorted((m, int(p)) for m, p in row.items() if p is not None))
        if not key:
            raise ValueError("A head row needs at least one modality")
        index = self._index.setdefault(key, len(self._index))
        if index == len(self._rows):
            self._rows.append(dict(key))
        return index

    def __len__(self) -> int:
        return len(self._rows)

    def groups(self) -> dict[tuple[str, ...], list[int]]:
        """``{modalities (sorted): row indices}``: the head calls :meth:`run` makes, in order."""
        out: dict[tuple[str, ...], list[int]] = {}
        for index, row in enumerate(self._rows):
            out.setdefault(tuple(row), []).append(index)
        return out

    def run(self, runner: Runner, banks: Mapping[str, np.ndarray]) -> np.ndarray:
        """Class probabilities ``(len(self), labels)``: one ``runner.classify`` call per
        set of modalities, on the bank rows its head rows name (none for an empty plan)."""
        out = np.zeros((len(self._rows), len(runner.labels)), np.float32)
        for modalities, indices in self.groups().items():
            features = {m: banks[m][[self._rows[i][m] for i in indices]] for m in modalities}
            out[indices] = runner.classify(features)
        return out


@dataclass
class PredictionRows:
    """The head rows of one prediction; the probabilities of each entry are the mean over
    its rows (several when a modality has several positions, e.g. audio windows).

    Attributes:
        full: every modality given.
        without: for each modality, the rest without it (``None`` when nothing is left).
        alone: for each modality, that modality alone (only with two or more modalities).
    """

    full: list[int]
    without: dict[str, list[int] | None] = field(default_factory=dict)
    alone: dict[str, list[int]] = field(default_factory=dict)


def plan_rows(plan: HeadPlan, positions: Mapping[str, Sequence[int]]) -> list[int]:
    """Head rows for every combination of ``positions`` (modality -> bank positions), the
    first modality varying slowest."""
    modalities = list(positions)
    return [
        plan.add(dict(zip(modalities, combination, strict=True)))
        for combination in itertools.product(*(positions[m] for m in modalities))
    ]


def plan_prediction(
    plan: HeadPlan, positions: Mapping[str, Sequence[int]], contributions: bool
) -> PredictionRows:
    """The rows of one prediction from the given modalities' bank positions (in the
    model's modality order; each non-empty): all of them, and with ``contributions``
    each leave-one-out set and each modality alone."""
    present = list(positions)
    rows = PredictionRows(full=plan_rows(plan, positions))
    if contributions:
        for modality in present:
            rest = {m: positions[m] for m in present if m != modality}
            rows.without[modality] = plan_rows(plan, rest) if rest else None
            if len(present) > 1:
                rows.alone[modality] = plan_rows(plan, {modality: positions[modality]})
    return rows


def mean_probabilities(probabilities: np.ndarray, rows: Sequence[int]) -> np.ndarray:
    """The mean of head ``rows``' probabilities (one prediction over audio windows)."""
    return np.asarray(probabilities[list(rows)].mean(axis=0))


__all__ = ["HeadPlan", "PredictionRows", "mean_probabilities", "plan_prediction", "plan_rows"]
