"""Evaluation reports and the files they save."""

from __future__ import annotations

import json

import numpy as np

from emozoo.evaluation import EvaluationReport


def test_report_files(tmp_path):
    probabilities = np.eye(3)[[0, 1, 2, 2]]
    report = EvaluationReport.from_predictions("toy", [0, 1, 2, 1], probabilities, ["x", "y", "z"])
    paths = report.save(tmp_path, "toy")
    assert json.loads(paths["json"].read_text())["metrics"]["accuracy"] == 0.75
    assert "accuracy 0.7500" in paths["table"].read_text()
    assert (
        paths["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and paths["png"].stat().st_size > 5000
    )
