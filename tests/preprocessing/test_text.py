"""Text preprocessing: plain and BERT-style WordPiece ids, truncation, bad settings."""

from __future__ import annotations

import json

import numpy as np
import pytest

import emozoo
from emozoo.paths import ASSETS_DIR, PROJECT_ROOT
from emozoo.preprocessing.text import TextPreprocessor

REFERENCE = PROJECT_ROOT / "tests" / "fixtures" / "minilm_reference.json"


@pytest.fixture(scope="module")
def reference() -> dict:
    return json.loads(REFERENCE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def bert_pre() -> TextPreprocessor:
    return emozoo.load_preprocessor("text_minilm").text


def test_text_tokenizes_to_fixed_length(fusion_pre):
    ids = fusion_pre.text(["I am so happy today!", "what " * 200])
    assert ids.shape == (2, 64) and ids.dtype == np.int32
    assert (ids[0] > 0).sum() >= 5 and (ids[0, 10:] == 0).all()
    assert (ids[1] > 0).all()  # long text truncated, not wrapped
    np.testing.assert_array_equal(fusion_pre.text("HAPPY"), fusion_pre.text("happy"))


@pytest.mark.parametrize("bad", ["", "   ", [], ["fine", ""], [3]])
def test_text_bad_input(fusion_pre, bad):
    with pytest.raises((ValueError, TypeError)):
        fusion_pre.text(bad)


# --- BERT-style preprocessing (text_minilm) ------------------------------------------------


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


def test_used_length_counts_up_to_the_last_token_and_buckets_double():
    from emozoo.preprocessing import length_bucket

    pre = TextPreprocessor(sequence_length=16, start_token="[CLS]", end_token="[SEP]")
    short, empty_like = pre(["so happy", "a b c d e f g h i j k l m n o p q"])
    assert pre.used_length(short) == 4  # [CLS] so happy [SEP]
    assert pre.used_length(empty_like) == 16
    assert pre.used_length(np.zeros(16, np.int32)) == 1
    assert [length_bucket(n, 64) for n in (1, 8, 9, 16, 17, 33, 64)] == [8, 8, 16, 16, 32, 64, 64]
    assert length_bucket(20, 24) == 24
    with pytest.raises(ValueError, match="positive"):
        length_bucket(0, 64)
    assert pre.run_length(short) == 8 and pre.run_length(empty_like) == 16
    with pytest.raises(ValueError, match="fixed length"):
        emozoo.load_preprocessor("face_cnn").face.used_length(np.zeros((48, 48, 1)))
    with pytest.raises(ValueError, match="fixed length"):
        emozoo.load_preprocessor("face_cnn").face.run_length(np.zeros((48, 48, 1)))
