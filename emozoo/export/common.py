"""Pieces shared by the SavedModel and TFLite exporters: the result object, the samples
an export is checked and calibrated on, output paths and the TensorFlow backend guard."""

from __future__ import annotations

import logging
import shutil
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from emozoo.export.parity import ParityReport
from emozoo.export.samples import Samples, as_samples, real_samples, synthetic_samples

#: Samples used for parity unless told otherwise.
DEFAULT_PARITY_SAMPLES = 200


@dataclass
class ExportResult:
    """What an export wrote and how it compares with its Keras model.

    Attributes:
        path: the ``.tflite`` file or SavedModel folder.
        format: ``"saved_model"`` or ``"tflite"``.
        quantize: ``None``, ``"float16"``, ``"dynamic"`` or ``"int8"``.
        size_bytes: size on disk (a folder: all its files).
        metadata: what travels in the export (labels, inputs, preprocessing).
        parity: the parity check against the Keras model (also saved as JSON beside it).
        report_path: where that JSON is.
        operators: TFLite operator counts (``None`` for a SavedModel).
        float_operators: TFLite operators left computing in float32 (int8 exports).
    """

    path: Path
    format: str
    quantize: str | None
    size_bytes: int
    metadata: dict[str, Any]
    parity: ParityReport
    report_path: Path
    operators: dict[str, int] | None = None
    float_operators: dict[str, int] | None = field(default=None)

    def summary(self) -> str:
        kind = self.format + (f" ({self.quantize})" if self.quantize else "")
        lines = [f"wrote {self.path} [{kind}, {self.size_bytes / 2**20:.2f} MiB]"]
        if self.operators is not None:
            lines.append(
                f"  {sum(self.operators.values())} operators, builtin only: "
                + ", ".join(f"{k} {v}" for k, v in Counter(self.operators).most_common(6))
                + (" ..." if len(self.operators) > 6 else "")
            )
        if self.float_operators:
            lines.append(
                "  computed in float32: "
                + ", ".join(f"{k} {v}" for k, v in sorted(self.float_operators.items()))
            )
        lines.append("  " + self.parity.summary())
        lines.append(f"  report: {self.report_path}")
        return "\n".join(lines)


logger = logging.getLogger("emozoo.export")


def step(message: str) -> None:
    """A stage of a long export, logged at INFO (the CLI shows them)."""
    logger.info(message)


def notice(message: str) -> None:
    """A notice the user must see (printed to stderr, not a log line)."""
    print(f"emozoo export: notice: {message}", file=sys.stderr, flush=True)


def parity_samples(source, parity_data, n: int | None, seed: int = 0) -> Samples:
    """The samples an export is checked on.

    ``"auto"``: real test samples where the datasets are present and fit the model,
    otherwise synthetic inputs with a printed notice. Anything else is taken as given
    (see :func:`~emozoo.export.samples.as_samples`).
    """
    n = DEFAULT_PARITY_SAMPLES if n is None else n
    if n < 1:
        raise ValueError(f"The number of parity samples must be at least 1, got {n}")
    if isinstance(parity_data, str):
        if parity_data != "auto":
            raise ValueError(f"parity_data must be 'auto' or samples, got {parity_data!r}")
        step(f"loading {n} real test samples for the parity check")
        try:
            return real_samples(source, "test", n=n, seed=seed)
        except (FileNotFoundError, ValueError) as error:
            notice(
                f"no real test samples for {source.name} ({error}); checking parity on "
                f"{n} SYNTHETIC inputs instead. Accuracy is not measured."
            )
            return synthetic_samples(source, n, seed=seed)
    return as_samples(parity_data, source.model, "parity_data").take(n)


def representative_samples(source, data, n: int, seed: int = 0) -> Samples:
    """Calibration samples for int8: ``"auto"`` = real training samples (an error where
    the datasets are absent), else the given samples."""
    if isinstance(data, str):
        if data != "auto":
            raise ValueError(f"representative_data must be 'auto' or samples, got {data!r}")
        step(f"loading {n} real training samples to calibrate int8")
        try:
            return real_samples(source, "train", n=n, seed=seed)
        except FileNotFoundError as error:
            raise FileNotFoundError(
                f"representative_data='auto' reads real training samples, but {error}. Set "
                "EMOZOO_DATA_DIR, or pass your own samples (emozoo.export.synthetic_samples "
                "gives made-up ones, which make a poorly calibrated model)"
            ) from None
    samples = as_samples(data, source.model, "representative_data")
    return samples.take(n) if n else samples


def prepare_output(path: str | Path, kind: str) -> Path:
    """Check that ``path`` may be (over)written by an export of ``kind``; make its folder."""
    path = Path(path).expanduser().resolve()
    if kind == "tflite":
        if path.suffix != ".tflite":
            raise ValueError(f"A TFLite export needs a path ending in .tflite, got {path}")
        if path.is_dir():
            raise ValueError(f"{path} is a folder; a TFLite export is one file")
    else:
        if path.suffix in (".tflite", ".keras", ".h5"):
            raise ValueError(f"A SavedModel is a folder; {path.name} looks like a file name")
        if path.is_file():
            raise ValueError(f"{path} is a file; a SavedModel export is a folder")
        if path.is_dir() and any(path.iterdir()) and not (path / "saved_model.pb").is_file():
            raise ValueError(
                f"{path} is a non-empty folder that is not a SavedModel; not overwriting it"
            )
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def replace_path(source: Path, target: Path) -> None:
    """Move ``source`` to ``target``, replacing an older export there."""
    if target.is_dir():
        shutil.rmtree(target)
    elif target.exists():
        target.unlink()
    shutil.move(str(source), str(target))


def folder_size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def on_tensorflow() -> bool:
    import keras

    return keras.backend.backend() == "tensorflow"


def save_samples(samples: Samples, path: Path) -> None:
    arrays: dict[str, Any] = {f"input:{k}": v for k, v in samples.inputs.items()}
    if samples.labels is not None:
        arrays["labels"] = samples.labels
    np.savez(path, **arrays)


def load_samples(path: Path, description: str, label_names=None) -> Samples:
    with np.load(path, allow_pickle=False) as data:
        inputs = {k.removeprefix("input:"): data[k] for k in data.files if k.startswith("input:")}
        labels = data["labels"] if "labels" in data.files else None
    return Samples(inputs, labels, tuple(label_names) if label_names else None, description)


__all__ = [
    "DEFAULT_PARITY_SAMPLES",
    "ExportResult",
    "folder_size",
    "notice",
    "on_tensorflow",
    "parity_samples",
    "prepare_output",
    "replace_path",
    "representative_samples",
]
