"""Reading and editing .tflite flatbuffers without an interpreter."""

from __future__ import annotations

import pytest

from emozoo.export import flatbuffer
from emozoo.export.flatbuffer import (
    non_builtin_operators,
    operator_counts,
    read_metadata,
    with_metadata,
)


@pytest.fixture(scope="module")
def small_tflite(tmp_path_factory) -> bytes:
    """A two-operator float model, converted in-process (no emozoo export involved)."""
    import tensorflow as tf

    @tf.function(input_signature=[tf.TensorSpec((1, 4), tf.float32)])
    def f(x):
        return {"y": tf.nn.softmax(tf.matmul(x, tf.ones((4, 3))))}

    return tf.lite.TFLiteConverter.from_concrete_functions([f.get_concrete_function()]).convert()


def test_operator_counts_name_builtin_operators(small_tflite):
    counts = operator_counts(small_tflite)
    assert counts["SOFTMAX"] == 1
    assert sum(counts.values()) >= 2
    assert non_builtin_operators(small_tflite) == []


def test_custom_and_flex_operators_are_reported(small_tflite):
    schema = flatbuffer._schema()
    flat = schema.ModelT.InitFromPackedBuf(small_tflite, 0)
    flat.operatorCodes[0].builtinCode = schema.BuiltinOperator.CUSTOM
    flat.operatorCodes[0].deprecatedBuiltinCode = schema.BuiltinOperator.CUSTOM
    flat.operatorCodes[0].customCode = "FlexTensorListReserve"
    import flatbuffers

    builder = flatbuffers.Builder(1024)
    builder.Finish(flat.Pack(builder), file_identifier=b"TFL3")
    edited = bytes(builder.Output())
    assert non_builtin_operators(edited) == ["CUSTOM:FlexTensorListReserve"]


def test_metadata_round_trip_and_replacement(small_tflite):
    once = with_metadata(small_tflite, {"emozoo_metadata": b'{"a": 1}', "other": b"x"})
    assert read_metadata(once)["emozoo_metadata"] == b'{"a": 1}'
    twice = with_metadata(once, {"emozoo_metadata": b'{"a": 2}'})
    entries = read_metadata(twice)
    assert entries["emozoo_metadata"] == b'{"a": 2}' and entries["other"] == b"x"
    assert operator_counts(twice) == operator_counts(small_tflite)


def test_not_a_tflite_file_is_a_clear_error(tmp_path, small_tflite):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        operator_counts(tmp_path / "missing.tflite")
    junk = tmp_path / "junk.tflite"
    junk.write_bytes(b"not a model at all")
    with pytest.raises(ValueError, match="not a TFLite flatbuffer"):
        read_metadata(junk)
    truncated = tmp_path / "truncated.tflite"
    truncated.write_bytes(small_tflite[:64])
    with pytest.raises(ValueError, match="Cannot parse"):
        operator_counts(truncated)
