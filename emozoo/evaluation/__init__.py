"""Evaluation: metrics, per-class tables and confusion-matrix plots."""

from emozoo.evaluation.metrics import confusion_matrix, per_class, summary_metrics
from emozoo.evaluation.report import EvaluationReport, evaluate
from emozoo.evaluation.zoo import evaluate_registered, evaluation_sets

__all__ = [
    "EvaluationReport",
    "confusion_matrix",
    "evaluate",
    "evaluate_registered",
    "evaluation_sets",
    "per_class",
    "summary_metrics",
]
