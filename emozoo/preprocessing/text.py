"""Text -> WordPiece token ids, with the vocabularies shipped in ``emozoo/assets``.

Two input formats, chosen by a model's zoo config ``preprocessing.text`` block:

- plain (``text_bilstm``): WordPiece ids, truncated or padded with 0 to
  ``sequence_length``;
- BERT (``text_minilm``): ``"start_token": "[CLS]", "end_token": "[SEP]"`` wrap the ids,
  ``[CLS] ... [SEP]`` then 0 (``[PAD]``) padding; the model derives its padding mask
  from the zeros. ``"truncation_side": "left"`` keeps the end of long texts (where
  ``meld_text``'s ``context=k`` puts the utterance itself).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from emozoo.paths import ASSETS_DIR

TRUNCATION_SIDES = ("right", "left")


def vocabulary_path(vocabulary: str | Path) -> Path:
    """Resolve a vocabulary file name relative to ``emozoo/assets`` unless absolute."""
    path = Path(vocabulary).expanduser()
    return path if path.is_absolute() else ASSETS_DIR / path


def vocabulary_size(vocabulary: str | Path) -> int:
    """Number of tokens (lines) in a WordPiece vocabulary file."""
    path = vocabulary_path(vocabulary)
    if not path.is_file():
        raise FileNotFoundError(f"WordPiece vocabulary {path} not found")
    with path.open(encoding="utf-8") as f:
        return sum(1 for line in f if line.rstrip("\n"))


class TextPreprocessor:
    """Tokenize strings into fixed-length int32 WordPiece ids (0 = padding).

    Wraps ``keras_hub.tokenizers.WordPieceTokenizer`` (and, with ``start_token`` /
    ``end_token``, ``keras_hub.layers.StartEndPacker``). Texts longer than
    ``sequence_length`` tokens are truncated on ``truncation_side``; empty texts are an
    error.

    >>> pre = TextPreprocessor("minilm_vocab.txt", sequence_length=8,
    ...                        start_token="[CLS]", end_token="[SEP]")
    >>> pre("I can't believe it").tolist()
    [[101, 1045, 2064, 1005, 1056, 2903, 2009, 102]]
    """

    def __init__(
        self,
        vocabulary: str | Path = "wordpiece_vocab.txt",
        sequence_length: int = 64,
        lowercase: bool = True,
        strip_accents: bool = True,
        start_token: str | None = None,
        end_token: str | None = None,
        truncation_side: str = "right",
        padding_token: str = "[PAD]",
        **_ignored,
    ):
        import keras_hub

        if truncation_side not in TRUNCATION_SIDES:
            raise ValueError(
                f"truncation_side must be one of {TRUNCATION_SIDES}, got {truncation_side!r}"
            )
        self.vocabulary = vocabulary_path(vocabulary)
        self.sequence_length = int(sequence_length)
        self.vocabulary_size = vocabulary_size(self.vocabulary)
        self.start_token, self.end_token = start_token, end_token
        self.truncation_side = truncation_side
        specials = [t for t in (start_token, end_token) if t is not None]
        if self.sequence_length <= len(specials):
            raise ValueError(
                f"sequence_length {self.sequence_length} leaves no room for text besides {specials}"
            )
        self._packed = bool(specials) or truncation_side == "left"
        # Without special tokens and with right truncation the tokenizer pads and
        # truncates itself (text_bilstm's format, unchanged).
        self.tokenizer = keras_hub.tokenizers.WordPieceTokenizer(
            vocabulary=str(self.vocabulary),
            sequence_length=None if self._packed else self.sequence_length,
            lowercase=lowercase,
            strip_accents=strip_accents,
        )
        self.packer = None
        if self._packed:
            ids = {t: self._special_id(t) for t in specials}
            padding = self.tokenizer.id_to_token(0)
            if padding != padding_token:
                raise ValueError(
                    f"{self.vocabulary}: id 0 must be {padding_token} (the padding the model masks), "
                    f"found {padding!r}"
                )
            self.packer = keras_hub.layers.StartEndPacker(
                sequence_length=self.sequence_length,
                start_value=ids.get(start_token),
                end_value=ids.get(end_token),
                pad_value=0,
                return_padding_mask=False,
            )
        self._room = self.sequence_length - len(specials)
        self._eager = None

    def _special_id(self, token: str) -> int:
        token_id = self.tokenizer.token_to_id(token)
        if token_id is None or self.tokenizer.id_to_token(token_id) != token:
            raise ValueError(f"Special token {token!r} is not in the vocabulary {self.vocabulary}")
        return int(token_id)

    def tokenize(self, texts):
        """Token ids of a batch of strings (a list or a string tensor), ``(batch, length)``.

        Runs in ``tf.data`` graphs (the pipelines call it) as well as eagerly.
        """
        import tensorflow as tf

        if not tf.executing_eagerly():
            return self._tokenize(texts)
        if self._eager is None:
            # keras-hub turns eager ragged outputs into lists; a graph keeps tensors.
            self._eager = tf.function(
                self._tokenize, input_signature=[tf.TensorSpec([None], tf.string)]
            )
        return self._eager(tf.constant(list(texts) if isinstance(texts, tuple) else texts))

    def _tokenize(self, texts):
        ids = self.tokenizer(texts)
        if not self._packed:
            return ids
        if self.truncation_side == "left":
            ids = ids[:, -self._room :]
        return self.packer(ids)

    def __call__(self, texts: str | Sequence[str]) -> np.ndarray:
        if isinstance(texts, str):
            texts = [texts]
        if isinstance(texts, np.ndarray):
            texts = texts.tolist()
        if not isinstance(texts, Sequence) or not texts:
            raise ValueError("No texts given")
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                raise TypeError(f"Text {i} is a {type(text).__name__}, not a string")
            if not text.strip():
                raise ValueError(f"Text {i} is empty")
        ids = np.asarray(self.tokenize(list(texts)), dtype=np.int32)
        return ids.reshape(len(texts), self.sequence_length)
