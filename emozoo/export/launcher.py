"""Calling side of the export subprocess (``python -m emozoo.export.worker``).

The TFLite converter runs in a child process, so that a crash of its C++ code kills
only that process; a model on another backend is exported by a TensorFlow-backend child.
This module starts the child and turns its failures into Python errors; it imports
neither exporter, so :mod:`~emozoo.export.savedmodel`, :mod:`~emozoo.export.tflite` and
:mod:`~emozoo.export.worker` form no import cycle.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from emozoo.export import common
from emozoo.export.parity import ParityError, ParityReport, report_path

if TYPE_CHECKING:
    import numpy as np

    from emozoo.export.parity import Tolerance
    from emozoo.export.samples import Samples
    from emozoo.export.source import ExportSource


class ConverterError(RuntimeError):
    """The TFLite converter failed or crashed; the message carries its last output."""


def _worker_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(KERAS_BACKEND="tensorflow", CUDA_VISIBLE_DEVICES="", TF_CPP_MIN_LOG_LEVEL="3")
    return env


def _tail(text: str, lines: int = 25) -> str:
    kept = [line for line in text.splitlines() if line.strip()]
    return "\n".join(kept[-lines:])


def run_worker(args: list[str], what: str, timeout: float) -> None:
    """Run ``python -m emozoo.export.worker ARGS``; a crash, a time-out or an error is a
    :class:`ConverterError` (or the worker's own error type) with a clear message."""
    command = [sys.executable, "-m", "emozoo.export.worker", *args]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, env=_worker_env()
        )
    except subprocess.TimeoutExpired:
        raise ConverterError(f"{what} did not finish within {timeout:.0f} s") from None
    if done.returncode == 0:
        return
    output = _tail(done.stderr + "\n" + done.stdout) or "(none)"
    if done.returncode < 0:
        try:
            name = signal.Signals(-done.returncode).name
        except ValueError:
            name = f"signal {-done.returncode}"
        raise ConverterError(f"{what} crashed ({name}). Last output:\n{output}")
    raise ConverterError(f"{what} failed (exit {done.returncode}):\n{output}")


def export_in_tensorflow(
    fmt: str,
    source: ExportSource,
    path: Path,
    *,
    parity: Samples,
    reference: np.ndarray,
    tolerance: Tolerance,
    quantize: str | None = None,
    representative: Samples | None = None,
    timeout: float = 1800,
) -> common.ExportResult:
    """Export ``source`` from a TensorFlow-backend subprocess (the current backend is not
    TensorFlow, e.g. a model trained on JAX). Parity is checked against the outputs of
    the model as it is in this process (``reference``)."""
    import numpy as np

    with tempfile.TemporaryDirectory(prefix=".emozoo-export-", dir=path.parent) as tmp_dir:
        tmp = Path(tmp_dir)
        source.model.save(tmp / "model.keras")
        common.save_samples(parity, tmp / "parity.npz")
        np.save(tmp / "reference.npy", reference)
        if representative is not None:
            common.save_samples(representative, tmp / "representative.npz")
        spec = {
            "format": fmt,
            "model": str(tmp / "model.keras"),
            "name": source.name,
            "labels": list(source.labels),
            "preprocessing": source.preprocessing,
            "origin": f"{source.origin} (reloaded under TensorFlow from a .keras file)",
            "path": str(path),
            "quantize": quantize,
            "tolerance": dataclasses.asdict(tolerance),
            "parity": str(tmp / "parity.npz"),
            "parity_description": parity.description,
            "parity_label_names": list(parity.label_names or []),
            "reference": str(tmp / "reference.npy"),
            "representative": str(tmp / "representative.npz") if representative else None,
            "representative_description": representative.description if representative else None,
            "timeout": timeout,
            "result": str(tmp / "result.json"),
        }
        (tmp / "spec.json").write_text(json.dumps(spec))
        what = f"The {fmt} export of {source.name} under the TensorFlow backend"
        try:
            run_worker(["export", str(tmp / "spec.json")], what, timeout + 600)
        except ConverterError:
            result = tmp / "result.json"
            if not result.is_file():
                raise
            failure = json.loads(result.read_text())
            kinds = {
                "ParityError": ParityError,
                "ConverterError": ConverterError,
                "ValueError": ValueError,
                "FileNotFoundError": FileNotFoundError,
            }
            raise kinds.get(failure["error"], RuntimeError)(failure["message"]) from None
        metadata = json.loads((tmp / "result.json").read_text())["metadata"]
    parity_report = ParityReport(**json.loads(report_path(path).read_text()))
    extra = parity_report.extra
    return common.ExportResult(
        path=path,
        format=fmt,
        quantize=quantize,
        size_bytes=common.folder_size(path),
        metadata=metadata,
        parity=parity_report,
        report_path=report_path(path),
        operators=extra.get("operators"),
        float_operators=extra.get("float_operators"),
    )
