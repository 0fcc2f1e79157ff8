"""SavedModel export through Keras 3's ``keras.export.ExportArchive``.

The SavedModel has a ``serving_default`` (also named ``serve``) signature whose inputs
are named as the model's (``face``, ``text``, ``audio``, ``*_present``) with a free
batch size and whose output is ``probabilities``; a ``metadata`` signature (no inputs)
returns the ``labels`` and the metadata JSON; ``assets.extra/`` holds the same JSON and,
for text models, the vocabulary.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emozoo.export import common
from emozoo.export.launcher import export_in_tensorflow
from emozoo.export.metadata import build_metadata, write_saved_model_extras
from emozoo.export.parity import ParityError, as_tolerance, compare, report_path
from emozoo.export.runtime import OUTPUT_NAME, SavedModelRunner, keras_predict
from emozoo.export.source import export_copy, resolve

if TYPE_CHECKING:
    import keras
    import numpy as np

    from emozoo.export.parity import Tolerance
    from emozoo.export.samples import SampleData, Samples
    from emozoo.export.source import ExportSource


def input_specs(model: keras.Model, batch_size: int | None) -> list[dict[str, Any]]:
    """``[{"name", "shape", "dtype"}]`` of ``model``'s inputs with a given batch size."""
    return [
        {"name": t.name, "shape": [batch_size, *map(int, t.shape[1:])], "dtype": str(t.dtype)}
        for t in model.inputs
    ]


def write_archive(
    model: keras.Model,
    directory: Path,
    batch_size: int | None,
    metadata: dict[str, Any] | None = None,
    output_name: str = OUTPUT_NAME,
) -> None:
    """Write ``model`` as a SavedModel with a named-input serving signature.

    ``batch_size=None`` leaves the batch free; TFLite conversion uses 1. With
    ``metadata`` a second signature, ``metadata``, returns the labels and the JSON.
    ``output_name`` names the serving output (an encoder part's is ``embedding``).
    """
    import tensorflow as tf
    from keras.export import ExportArchive

    names = [t.name for t in model.inputs]
    specs = [tf.TensorSpec((batch_size, *t.shape[1:]), t.dtype, name=t.name) for t in model.inputs]

    def serve(*args: Any) -> dict[str, Any]:
        return {output_name: model(dict(zip(names, args, strict=True)), training=False)}

    archive = ExportArchive()
    archive.track(model)
    with tf.device("/CPU:0"):
        archive.add_endpoint("serve", serve, input_signature=specs)
        if metadata is not None:
            labels = tf.constant(metadata["labels"])
            text = tf.constant(json.dumps(metadata))

            def describe() -> dict[str, Any]:
                return {"labels": labels, "metadata": text}

            archive.add_endpoint("metadata", describe, input_signature=[])
        archive.write_out(str(directory), verbose=False)


def export_saved_model(
    source: ExportSource,
    path: Path,
    *,
    parity: Samples,
    reference: np.ndarray,
    tolerance: Tolerance,
) -> common.ExportResult:
    """Write the SavedModel of an already resolved source and check it (TensorFlow backend)."""
    metadata = build_metadata(
        source,
        fmt="saved_model",
        quantize=None,
        input_specs=input_specs(source.model, None),
        batch_size=None,
    )
    with tempfile.TemporaryDirectory(prefix=".emozoo-export-", dir=path.parent) as tmp:
        staged = Path(tmp) / path.name
        common.step("tracing the serving signature and writing the SavedModel")
        write_archive(export_copy(source.model), staged, None, metadata)
        write_saved_model_extras(staged, metadata)
        common.replace_path(staged, path)
    import tensorflow as tf

    common.step(f"checking parity on {len(parity)} samples")
    exported = SavedModelRunner(path).predict(parity.inputs, batch_size=1)
    report = compare(
        reference,
        exported,
        export=str(path),
        fmt="saved_model",
        quantize=None,
        samples=parity,
        tolerance=tolerance,
        runtime=f"tensorflow {tf.__version__}",
    )
    saved = report.save(report_path(path))
    result = common.ExportResult(
        path=path,
        format="saved_model",
        quantize=None,
        size_bytes=common.folder_size(path),
        metadata=metadata,
        parity=report,
        report_path=saved,
    )
    if not report.passed:
        raise ParityError(f"SavedModel {path} fails its parity check: {report.summary()}")
    return result


def to_saved_model(
    model: keras.Model | str | Path,
    path: str | Path,
    *,
    labels: Sequence[str] | None = None,
    parity_data: SampleData = "auto",
    parity_samples: int | None = None,
    tolerance: Tolerance | dict[str, float] | float | None = None,
) -> common.ExportResult:
    """Export ``model`` as a TensorFlow SavedModel folder for serving.

    Args:
        model: a ``keras.Model``, a registered name (pretrained weights) or a ``.keras`` path.
            A model trained on the JAX backend is reloaded under TensorFlow in a subprocess.
        path: the SavedModel folder to write (an older export there is replaced).
        labels: label names, only for a model that does not carry them.
        parity_data: ``"auto"`` (real test samples, else synthetic with a notice) or samples
            (a dict of input arrays, a :class:`~emozoo.export.Samples`, a ``tf.data.Dataset``).
        parity_samples: how many samples to check (default 200).
        tolerance: see :func:`~emozoo.export.parity.as_tolerance`.

    Returns:
        An :class:`~emozoo.export.ExportResult`; the parity report is also written beside
        the folder as ``<path>.parity.json``.

    Raises:
        ParityError: the export's outputs differ from the model's beyond the tolerance.

    >>> from emozoo.export import to_saved_model
    >>> to_saved_model("cnn_lstm_fusion", "exported/fusion_sm").parity.passed  # doctest: +SKIP
    True
    """
    tolerance = as_tolerance(tolerance, "saved_model", None)
    path = common.prepare_output(path, "saved_model")
    source = resolve(model, labels)
    parity = common.parity_samples(source, parity_data, parity_samples)
    common.step(f"running the Keras model on {len(parity)} samples")
    reference = keras_predict(source.model, parity.inputs)
    if not common.on_tensorflow():
        return export_in_tensorflow(
            "saved_model", source, path, parity=parity, reference=reference, tolerance=tolerance
        )
    return export_saved_model(source, path, parity=parity, reference=reference, tolerance=tolerance)


__all__ = ["export_saved_model", "input_specs", "to_saved_model", "write_archive"]
