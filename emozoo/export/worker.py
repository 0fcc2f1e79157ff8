"""Subprocess side of the exporters: ``python -m emozoo.export.worker COMMAND SPEC.json``.

``convert``: run the TFLite converter on a SavedModel (a crash kills only this process).
``export``: reload a ``.keras`` file under the TensorFlow backend and export it (how a
model trained on JAX is exported). :mod:`emozoo.export.launcher` is the calling side;
nothing imports this module.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def _convert(spec: dict) -> None:
    import numpy as np
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_saved_model(
        spec["saved_model"], signature_keys=["serving_default"]
    )
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    quantize = spec["quantize"]
    if quantize is not None:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantize == "float16":
        converter.target_spec.supported_types = [tf.float16]
    if quantize == "int8":
        with np.load(spec["representative"], allow_pickle=False) as data:
            inputs = {
                k.removeprefix("input:"): data[k] for k in data.files if k.startswith("input:")
            }
        count = len(next(iter(inputs.values())))

        def representative_dataset():
            for i in range(count):
                yield {k: v[i : i + 1] for k, v in inputs.items()}

        converter.representative_dataset = representative_dataset
        from emozoo.export.quantization import quantize_int8

        flat, counts = quantize_int8(converter, spec.get("float_layers") or [])
        Path(spec["output"]).with_suffix(".float.json").write_text(json.dumps(counts))
    else:
        flat = converter.convert()
    Path(spec["output"]).write_bytes(flat)


def _export(spec: dict) -> None:
    import keras
    import numpy as np

    import emozoo.models  # noqa: F401  (registers the custom layers)
    from emozoo.export import common
    from emozoo.export.parity import Tolerance
    from emozoo.export.savedmodel import export_saved_model
    from emozoo.export.source import ExportSource
    from emozoo.export.tflite import export_tflite

    model = keras.saving.load_model(spec["model"], safe_mode=True, compile=False)
    source = ExportSource(
        model=model,
        name=spec["name"],
        labels=tuple(spec["labels"]),
        preprocessing=spec["preprocessing"],
        origin=spec["origin"],
    )
    parity = common.load_samples(
        Path(spec["parity"]), spec["parity_description"], spec["parity_label_names"]
    )
    reference = np.load(spec["reference"], allow_pickle=False)
    tolerance = Tolerance(**spec["tolerance"])
    path = Path(spec["path"])
    if spec["format"] == "saved_model":
        result = export_saved_model(
            source, path, parity=parity, reference=reference, tolerance=tolerance
        )
    else:
        representative = None
        if spec["representative"]:
            representative = common.load_samples(
                Path(spec["representative"]), spec["representative_description"]
            )
        result = export_tflite(
            source,
            path,
            quantize=spec["quantize"],
            representative=representative,
            parity=parity,
            reference=reference,
            tolerance=tolerance,
            timeout=spec["timeout"],
        )
    Path(spec["result"]).write_text(json.dumps({"metadata": result.metadata}))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2 or argv[0] not in ("convert", "export"):
        print("usage: python -m emozoo.export.worker {convert,export} SPEC.json", file=sys.stderr)
        return 2
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    spec = json.loads(Path(argv[1]).read_text())
    try:
        (_convert if argv[0] == "convert" else _export)(spec)
    except Exception as error:  # reported to the parent through stderr and the exit code
        print(f"{type(error).__name__}: {error}", file=sys.stderr)
        if spec.get("result"):
            failure = {"error": type(error).__name__, "message": str(error)}
            Path(spec["result"]).write_text(json.dumps(failure))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
