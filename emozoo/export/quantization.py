"""Integer quantization that keeps the few places int8 cannot represent in float32.

The converter calibrates the model on the representative dataset, then every operator
is quantized to int8 except:

- the layers named by :func:`float_layers` (each family's spec names its kinds): the
  log-mel front end (power spectra span
  ten orders of magnitude; 8 bits of them are noise), attention pooling (soft-max
  weights over up to 64 steps lose too much at 1/256 steps) and Transformer blocks
  (layer normalisation and attention); measured on the pretrained models, each of
  these alone costs 5 to 80 points of top-1 agreement with the float model, and
  together they are a small share of the compute;
- tensors whose calibrated range is empty (always the same value, e.g. the first steps
  of a backward LSTM over padding): XNNPACK refuses or mis-handles their zero scale;
- operators touching a range beyond 1e4 (the -1e9 logits of attention masks): one
  int8 step would be larger than every meaningful value.

Selection uses ``tf.lite.experimental.QuantizationDebugger``'s mechanism (calibrate
only, then ``mlir_quantize`` with ``denylisted_nodes``).
"""

from __future__ import annotations

import re
from typing import Any

from emozoo.models.family import int8_float_layer_kinds

#: Calibrated ranges wider than this (in absolute value) are not quantized.
HUGE_RANGE = 1e4
#: Calibrated ranges narrower than this are empty.
EMPTY_RANGE = 1e-6


def float_layers(model) -> list[str]:
    """Names of the layers (at any depth) that stay float32 in an int8 export: those of
    the classes some model family's spec names (``FamilySpec.export.float_layers``)."""
    kinds: tuple[type[Any], ...] = int8_float_layer_kinds()  # Keras layer classes
    return sorted(
        {
            layer.name
            for layer in model._flatten_layers(include_self=False, recursive=True)
            if isinstance(layer, kinds)
        }
    )


def _range(tensor):
    q = tensor.quantization
    if q is None or q.min is None or not len(q.min):
        return None
    return float(min(q.min)), float(max(q.max))


def float_nodes(calibrated: bytes, layers: list[str]) -> tuple[list[str], dict[str, int]]:
    """Output tensor names of the operators to keep float in a calibrated model, and how
    many each rule selected."""
    from emozoo.export.flatbuffer import _schema

    scope = None
    if layers:
        scope = re.compile(r"(^|[/;])(" + "|".join(map(re.escape, layers)) + r")(_\d+)?/")
    flat = _schema().ModelT.InitFromPackedBuf(calibrated, 0)
    chosen: dict[str, str] = {}
    for subgraph in flat.subgraphs or []:
        tensors = subgraph.tensors
        for op in subgraph.operators or []:
            outputs = [tensors[i] for i in op.outputs if i >= 0]
            names = [t.name.decode() if isinstance(t.name, bytes) else str(t.name) for t in outputs]
            ranges = [_range(tensors[i]) for i in list(op.inputs) + list(op.outputs) if i >= 0]
            reason = None
            if scope is not None and any(scope.search(n) for n in names):
                reason = "float layer"
            elif any(r is not None and r[1] - r[0] < EMPTY_RANGE for r in map(_range, outputs)):
                reason = "empty range"
            elif any(r is not None and max(abs(r[0]), abs(r[1])) > HUGE_RANGE for r in ranges):
                reason = "huge range"
            if reason:
                for name in names:
                    chosen.setdefault(name, reason)
    counts: dict[str, int] = {}
    for reason in chosen.values():
        counts[reason] = counts.get(reason, 0) + 1
    return sorted(chosen), counts


def quantize_int8(converter, layers: list[str]) -> tuple[bytes, dict[str, int]]:
    """Calibrate with ``converter`` (representative dataset set) and quantize to int8,
    keeping :func:`float_nodes` in float32. Inputs and outputs stay float32."""
    from tensorflow.lite.python import convert

    converter._experimental_calibrate_only = True
    calibrated = converter.convert()
    denylist, counts = float_nodes(calibrated, layers)
    quantized = convert.mlir_quantize(
        calibrated, fully_quantize=False, denylisted_nodes=denylist or None
    )
    return quantized, counts


__all__ = ["EMPTY_RANGE", "HUGE_RANGE", "float_layers", "float_nodes", "quantize_int8"]
