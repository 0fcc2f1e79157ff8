"""Evaluate a model on a dataset: metrics, per-class table and a confusion-matrix PNG."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emozoo.evaluation.metrics import confusion_matrix, per_class, summary_metrics


def write_report_files(report, folder: str | Path, stem: str, figure: str, plot) -> dict[str, Path]:
    """Write a report's ``<stem>.json`` (``to_dict``), ``<stem>.txt`` (``table``) and
    ``<stem>_<figure>.png`` (drawn by ``plot(path)``) into ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        "json": folder / f"{stem}.json",
        "table": folder / f"{stem}.txt",
        "png": folder / f"{stem}_{figure}.png",
    }
    paths["json"].write_text(json.dumps(report.to_dict(), indent=2) + "\n")
    paths["table"].write_text(report.table() + "\n")
    plot(paths["png"])
    return paths


@dataclass
class EvaluationReport:
    """What a model got right and wrong on one dataset split."""

    name: str
    label_names: tuple[str, ...]
    matrix: np.ndarray
    metrics: dict[str, float]
    classes: list[dict]

    @classmethod
    def from_predictions(
        cls, name: str, labels, probabilities, label_names: Sequence[str]
    ) -> EvaluationReport:
        predictions = np.asarray(probabilities).argmax(axis=-1)
        matrix = confusion_matrix(labels, predictions, len(label_names))
        return cls(
            name,
            tuple(label_names),
            matrix,
            summary_metrics(matrix, label_names),
            per_class(matrix, label_names),
        )

    def table(self) -> str:
        """Per-class precision / recall / F1 / support as text, then the summary."""
        lines = [
            f"{self.name}",
            f"{'label':<10} {'precision':>9} {'recall':>7} {'f1':>7} {'support':>8}",
        ]
        for row in self.classes:
            lines.append(
                f"{row['label']:<10} {row['precision']:>9.3f} {row['recall']:>7.3f} {row['f1']:>7.3f} {row['support']:>8d}"
            )
        m = self.metrics
        lines.append(
            f"accuracy {m['accuracy']:.4f}  macro-F1 {m['macro_f1']:.4f}  weighted-F1 {m['weighted_f1']:.4f}  "
            f"UAR {m['uar']:.4f}  n={m['samples']}"
        )
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "labels": list(self.label_names),
            "metrics": self.metrics,
            "per_class": self.classes,
            "confusion_matrix": self.matrix.tolist(),
        }

    def save(self, folder: str | Path, stem: str) -> dict[str, Path]:
        """Write ``<stem>.json``, ``<stem>.txt`` and ``<stem>_confusion.png`` into ``folder``."""
        return write_report_files(self, folder, stem, "confusion", self.plot_confusion)

    def plot_confusion(self, path: str | Path) -> None:
        """Row-normalised confusion matrix with counts, as a PNG."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        rows = self.matrix.sum(axis=1, keepdims=True)
        normalised = np.divide(
            self.matrix, rows, out=np.zeros(self.matrix.shape, float), where=rows > 0
        )
        size = 1.0 + 0.8 * len(self.label_names)
        fig, ax = plt.subplots(figsize=(size + 1.5, size))
        image = ax.imshow(normalised, cmap="Blues", vmin=0, vmax=1)
        ticks = range(len(self.label_names))
        ax.set_xticks(ticks, self.label_names, rotation=45, ha="right")
        ax.set_yticks(ticks, self.label_names)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        for i in ticks:
            for j in ticks:
                color = "white" if normalised[i, j] > 0.5 else "black"
                ax.text(
                    j,
                    i,
                    f"{normalised[i, j]:.2f}\n{self.matrix[i, j]}",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color=color,
                )
        m = self.metrics
        ax.set_title(
            f"{self.name}\naccuracy {m['accuracy']:.3f}, macro-F1 {m['macro_f1']:.3f}", fontsize=10
        )
        fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="fraction of true class")
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)


def evaluate(
    model, dataset, label_names: Sequence[str] | None = None, name: str = "evaluation"
) -> EvaluationReport:
    """Run ``model`` over a ``tf.data`` dataset of ``(inputs, label)`` and report.

    Labels may be int indices or one-hot rows.
    """
    from emozoo.models import get_labels

    label_names = tuple(label_names or get_labels(model) or ())
    if not label_names:
        raise ValueError("The model has no classifier labels; pass label_names")
    labels, probabilities = [], []
    for inputs, target in dataset:
        probabilities.append(np.asarray(model.predict_on_batch(inputs)))
        target = np.asarray(target)
        labels.append(target.argmax(-1) if target.ndim == 2 else target)
    if not labels:
        raise ValueError("The dataset is empty")
    return EvaluationReport.from_predictions(
        name, np.concatenate(labels), np.concatenate(probabilities), label_names
    )
