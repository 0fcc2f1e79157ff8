"""Which model to pick: the most accurate and the fastest pretrained model for each kind
of input, read from the cards.

Models are compared only with models judged on the same test set by the same metric
(their card's ``headline``): accuracy from the cards' figures, speed from the LiteRT
latency ``tools/bench_lite.py`` records beside fer's face classifier (``lite.latency``:
a ratio measured in one run on one core, since absolute times differ between machines).
"""

from __future__ import annotations

from dataclasses import dataclass

from emozoo.registry.entry import ModelEntry
from emozoo.registry.registry import get_entry, list_models

#: How the picks' groups are named, by the modalities their models take.
TASK_NAMES = {
    ("face",): "a face photo",
    ("text",): "a text",
    ("audio",): "speech",
    ("face_au",): "facial action units (OpenFace / py-feat)",
    ("face", "text", "audio"): "face + text + speech",
    ("face_au", "audio"): "facial action units + speech",
}


#: Latency ratios this close (relative) count as the same speed: timing noise.
SAME_SPEED = 0.1


@dataclass(frozen=True)
class ModelPick:
    """The most accurate and the fastest model among those judged on one test set.

    Attributes:
        task: what the models take, in words (``"speech"``).
        test_set: the cards' headline test set; ``metric`` its metric.
        most_accurate: the model with the best figure, and ``accuracy`` that figure.
        fastest: the model with the lowest measured LiteRT latency ratio (the most accurate
            of those within :data:`SAME_SPEED` of it; ``None`` when no model of the group
            has one), ``fastest_ratio`` that ratio to fer's face
            classifier and ``fastest_figure`` its figure on the test set.
        needs_speakers: models of the group that standardise each speaker's inputs
            (they take ``speakers=`` and several items of each person).
        per_clip: where the most accurate model needs speakers, the most accurate one
            that takes a single clip (``per_clip_figure`` its figure), if any.
    """

    task: str
    test_set: str
    metric: str
    most_accurate: str
    accuracy: float
    fastest: str | None = None
    fastest_ratio: float | None = None
    fastest_figure: float | None = None
    needs_speakers: tuple[str, ...] = ()
    per_clip: str | None = None
    per_clip_figure: float | None = None

    def describe(self) -> str:
        """One line: ``speech (ravdess_speech/test accuracy): most accurate ...``."""
        line = (
            f"{self.task} ({self.test_set}, {self.metric.replace('_', ' ')}): most accurate "
            f"{self.most_accurate} ({figure(self.metric, self.accuracy)})"
        )
        if self.fastest is None:
            line += "; fastest: no LiteRT speed measured"
        elif self.fastest == self.most_accurate:
            line += f", also the fastest ({self.fastest_ratio:g}x fer's face classifier)"
        else:
            assert self.fastest_figure is not None
            line += (
                f"; fastest {self.fastest} ({self.fastest_ratio:g}x fer's face classifier, "
                f"{figure(self.metric, self.fastest_figure)})"
            )
        if self.needs_speakers:
            line += f" [{', '.join(self.needs_speakers)}: several recordings per person]"
        if self.per_clip is not None:
            assert self.per_clip_figure is not None
            line += (
                f"; for one clip at a time: {self.per_clip} "
                f"({figure(self.metric, self.per_clip_figure)})"
            )
        return line


def figure(metric: str, value: float) -> str:
    """``71.3%`` for accuracies and recalls, ``0.573`` for F1 scores."""
    return f"{value:.1%}" if metric in ("accuracy", "uar") else f"{value:.3f}"


def _headline(entry: ModelEntry) -> tuple[str, str, float] | None:
    """``(test set, metric, value)`` of a pretrained card's headline, if recorded."""
    if entry.weights is None or not entry.headline.get("set"):
        return None
    test_set, metric = entry.headline["set"], entry.headline.get("metric", "accuracy")
    value = entry.weights.metrics.get(test_set, {}).get(metric)
    return None if value is None else (test_set, metric, float(value))


def latency_ratio(entry: ModelEntry) -> float | None:
    """The card's LiteRT latency as a multiple of fer's face classifier, if measured."""
    ratio = (entry.lite or {}).get("latency", {}).get("ratio_to_fer")
    return None if ratio is None else float(ratio)


def model_picks() -> list[ModelPick]:
    """One :class:`ModelPick` per group of pretrained models sharing a headline test set
    and metric, in the order of :data:`TASK_NAMES` then by name.

    >>> [p.task for p in model_picks()][:3]  # doctest: +SKIP
    ['a face photo', 'a text', 'speech']
    """
    groups: dict[tuple, list[tuple[str, float]]] = {}
    for name in list_models(pretrained=True):
        entry = get_entry(name)
        headline = _headline(entry)
        if headline is None:
            continue
        test_set, metric, value = headline
        groups.setdefault((entry.modalities, test_set, metric), []).append((name, value))
    order = list(TASK_NAMES)
    picks = []
    for (modalities, test_set, metric), members in sorted(
        groups.items(),
        key=lambda kv: (order.index(kv[0][0]) if kv[0][0] in order else len(order), kv[0]),
    ):
        best, best_value = max(members, key=lambda m: m[1])
        timed = [
            (name, ratio, value)
            for name, value in members
            if (ratio := latency_ratio(get_entry(name))) is not None
        ]
        fastest: tuple = (None, None, None)
        if timed:
            # Within SAME_SPEED of the quickest counts as as fast (timing noise): the more
            # accurate of those is named.
            quickest = min(ratio for _, ratio, _ in timed)
            fastest = max(
                (t for t in timed if t[1] <= quickest * (1 + SAME_SPEED)), key=lambda t: t[2]
            )
        needs = tuple(n for n, _ in members if get_entry(n).speaker_normalisation is not None)
        per_clip: tuple = (None, None)
        if best in needs:
            single = [(n, v) for n, v in members if n not in needs]
            per_clip = max(single, key=lambda m: m[1]) if single else per_clip
        picks.append(
            ModelPick(
                task=TASK_NAMES.get(modalities, " + ".join(modalities)),
                test_set=test_set,
                metric=metric,
                most_accurate=best,
                accuracy=best_value,
                fastest=fastest[0],
                fastest_ratio=fastest[1],
                fastest_figure=fastest[2],
                needs_speakers=needs,
                per_clip=per_clip[0],
                per_clip_figure=per_clip[1],
            )
        )
    return picks


__all__ = ["SAME_SPEED", "ModelPick", "TASK_NAMES", "figure", "latency_ratio", "model_picks"]
