"""Read and edit ``.tflite`` flatbuffers in pure Python: operators and metadata entries.

No interpreter and no TensorFlow graph is involved: the file is parsed with the
TFLite schema's generated Python classes (from ``ai_edge_litert`` when installed,
else from TensorFlow).
"""

from __future__ import annotations

import functools
from collections import Counter
from pathlib import Path

#: The flatbuffer file identifier of TFLite models.
TFLITE_IDENTIFIER = b"TFL3"


@functools.cache
def _schema():
    try:
        from ai_edge_litert import schema_py_generated as schema
    except ImportError:  # pragma: no cover - depends on the installed extras
        from tensorflow.lite.python import schema_py_generated as schema
    return schema


@functools.cache
def _builtin_names() -> dict[int, str]:
    ops = _schema().BuiltinOperator
    return {value: name for name, value in vars(ops).items() if not name.startswith("_")}


def _read_bytes(model: str | Path | bytes) -> bytes:
    if isinstance(model, (bytes, bytearray)):
        data = bytes(model)
        origin = "the given bytes"
    else:
        path = Path(model)
        if not path.is_file():
            raise FileNotFoundError(f"TFLite file {path} does not exist")
        data = path.read_bytes()
        origin = str(path)
    if len(data) < 8 or data[4:8] != TFLITE_IDENTIFIER:
        raise ValueError(f"{origin} is not a TFLite flatbuffer (no 'TFL3' identifier)")
    return data


def _model_object(data: bytes):
    try:
        return _schema().ModelT.InitFromPackedBuf(data, 0)
    except Exception as error:  # a truncated or corrupt buffer
        raise ValueError(f"Cannot parse the TFLite flatbuffer: {error}") from None


def operator_counts(model: str | Path | bytes) -> Counter:
    """``Counter`` of operator names over every subgraph of a ``.tflite`` file.

    Builtin operators are named as in the TFLite schema (``CONV_2D``, ``WHILE``...);
    custom operators as ``CUSTOM:<code>`` (Flex ops are ``CUSTOM:Flex<TF op>``).

    >>> operator_counts("face_cnn.tflite")["CONV_2D"]  # doctest: +SKIP
    14
    """
    data = _read_bytes(model)
    try:
        flat = _schema().Model.GetRootAs(data, 0)
        names = _builtin_names()
        custom_code = _schema().BuiltinOperator.CUSTOM
        codes = []
        for i in range(flat.OperatorCodesLength()):
            opcode = flat.OperatorCodes(i)
            code = max(opcode.BuiltinCode(), opcode.DeprecatedBuiltinCode())
            if code == custom_code:
                custom = opcode.CustomCode()
                codes.append(f"CUSTOM:{custom.decode() if custom else ''}")
            else:
                codes.append(names.get(code, f"BUILTIN_{code}"))
        counts: Counter = Counter()
        for s in range(flat.SubgraphsLength()):
            subgraph = flat.Subgraphs(s)
            for o in range(subgraph.OperatorsLength()):
                counts[codes[subgraph.Operators(o).OpcodeIndex()]] += 1
    except Exception as error:  # a truncated or corrupt buffer
        raise ValueError(f"Cannot parse the TFLite flatbuffer: {error}") from None
    return counts


def non_builtin_operators(model: str | Path | bytes) -> list[str]:
    """Operators the stock TFLite interpreter cannot run without a delegate:
    custom and Flex (``SELECT_TF_OPS``) operators. Empty for a builtin-only model.

    >>> non_builtin_operators("exported/face_int8.tflite")  # doctest: +SKIP
    []
    """
    return sorted(name for name in operator_counts(model) if name.startswith("CUSTOM:"))


def read_metadata(model: str | Path | bytes) -> dict[str, bytes]:
    """The model's ``metadata`` entries: ``{name: raw bytes}``.

    >>> sorted(read_metadata("exported/face_int8.tflite"))  # doctest: +SKIP
    ['CONVERSION_METADATA', 'emozoo_metadata', 'min_runtime_version']
    """
    flat = _model_object(_read_bytes(model))
    entries = {}
    for entry in flat.metadata or []:
        name = entry.name.decode() if isinstance(entry.name, bytes) else str(entry.name)
        data = flat.buffers[entry.buffer].data
        entries[name] = b"" if data is None else bytes(bytearray(data))
    return entries


def with_metadata(model: bytes, entries: dict[str, bytes]) -> bytes:
    """A copy of flatbuffer ``model`` with ``entries`` added to its ``metadata`` list.

    An existing entry of the same name is replaced. Each value gets its own buffer.

    >>> labelled = with_metadata(tflite_bytes, {"labels": b'["a", "b"]'})  # doctest: +SKIP
    """
    import flatbuffers
    import numpy as np

    schema = _schema()
    flat = _model_object(_read_bytes(model))
    flat.metadata = [
        m
        for m in (flat.metadata or [])
        if (m.name.decode() if isinstance(m.name, bytes) else str(m.name)) not in entries
    ]
    for name, value in entries.items():
        buffer = schema.BufferT()
        buffer.data = np.frombuffer(bytes(value), dtype=np.uint8)
        flat.buffers.append(buffer)
        entry = schema.MetadataT()
        entry.name = name
        entry.buffer = len(flat.buffers) - 1
        flat.metadata.append(entry)
    builder = flatbuffers.Builder(max(1024, len(model)))
    builder.Finish(flat.Pack(builder), file_identifier=TFLITE_IDENTIFIER)
    return bytes(builder.Output())


def float_operator_counts(model: str | Path | bytes) -> Counter:
    """Operators whose first output is floating point (or complex), other than
    (de)quantization: in an int8 model, the work left in float.

    >>> float_operator_counts("exported/audio_int8.tflite")["RFFT2D"]  # doctest: +SKIP
    1
    """
    schema = _schema()
    data = _read_bytes(model)
    kinds = schema.TensorType
    floating = {kinds.FLOAT32, kinds.FLOAT16, kinds.FLOAT64, kinds.COMPLEX64, kinds.COMPLEX128}
    skip = {"DEQUANTIZE", "QUANTIZE"}
    try:
        flat = schema.Model.GetRootAs(data, 0)
        names = _builtin_names()
        counts: Counter = Counter()
        for s in range(flat.SubgraphsLength()):
            subgraph = flat.Subgraphs(s)
            for o in range(subgraph.OperatorsLength()):
                op = subgraph.Operators(o)
                opcode = flat.OperatorCodes(op.OpcodeIndex())
                name = names.get(max(opcode.BuiltinCode(), opcode.DeprecatedBuiltinCode()), "?")
                if name in skip or op.OutputsLength() == 0:
                    continue
                if subgraph.Tensors(op.Outputs(0)).Type() in floating:
                    counts[name] += 1
    except Exception as error:
        raise ValueError(f"Cannot parse the TFLite flatbuffer: {error}") from None
    return counts


__all__ = [
    "TFLITE_IDENTIFIER",
    "float_operator_counts",
    "non_builtin_operators",
    "operator_counts",
    "read_metadata",
    "with_metadata",
]
