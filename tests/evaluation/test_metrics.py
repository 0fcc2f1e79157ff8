"""Metrics on a hand-checked example."""

from __future__ import annotations

import pytest

from emozoo.evaluation import confusion_matrix, summary_metrics


def test_metrics_on_a_hand_checked_example():
    labels = [0, 0, 0, 1, 1, 2]
    predictions = [0, 0, 1, 1, 2, 2]
    matrix = confusion_matrix(labels, predictions, 4)
    assert matrix.tolist() == [[2, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 0], [0, 0, 0, 0]]
    metrics = summary_metrics(matrix, ["a", "b", "c", "d"])
    assert metrics["accuracy"] == pytest.approx(4 / 6)
    # per class F1: a 0.8, b 0.5, c 0.6667; class d has no support and is left out
    assert metrics["macro_f1"] == pytest.approx((0.8 + 0.5 + 2 / 3) / 3)
    assert metrics["weighted_f1"] == pytest.approx((0.8 * 3 + 0.5 * 2 + 2 / 3) / 6)
    assert metrics["uar"] == pytest.approx((2 / 3 + 1 / 2 + 1) / 3)
    with pytest.raises(ValueError, match="differ in shape"):
        confusion_matrix([0, 1], [0], 2)
