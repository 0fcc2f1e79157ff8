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

import threading
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from emozoo.paths import ASSETS_DIR
from emozoo.preprocessing.base import ModalityPreprocessor, SkipCallback
from emozoo.preprocessing.wordpiece import WordPiece

TRUNCATION_SIDES = ("right", "left")


def visible_text(text: str) -> str:
    """``text`` without control and format characters (NUL, escape, zero-width space...),
    whitespace runs collapsed to one space: what a tokenizer can read."""
    kept = "".join(
        " " if char.isspace() else char
        for char in text
        if char.isspace() or unicodedata.category(char)[0] != "C"
    )
    return " ".join(kept.split())


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


class TextPreprocessor(ModalityPreprocessor):
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

    modality = "text"
    input_dtype = "int32"
    input_note = (
        "int32 WordPiece token ids, lowercased and accent-stripped, truncated or "
        "post-padded with 0 to the sequence length"
    )
    variable_length = True

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
        if truncation_side not in TRUNCATION_SIDES:
            raise ValueError(
                f"truncation_side must be one of {TRUNCATION_SIDES}, got {truncation_side!r}"
            )
        self.vocabulary = vocabulary_path(vocabulary)
        self.sequence_length = int(sequence_length)
        self.vocabulary_size = vocabulary_size(self.vocabulary)
        self.start_token, self.end_token = start_token, end_token
        self.truncation_side = truncation_side
        self.lowercase, self.strip_accents = lowercase, strip_accents
        specials = [t for t in (start_token, end_token) if t is not None]
        if self.sequence_length <= len(specials):
            raise ValueError(
                f"sequence_length {self.sequence_length} leaves no room for text besides {specials}"
            )
        self._packed = bool(specials) or truncation_side == "left"
        # Keyed by optional tokens: .get(None) (no start/end token) is None.
        self._special_ids: dict[str | None, int] = {}
        if self._packed:
            tokens = self.vocabulary.read_text(encoding="utf-8").splitlines()
            index = {token: i for i, token in reversed(list(enumerate(tokens)))}
            for token in specials:
                if token not in index:
                    raise ValueError(
                        f"Special token {token!r} is not in the vocabulary {self.vocabulary}"
                    )
                self._special_ids[token] = index[token]
            if tokens[0] != padding_token:
                raise ValueError(
                    f"{self.vocabulary}: id 0 must be {padding_token} (the padding the model masks), "
                    f"found {tokens[0]!r}"
                )
        self._room = self.sequence_length - len(specials)
        # keras-hub's tokenizer and packer and a tf.function, built on first use.
        self._tokenizer: Any = None
        self._packer: Any = None
        self._eager: Any = None
        self._unknown_id: int | None = None
        self._wordpiece: WordPiece | None = None
        # Built once on first use; threads sharing this preprocessor wait for it.
        self._build_lock = threading.Lock()

    def _read_vocabulary_ids(self) -> None:
        with self._build_lock:
            if self._unknown_id is not None:
                return
            tokens = self.vocabulary.read_text(encoding="utf-8").splitlines()
            # Tokens of punctuation or symbols only (",", "##!"): no word among them.
            self._punctuation_ids = np.array(
                [
                    i
                    for i, token in enumerate(tokens)
                    if token.removeprefix("##")
                    and all(unicodedata.category(c)[0] in "PS" for c in token.removeprefix("##"))
                ],
                np.int64,
            )
            # Set last: other threads read both ids once this one is set.
            self._unknown_id = tokens.index("[UNK]") if "[UNK]" in tokens else -1

    @property
    def unknown_id(self) -> int:
        """Id of the out-of-vocabulary token (``[UNK]``)."""
        if self._unknown_id is None:
            self._read_vocabulary_ids()
        assert self._unknown_id is not None  # set by _read_vocabulary_ids
        return self._unknown_id

    def known_token_count(self, ids: np.ndarray) -> np.ndarray:
        """Per row of ``ids``: word tokens the vocabulary knows (not padding, special,
        unknown or punctuation)."""
        ids = np.asarray(ids)
        unknown = self.unknown_id
        ignored = np.isin(ids, [0, unknown, *self._special_ids.values()])
        ignored |= np.isin(ids, self._punctuation_ids)
        return (~ignored).sum(axis=-1)

    def unknown_only(self, ids: np.ndarray) -> np.ndarray:
        """Per row of ``ids``: it has tokens, and every one of them is unknown (``[UNK]``)."""
        ids = np.asarray(ids)
        return (self.known_token_count(ids) == 0) & ((ids == self.unknown_id).sum(axis=-1) > 0)

    @property
    def tokenizer(self):
        """The ``keras_hub.tokenizers.WordPieceTokenizer`` (built on first use: it starts
        TensorFlow, which reading a card or a vocabulary does not need)."""
        self._build()
        return self._tokenizer

    @property
    def packer(self):
        """``keras_hub.layers.StartEndPacker`` adding the special tokens, or ``None``."""
        self._build()
        return self._packer

    def _build(self) -> None:
        """Build the tokenizer, packer and eager tokenize function once (thread-safe)."""
        if self._eager is not None:
            return
        with self._build_lock:
            if self._eager is not None:
                return
            import keras_hub
            import tensorflow as tf

            # Built outside any graph being traced (a tf.data map may ask first): the
            # lookup tables must live in the eager context.
            with tf.init_scope():
                # Without special tokens and with right truncation the tokenizer pads and
                # truncates itself (text_bilstm's format, unchanged).
                self._tokenizer = keras_hub.tokenizers.WordPieceTokenizer(
                    vocabulary=str(self.vocabulary),
                    sequence_length=None if self._packed else self.sequence_length,
                    lowercase=self.lowercase,
                    strip_accents=self.strip_accents,
                )
                if self._packed:
                    self._packer = keras_hub.layers.StartEndPacker(
                        sequence_length=self.sequence_length,
                        start_value=self._special_ids.get(self.start_token),
                        end_value=self._special_ids.get(self.end_token),
                        pad_value=0,
                        return_padding_mask=False,
                    )
            # keras-hub turns eager ragged outputs into lists; a graph keeps tensors.
            self._eager = tf.function(
                self._tokenize, input_signature=[tf.TensorSpec([None], tf.string)]
            )

    def tokenize(self, texts):
        """Token ids of a batch of strings (a list or a string tensor), ``(batch, length)``.

        Runs in ``tf.data`` graphs (the pipelines call it) as well as eagerly.
        """
        import tensorflow as tf

        self._build()
        if not tf.executing_eagerly():
            return self._tokenize(texts)
        return self._eager(tf.constant(list(texts) if isinstance(texts, tuple) else texts))

    def _tokenize(self, texts):
        ids = self.tokenizer(texts)
        if not self._packed:
            return ids
        if self.truncation_side == "left":
            ids = ids[:, -self._room :]
        return self.packer(ids)

    def __call__(self, texts: str | Sequence[str]) -> np.ndarray:
        if isinstance(texts, (bytes, bytearray)):
            raise TypeError(
                "text is bytes, not a string; decode it first, e.g. text.decode('utf-8')"
            )
        if isinstance(texts, str):
            texts = [texts]
        if isinstance(texts, np.ndarray):
            texts = texts.tolist()
        if not isinstance(texts, Sequence) or not texts:
            raise ValueError("No texts given")
        for i, text in enumerate(texts):
            if isinstance(text, (bytes, bytearray)):
                raise TypeError(
                    f"Text {i} is bytes, not a string; decode it first, e.g. text.decode('utf-8')"
                )
            if not isinstance(text, str):
                raise TypeError(f"Text {i} is a {type(text).__name__}, not a string")
            surrogate = next((j for j, c in enumerate(text) if 0xD800 <= ord(c) <= 0xDFFF), None)
            if surrogate is not None:
                raise ValueError(
                    f"Text {i} is not valid Unicode (a lone surrogate at character {surrogate}, "
                    "left by decoding non-UTF-8 bytes with errors='surrogateescape')"
                )
            if not visible_text(text):
                raise ValueError(f"Text {i} is empty (only whitespace or control characters)")
        return self.encode(list(texts))

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Ids ``(batch, sequence_length)`` of checked strings, in plain Python (the same
        ids as :meth:`tokenize`, TensorFlow's path for ``tf.data``; no TensorFlow)."""
        with self._build_lock:
            if self._wordpiece is None:
                self._wordpiece = WordPiece(self.vocabulary, self.lowercase, self.strip_accents)
        out = np.zeros((len(texts), self.sequence_length), np.int32)
        start = self._special_ids.get(self.start_token)
        end = self._special_ids.get(self.end_token)
        for row, text in enumerate(texts):
            ids = self._wordpiece(text)
            if self.truncation_side == "left":
                ids = ids[-self._room :] if len(ids) > self._room else ids
            else:
                ids = ids[: self._room]
            ids = ([start] if start is not None else []) + ids + ([end] if end is not None else [])
            out[row, : len(ids)] = ids
        return out

    @property
    def input_shape(self) -> tuple[int, ...]:
        return (self.sequence_length,)

    def model_kwargs(self) -> dict:
        return {"sequence_length": self.sequence_length, "vocabulary_size": self.vocabulary_size}

    def from_items(self, items) -> np.ndarray:
        return self(list(items))

    def dataset(self, items, labels, skip: SkipCallback | None = None, where: str = ""):
        import tensorflow as tf  # lazy: TensorFlow start-up only where a pipeline is built

        texts, kept = [], []
        for i, (text, label) in enumerate(zip(items, labels, strict=True)):
            if not isinstance(text, str) or not text.strip():
                if skip is None:
                    raise ValueError(
                        f"{where} text {i} is empty; pass on_error='skip' to leave it out"
                    )
                skip(f"{where}[{i}]", "empty text")
                continue
            texts.append(text)
            kept.append(label)
        ds = tf.data.Dataset.from_tensor_slices((texts, np.asarray(kept, np.int32)))
        # Tokenize in batches inside the graph (keras_hub's WordPieceTokenizer is tf-text).
        tokenize = self.tokenize
        return (
            ds.batch(1024)
            .map(lambda t, y: (tokenize(t), y), num_parallel_calls=tf.data.AUTOTUNE)
            .unbatch()
        )

    def used_length(self, row: np.ndarray) -> int:
        """Positions up to the last token id that is not padding (0), at least 1."""
        content = np.flatnonzero(np.asarray(row))
        return int(content[-1]) + 1 if content.size else 1

    def synthetic(self, n, rng, token_rows=None):
        """Random ids below ``token_rows`` (the model's smallest embedding table) then padding."""
        length = self.sequence_length
        ids = rng.integers(1, max(2, token_rows or self.vocabulary_size), size=(n, length))
        lengths = rng.integers(1, length + 1, size=n)
        ids[np.arange(length)[None, :] >= lengths[:, None]] = 0
        return ids.astype(np.int32)

    def asset_files(self) -> dict[str, Path]:
        return {self.vocabulary.name: self.vocabulary}

    def check_fits(self, model) -> None:
        import keras

        # The largest embedding is the token table (BERT also has a 2-row segment one).
        rows = [
            layer.input_dim
            for layer in model._flatten_layers(include_self=False, recursive=True)
            if isinstance(layer, keras.layers.Embedding)
        ]
        if rows and max(rows) < self.vocabulary_size:
            raise ValueError(
                f"{model.name}'s token embedding has {max(rows)} rows, fewer than the "
                f"{self.vocabulary_size} tokens of its vocabulary: real texts do not fit it"
            )

    @staticmethod
    def params_from_input_shape(shape, params):
        return {**params, "sequence_length": int(shape[0])}
