"""Parity of an export with its Keras model: the largest difference of probabilities and
the top-1 agreement on the same samples, checked against a tolerance per format.

Each export gets a JSON report beside it (``face_int8.tflite`` ->
``face_int8.parity.json``, SavedModel folder ``fusion_sm`` -> ``fusion_sm.parity.json``).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Tolerance:
    """Largest allowed ``max |p_export - p_keras|`` and smallest top-1 agreement."""

    max_abs_diff: float
    min_top1_agreement: float

    def __post_init__(self):
        if not 0 <= self.max_abs_diff <= 1 or not 0 <= self.min_top1_agreement <= 1:
            raise ValueError(f"Tolerance values must lie in [0, 1], got {self}")


#: Default tolerances, per (format, quantize). Set from the pretrained models' parity on
#: real test samples with a margin (see the README's Export section).
DEFAULT_TOLERANCES: dict[tuple[str, str | None], Tolerance] = {
    ("saved_model", None): Tolerance(1e-4, 1.0),
    ("tflite", None): Tolerance(1e-3, 0.99),
    ("tflite", "float16"): Tolerance(0.02, 0.98),
    ("tflite", "dynamic"): Tolerance(0.15, 0.93),
    # int8: a sample near a decision boundary can move most of its probability mass (the
    # pretrained cnn_lstm_fusion: max |dp| 0.69 over 200 test samples at 97.5% top-1
    # agreement, and higher accuracy than Keras), so agreement is the real check here; the
    # bound on |dp| only catches a broken file.
    ("tflite", "int8"): Tolerance(0.9, 0.85),
}


def default_tolerance(fmt: str, quantize: str | None) -> Tolerance:
    return DEFAULT_TOLERANCES[(fmt, quantize)]


def as_tolerance(value, fmt: str, quantize: str | None) -> Tolerance:
    """``None`` (the default of the format), a :class:`Tolerance`, a dict of its fields,
    or a number (the largest allowed probability difference, default top-1 agreement)."""
    default = default_tolerance(fmt, quantize)
    if value is None:
        return default
    if isinstance(value, Tolerance):
        return value
    if isinstance(value, dict):
        unknown = set(value) - {"max_abs_diff", "min_top1_agreement"}
        if unknown:
            raise ValueError(f"Unknown tolerance fields {sorted(unknown)}")
        return Tolerance(**{**asdict(default), **value})
    if isinstance(value, (int, float)):
        return Tolerance(float(value), default.min_top1_agreement)
    raise TypeError(
        f"tolerance must be a number, a dict or a Tolerance, not {type(value).__name__}"
    )


@dataclass
class ParityReport:
    """How an export's outputs compare with its Keras model's on the same samples."""

    export: str
    format: str
    quantize: str | None
    samples: int
    sample_source: str
    real_samples: bool
    max_abs_diff: float
    mean_abs_diff: float
    top1_agreement: float
    tolerance: dict
    passed: bool
    runtime: str
    keras_accuracy: float | None = None
    export_accuracy: float | None = None
    extra: dict = field(default_factory=dict)

    def summary(self) -> str:
        """One line for the console."""
        line = (
            f"parity on {self.samples} {'real' if self.real_samples else 'SYNTHETIC'} samples "
            f"({self.sample_source}): max |dp| {self.max_abs_diff:.2e} "
            f"(<= {self.tolerance['max_abs_diff']:g}), top-1 agreement {self.top1_agreement:.1%} "
            f"(>= {self.tolerance['min_top1_agreement']:.0%})"
        )
        if self.keras_accuracy is not None:
            line += f", accuracy {self.export_accuracy:.1%} (Keras {self.keras_accuracy:.1%})"
        return line + (" -> passed" if self.passed else " -> FAILED")

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(json.dumps(asdict(self), indent=2) + "\n")
        return path


def report_path(export_path: str | Path) -> Path:
    """Where the parity report of ``export_path`` goes (beside it)."""
    export_path = Path(export_path)
    if export_path.suffix == ".tflite":
        return export_path.with_suffix(".parity.json")
    return export_path.with_name(export_path.name + ".parity.json")


def compare(
    reference: np.ndarray,
    exported: np.ndarray,
    *,
    export: str,
    fmt: str,
    quantize: str | None,
    samples,
    tolerance: Tolerance,
    runtime: str,
    extra: dict | None = None,
) -> ParityReport:
    """A :class:`ParityReport` of ``exported`` against ``reference`` probabilities."""
    reference, exported = np.asarray(reference, np.float64), np.asarray(exported, np.float64)
    if reference.shape != exported.shape:
        raise RuntimeError(
            f"The export's outputs have shape {exported.shape}, the Keras model's {reference.shape}"
        )
    if not np.all(np.isfinite(exported)):
        raise RuntimeError(f"{export} produced NaN or infinite outputs")
    diff = np.abs(reference - exported)
    agreement = float(np.mean(reference.argmax(-1) == exported.argmax(-1)))
    keras_accuracy = export_accuracy = None
    if samples.labels is not None:
        keras_accuracy = float(np.mean(reference.argmax(-1) == samples.labels))
        export_accuracy = float(np.mean(exported.argmax(-1) == samples.labels))
    max_diff = float(diff.max())
    return ParityReport(
        export=str(export),
        format=fmt,
        quantize=quantize,
        samples=len(reference),
        sample_source=samples.description,
        real_samples=samples.real,
        max_abs_diff=max_diff,
        mean_abs_diff=float(diff.mean()),
        top1_agreement=agreement,
        tolerance=asdict(tolerance),
        passed=max_diff <= tolerance.max_abs_diff and agreement >= tolerance.min_top1_agreement,
        runtime=runtime,
        keras_accuracy=keras_accuracy,
        export_accuracy=export_accuracy,
        extra=dict(extra or {}),
    )


class ParityError(RuntimeError):
    """An export's outputs differ from its Keras model's beyond the tolerance."""


__all__ = [
    "DEFAULT_TOLERANCES",
    "ParityError",
    "ParityReport",
    "Tolerance",
    "as_tolerance",
    "compare",
    "default_tolerance",
    "report_path",
]
