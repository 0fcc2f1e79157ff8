"""TFLite export: builtin operators only, float32 / float16 / dynamic-range / int8.

The model is copied for a CPU, traced into a batch-1 SavedModel (Keras 3 models cannot
go through ``TFLiteConverter.from_keras_model``, and ``model.export(format="litert")``
enables ``SELECT_TF_OPS``), then converted in a subprocess with
``supported_ops=[TFLITE_BUILTINS]`` only, so that a converter crash becomes an error
message instead of a dead Python process.

Recurrent layers: at a fixed batch of 1 the float formats keep Keras's while loop as a
builtin ``WHILE`` operator. Integer calibration of that loop crashes the converter
(TensorFlow 2.21), so for ``int8`` the recurrent layers are unrolled over their fixed
number of steps (same weights): plain LSTMs and ``Bidirectional(LSTM)`` by
:class:`~emozoo.export.lite_layers.UnrolledLSTM`, which needs far fewer operators than
Keras's unrolled cell, other recurrent layers by Keras's ``unroll=True``.

``int8`` is integer quantization calibrated on a representative dataset: weights and
activations are int8 except in the few places int8 cannot represent (the log-mel front
end, attention pooling, Transformer blocks, degenerate ranges: see
:mod:`emozoo.export.quantization`); the result lists the operators left in float32.
Inputs and outputs stay float32 (int32 token ids) so that every format is fed the same
way.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emozoo.export import common
from emozoo.export.flatbuffer import (
    float_operator_counts,
    non_builtin_operators,
    operator_counts,
    with_metadata,
)
from emozoo.export.launcher import ConverterError, export_in_tensorflow, run_worker
from emozoo.export.metadata import build_metadata, tflite_entries
from emozoo.export.parity import ParityError, as_tolerance, compare, report_path
from emozoo.export.quantization import float_layers
from emozoo.export.runtime import TFLiteModel, keras_predict
from emozoo.export.savedmodel import input_specs, write_archive
from emozoo.export.source import export_copy, has_recurrent_layers, resolve

if TYPE_CHECKING:
    import keras
    import numpy as np

    from emozoo.export.parity import Tolerance
    from emozoo.export.samples import SampleData, Samples
    from emozoo.export.source import ExportSource

#: ``quantize`` values: ``None`` keeps float32 weights and activations.
QUANTIZE_MODES = (None, "float16", "dynamic", "int8")
#: Calibration samples drawn for int8 unless told otherwise.
DEFAULT_CALIBRATION_SAMPLES = 200


def check_quantize(quantize: str | None) -> str | None:
    """Normalise ``quantize`` (``"none"`` and ``"float32"`` mean ``None``)."""
    if quantize in (None, "none", "float32"):
        return None
    if quantize not in QUANTIZE_MODES:
        raise ValueError(
            f"quantize must be one of None, 'float16', 'dynamic', 'int8'; got {quantize!r}"
        )
    return quantize


def convert_saved_model(
    saved_model: Path,
    output: Path,
    quantize: str | None,
    representative: Path | None = None,
    timeout: float = 1800,
    what: str = "The TFLite conversion",
    float_layers: list[str] | None = None,
) -> bytes:
    """Convert a batch-1 SavedModel to TFLite builtin operators in a subprocess.

    For int8, ``float_layers`` names layers kept in float32 (see
    :mod:`emozoo.export.quantization`).
    """
    spec = {
        "saved_model": str(saved_model),
        "output": str(output),
        "quantize": quantize,
        "representative": str(representative) if representative else None,
        "float_layers": list(float_layers or []),
    }
    spec_path = output.with_suffix(".spec.json")
    spec_path.write_text(json.dumps(spec))
    try:
        run_worker(["convert", str(spec_path)], what, timeout)
    except ConverterError as error:
        if quantize == "int8" and "crashed" in str(error):
            raise ConverterError(
                f"{error}\nInteger calibration of a recurrent layer exported as a while loop "
                "crashes the TensorFlow 2.21 converter; emozoo's exporter unrolls recurrent "
                "layers for int8 (emozoo.export.source.export_copy(model, unroll=True))."
            ) from None
        raise
    if not output.is_file():
        raise ConverterError(f"{what} wrote no file")
    return output.read_bytes()


def _check_copy(
    model: keras.Model,
    source: ExportSource,
    parity: Samples,
    reference: np.ndarray,
    count: int = 8,
) -> None:
    """The export copy (unrolled, with stand-in layers) must compute what the model does."""
    rows = {k: v[:count] for k, v in parity.inputs.items()}
    copied = keras_predict(model, rows)
    diff = float(abs(copied - reference[:count]).max())
    if diff > 1e-4:
        raise RuntimeError(
            f"The copy of {source.name} prepared for TFLite (recurrent layers unrolled, "
            f"stand-in layers) differs from the model by {diff:.2g} in probability; "
            "this is a bug in the export, please report it"
        )


def export_tflite(
    source: ExportSource,
    path: Path,
    *,
    quantize: str | None,
    representative: Samples | None,
    parity: Samples,
    reference: np.ndarray,
    tolerance: Tolerance,
    timeout: float = 1800,
) -> common.ExportResult:
    """Convert, label and check an already resolved source (TensorFlow backend)."""
    recurrent = has_recurrent_layers(source.model)
    unroll = quantize == "int8" and recurrent
    model = export_copy(source.model, unroll=unroll, lite=True, quantize=quantize)
    _check_copy(model, source, parity, reference)
    kept_float = float_layers(model) if quantize == "int8" else []
    metadata = build_metadata(
        source,
        fmt="tflite",
        quantize=quantize,
        input_specs=input_specs(model, 1),
        batch_size=1,
    )
    metadata["export"]["io_dtype"] = "float32 (int32 token ids)"
    if recurrent:
        metadata["export"]["recurrent_layers"] = "unrolled" if unroll else "while loop"
    if representative is not None:
        metadata["export"]["calibration"] = (
            f"{len(representative)} samples: {representative.description}"
        )
        metadata["export"]["float_layers"] = kept_float
    what = f"The TFLite conversion of {source.name} (quantize={quantize})"
    with tempfile.TemporaryDirectory(prefix=".emozoo-export-", dir=path.parent) as tmp_dir:
        tmp = Path(tmp_dir)
        common.step(
            "tracing the model at batch 1" + (" (recurrent layers unrolled)" if unroll else "")
        )
        write_archive(model, tmp / "saved_model", batch_size=1)
        calibration = None
        if representative is not None:
            calibration = tmp / "representative.npz"
            common.save_samples(representative, calibration)
        common.step(
            "converting in a subprocess"
            + (f" (calibrating on {len(representative)} samples)" if representative else "")
        )
        flat = convert_saved_model(
            tmp / "saved_model",
            tmp / "model.tflite",
            quantize,
            calibration,
            timeout,
            what,
            float_layers=kept_float,
        )
        if quantize == "int8":
            counts = json.loads((tmp / "model.float.json").read_text())
            metadata["export"]["float_tensors"] = counts
        foreign = non_builtin_operators(flat)
        if foreign:
            raise ConverterError(
                f"{what} produced non-builtin operators {foreign}: the stock interpreter "
                "cannot run them"
            )
        staged = tmp / path.name
        staged.write_bytes(with_metadata(flat, tflite_entries(metadata)))
        common.replace_path(staged, path)
    operators = dict(operator_counts(path))
    floats = dict(float_operator_counts(path)) if quantize == "int8" else None
    common.step(f"checking parity on {len(parity)} samples")
    runner = TFLiteModel(path)
    exported = runner.predict(parity.inputs)
    report = compare(
        reference,
        exported,
        export=str(path),
        fmt="tflite",
        quantize=quantize,
        samples=parity,
        tolerance=tolerance,
        runtime=runner.runtime,
        extra={"operators": operators, "float_operators": floats},
    )
    saved = report.save(report_path(path))
    result = common.ExportResult(
        path=path,
        format="tflite",
        quantize=quantize,
        size_bytes=path.stat().st_size,
        metadata=metadata,
        parity=report,
        report_path=saved,
        operators=operators,
        float_operators=floats,
    )
    if not report.passed:
        raise ParityError(f"TFLite file {path} fails its parity check: {report.summary()}")
    return result


def to_tflite(
    model: keras.Model | str | Path,
    path: str | Path,
    quantize: str | None = None,
    *,
    labels: Sequence[str] | None = None,
    representative_data: SampleData | None = None,
    calibration_samples: int = DEFAULT_CALIBRATION_SAMPLES,
    parity_data: SampleData = "auto",
    parity_samples: int | None = None,
    tolerance: Tolerance | dict[str, float] | float | None = None,
    timeout: float = 1800,
) -> common.ExportResult:
    """Export ``model`` as a ``.tflite`` file (batch 1, builtin operators only).

    Args:
        model: a ``keras.Model``, a registered name (pretrained weights) or a ``.keras`` path.
            A model trained on the JAX backend is reloaded under TensorFlow in a subprocess.
        path: the ``.tflite`` file to write (replaced if it exists).
        quantize: ``None`` (float32), ``"float16"`` (float16 weights), ``"dynamic"`` (int8
            weights, float activations) or ``"int8"`` (int8 weights and activations,
            calibrated on ``representative_data``).
        labels: label names, only for a model that does not carry them.
        representative_data: int8 only, and required there: ``"auto"`` for real training
            samples from the shared datasets, or samples (a dict of input arrays, a
            :class:`~emozoo.export.Samples`, a ``tf.data.Dataset`` of input dicts).
        calibration_samples: how many representative samples to use (default 200).
        parity_data, parity_samples, tolerance: as for :func:`~emozoo.export.to_saved_model`.
        timeout: seconds the converter subprocess may take.

    Returns:
        An :class:`~emozoo.export.ExportResult`; the parity report is also written beside
        the file as ``<name>.parity.json``.

    Raises:
        ValueError: an unsupported combination (int8 without representative data, a
            representative dataset for another mode, a path not ending in ``.tflite``...).
        ConverterError: the converter failed or crashed.
        ParityError: the export's outputs differ from the model's beyond the tolerance.

    >>> from emozoo.export import to_tflite
    >>> to_tflite("face_cnn", "exported/face_int8.tflite", "int8", representative_data="auto")  # doctest: +SKIP
    """
    quantize = check_quantize(quantize)
    if quantize == "int8" and representative_data is None:
        raise ValueError(
            "quantize='int8' needs representative_data to calibrate activation ranges: "
            "pass representative_data='auto' (real training samples from the shared datasets) "
            "or your own samples, e.g. emozoo.export.real_samples(model, 'train', n=200)"
        )
    if quantize != "int8" and representative_data is not None:
        raise ValueError(
            f"representative_data is only used by quantize='int8', not quantize={quantize!r}"
        )
    if calibration_samples < 1:
        raise ValueError(f"calibration_samples must be at least 1, got {calibration_samples}")
    tolerance = as_tolerance(tolerance, "tflite", quantize)
    path = common.prepare_output(path, "tflite")
    source = resolve(model, labels)
    representative = None
    if quantize == "int8":
        representative = common.representative_samples(
            source, representative_data, calibration_samples
        )
    parity = common.parity_samples(source, parity_data, parity_samples)
    common.step(f"running the Keras model on {len(parity)} samples")
    reference = keras_predict(source.model, parity.inputs)
    kwargs: dict[str, Any] = dict(
        quantize=quantize,
        representative=representative,
        parity=parity,
        reference=reference,
        tolerance=tolerance,
        timeout=timeout,
    )
    if not common.on_tensorflow():
        return export_in_tensorflow("tflite", source, path, **kwargs)
    return export_tflite(source, path, **kwargs)


__all__ = [
    "DEFAULT_CALIBRATION_SAMPLES",
    "QUANTIZE_MODES",
    "ConverterError",
    "check_quantize",
    "convert_saved_model",
    "export_tflite",
    "to_tflite",
]
