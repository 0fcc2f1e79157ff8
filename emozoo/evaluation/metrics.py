"""Classification metrics from labels and predictions (numpy only)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def confusion_matrix(labels, predictions, num_classes: int) -> np.ndarray:
    """``(num_classes, num_classes)`` counts, rows = true class, columns = predicted."""
    labels = np.asarray(labels, np.int64)
    predictions = np.asarray(predictions, np.int64)
    if labels.shape != predictions.shape:
        raise ValueError(
            f"labels {labels.shape} and predictions {predictions.shape} differ in shape"
        )
    matrix = np.zeros((num_classes, num_classes), np.int64)
    np.add.at(matrix, (labels, predictions), 1)
    return matrix


def per_class(matrix: np.ndarray, label_names: Sequence[str]) -> list[dict]:
    """Precision, recall, F1 and support per class (0 where undefined)."""
    rows = []
    for i, name in enumerate(label_names):
        true_positive = matrix[i, i]
        support = matrix[i].sum()
        predicted = matrix[:, i].sum()
        precision = true_positive / predicted if predicted else 0.0
        recall = true_positive / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        rows.append(
            {
                "label": name,
                "precision": float(precision),
                "recall": float(recall),
                "f1": float(f1),
                "support": int(support),
            }
        )
    return rows


def summary_metrics(matrix: np.ndarray, label_names: Sequence[str]) -> dict[str, float]:
    """Accuracy, macro-F1, weighted-F1 and unweighted average recall (UAR).

    Macro averages run over the classes that occur in the labels (support > 0), so a
    test set without, say, disgust is not penalised for it.
    """
    rows = [r for r in per_class(matrix, label_names) if r["support"] > 0]
    total = matrix.sum()
    supports = np.array([r["support"] for r in rows], np.float64)
    f1 = np.array([r["f1"] for r in rows])
    recall = np.array([r["recall"] for r in rows])
    return {
        "accuracy": float(np.trace(matrix) / total) if total else 0.0,
        "macro_f1": float(f1.mean()) if len(rows) else 0.0,
        "weighted_f1": float((f1 * supports).sum() / supports.sum()) if len(rows) else 0.0,
        "uar": float(recall.mean()) if len(rows) else 0.0,
        "samples": int(total),
    }
