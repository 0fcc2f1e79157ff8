"""What a prediction returns: probabilities, top label, modalities used, faces, reasons;
and what a video analysis returns (:class:`VideoAnalysis`, rows over time)."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas
    from matplotlib.figure import Figure


def _round(probabilities: dict[str, float], digits: int = 4) -> dict[str, float]:
    return {k: round(float(v), digits) for k, v in probabilities.items()}


def _top(probabilities: dict[str, float]) -> tuple[str | None, float | None]:
    if not probabilities:
        return None, None
    label = max(probabilities, key=probabilities.__getitem__)
    return label, float(probabilities[label])


@dataclass
class FacePrediction:
    """The prediction for one detected face (combined with the text and audio given).

    ``box`` is ``(x, y, width, height)`` in image pixels; ``contributions`` and
    ``by_modality`` are as in :class:`Prediction`; ``saliency`` is a ``48x48`` occlusion
    map in [0, 1] (``None`` unless asked for) over ``crop``, the aligned grayscale face:
    how much hiding each region lowers the probability of ``saliency_label``, the label
    the face alone predicts.
    """

    box: tuple[int, int, int, int]
    probabilities: dict[str, float]
    angle: float = 0.0
    aligned: bool = False
    contributions: dict[str, float] = field(default_factory=dict)
    by_modality: dict[str, dict[str, float]] = field(default_factory=dict)
    saliency: np.ndarray | None = field(default=None, repr=False)
    saliency_label: str | None = None
    crop: np.ndarray | None = field(default=None, repr=False)

    @property
    def top(self) -> str | None:
        return _top(self.probabilities)[0]

    @property
    def confidence(self) -> float | None:
        return _top(self.probabilities)[1]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "box": [int(v) for v in self.box],
            "angle": round(float(self.angle), 1),
            "aligned": bool(self.aligned),
            "top": self.top,
            "confidence": None if self.confidence is None else round(self.confidence, 4),
            "probabilities": _round(self.probabilities),
        }
        if self.contributions:
            out["contributions"] = _round(self.contributions)
        if self.by_modality:
            out["by_modality"] = {m: _round(p) for m, p in self.by_modality.items()}
        return out


@dataclass
class Prediction:
    """The result of :meth:`EmotionRecognizer.predict`.

    Attributes:
        probabilities: ``{label: probability}``; empty when no modality could be used.
        modalities_used: the modalities the prediction rests on.
        not_used: ``{modality: reason}`` for inputs given but not used (no face found,
            silent audio, empty text).
        contributions: leave-one-modality-out: for each modality used, the top label's
            probability minus its probability without that modality (positive: the
            modality supports the top label). With one modality, the baseline is the
            uniform distribution.
        by_modality: each modality's prediction on its own (when two or more are used).
        faces: one :class:`FacePrediction` per detected face, largest first. The
            top-level prediction is that of the largest face.
        warnings: things done to the input (text truncated, audio windows dropped).
        sources: what was read: image/audio paths, text, audio duration and windows.
        model: the model's registered name.
    """

    probabilities: dict[str, float]
    modalities_used: list[str]
    not_used: dict[str, str] = field(default_factory=dict)
    contributions: dict[str, float] = field(default_factory=dict)
    by_modality: dict[str, dict[str, float]] = field(default_factory=dict)
    faces: list[FacePrediction] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    sources: dict[str, Any] = field(default_factory=dict)
    model: str = ""

    @property
    def top(self) -> str | None:
        """The most probable label, or ``None`` when nothing could be used."""
        return _top(self.probabilities)[0]

    @property
    def confidence(self) -> float | None:
        """The top label's probability."""
        return _top(self.probabilities)[1]

    @property
    def ok(self) -> bool:
        """Whether there is a prediction (at least one modality was usable)."""
        return bool(self.probabilities)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: ``top``, ``confidence``, ``probabilities``,
        ``modalities_used``, ``not_used``, ``contributions``, ``by_modality``, ``faces``,
        ``warnings``, ``sources``, ``model``."""
        return {
            "model": self.model,
            "top": self.top,
            "confidence": None if self.confidence is None else round(self.confidence, 4),
            "probabilities": _round(self.probabilities),
            "modalities_used": list(self.modalities_used),
            "not_used": dict(self.not_used),
            "contributions": _round(self.contributions),
            "by_modality": {m: _round(p) for m, p in self.by_modality.items()},
            "faces": [face.to_dict() for face in self.faces],
            "warnings": list(self.warnings),
            "sources": dict(self.sources),
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def summary(self) -> str:
        """A few readable lines: top label, probabilities, modalities, faces, reasons."""
        lines = []
        if not self.ok:
            reasons = "; ".join(f"{m}: {r}" for m, r in self.not_used.items()) or "no input"
            lines.append(f"No prediction: nothing usable ({reasons})")
        else:
            lines.append(
                f"{self.top} ({self.confidence:.0%}) from {' + '.join(self.modalities_used)}"
            )
            ranked = sorted(self.probabilities.items(), key=lambda kv: -kv[1])
            lines.append("  " + "  ".join(f"{k} {v:.2f}" for k, v in ranked))
            if self.contributions:
                lines.append(
                    "  contributions (leave-one-out): "
                    + "  ".join(f"{m} {v:+.2f}" for m, v in self.contributions.items())
                )
            for m, probabilities in self.by_modality.items():
                label, p = _top(probabilities)
                lines.append(f"  {m} alone: {label} ({p:.0%})")
            if len(self.faces) > 1:
                for i, face in enumerate(self.faces):
                    lines.append(
                        f"  face {i + 1} at {tuple(face.box)}: {face.top} ({face.confidence:.0%})"
                    )
            for m, reason in self.not_used.items():
                lines.append(f"  {m} not used: {reason}")
        lines.extend(f"  warning: {w}" for w in self.warnings)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


def format_table(rows: Sequence[Sequence[object]], header: Sequence[str]) -> str:
    """A plain fixed-width text table.

    >>> print(format_table([["a", 1]], ["name", "n"]))
    name  n
    ----  -
    a     1
    """
    rows = [[str(c) for c in row] for row in rows]
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows, strict=True)]
    lines = [
        "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        for row in [list(header), *rows]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


@dataclass
class VideoAnalysis:
    """Per time step emotions of a video: one row per tracked face (or per step without one).

    Each row (a dict) has ``time`` (s), ``track`` (face track id, ``None`` for a step
    without a face), ``box`` (x, y, w, h or ``None``), ``top``, ``confidence``,
    ``modalities`` ("face+audio", ...), and one column per label with its probability.
    """

    path: str
    labels: tuple[str, ...]
    every: float
    duration_s: float
    fps: float
    rows: list[dict[str, Any]] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def columns(self) -> dict[str, list[Any]]:
        """``{column: values}``, in row order (what a DataFrame is built from)."""
        names = ["time", "track", "box", "top", "confidence", "modalities", *self.labels]
        return {name: [row.get(name) for row in self.rows] for name in names}

    @property
    def tracks(self) -> list[int]:
        """Face track ids, in order of first appearance."""
        return list(dict.fromkeys(r["track"] for r in self.rows if r["track"] is not None))

    def to_pandas(self) -> pandas.DataFrame:
        """The rows as a ``pandas.DataFrame`` (pandas is not an emozoo dependency)."""
        try:
            import pandas
        except ImportError:
            raise ImportError("to_pandas() needs pandas: pip install pandas") from None
        return pandas.DataFrame(self.columns)

    def to_csv(self, path: str | Path) -> Path:
        """Write the rows as CSV (box as ``x y w h``); returns the path."""
        path = Path(path)
        columns = self.columns
        with path.open("w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(list(columns))
            for row in zip(*columns.values(), strict=True):
                writer.writerow(
                    [
                        " ".join(map(str, v))
                        if isinstance(v, (list, tuple))
                        else (f"{v:.4f}" if isinstance(v, float) else ("" if v is None else v))
                        for v in row
                    ]
                )
        return path

    def summary(self) -> list[dict[str, Any]]:
        """Per track (and ``None``: steps without a face): span, steps, dominant emotion."""
        out = []
        for track in [*self.tracks, None]:
            rows = [r for r in self.rows if r["track"] == track and r["top"] is not None]
            if not rows:
                continue
            mean = {label: float(np.mean([r[label] for r in rows])) for label in self.labels}
            top = max(mean, key=mean.__getitem__)
            out.append(
                {
                    "track": track,
                    "from_s": rows[0]["time"],
                    "to_s": rows[-1]["time"],
                    "steps": len(rows),
                    "dominant": top,
                    "mean_probability": round(mean[top], 4),
                }
            )
        return out

    def table(self, max_rows: int | None = 20) -> str:
        """The rows as a fixed-width text table (the first ``max_rows``)."""
        shown = self.rows if max_rows is None else self.rows[:max_rows]
        header = ["time", "track", "top", "conf", "modalities", *self.labels]
        body = [
            [
                f"{r['time']:.2f}",
                "-" if r["track"] is None else r["track"],
                r["top"] or "-",
                "-" if r["confidence"] is None else f"{r['confidence']:.2f}",
                r["modalities"] or "-",
                *("-" if r.get(label) is None else f"{r[label]:.2f}" for label in self.labels),
            ]
            for r in shown
        ]
        text = format_table(body, header)
        if len(shown) < len(self.rows):
            text += f"\n... {len(self.rows) - len(shown)} more rows"
        return text

    def plot(self, path: str | Path | None = None) -> Figure:
        """A timeline figure: one panel per face track (and one for steps without a
        face), stacked probabilities over time. Saved as PNG when ``path`` is given."""
        from emozoo.inference.plots import plot_timeline

        return plot_timeline(self, path)
