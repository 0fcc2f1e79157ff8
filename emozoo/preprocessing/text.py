"""Text -> WordPiece token ids, with the vocabulary shipped in ``emozoo/assets``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from emozoo.paths import ASSETS_DIR


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

    Wraps ``keras_hub.tokenizers.WordPieceTokenizer``. Texts longer than
    ``sequence_length`` tokens are truncated; empty texts are an error.
    """

    def __init__(
        self,
        vocabulary: str | Path = "wordpiece_vocab.txt",
        sequence_length: int = 64,
        lowercase: bool = True,
        strip_accents: bool = True,
        **_ignored,
    ):
        import keras_hub

        self.vocabulary = vocabulary_path(vocabulary)
        self.sequence_length = int(sequence_length)
        self.vocabulary_size = vocabulary_size(self.vocabulary)
        self.tokenizer = keras_hub.tokenizers.WordPieceTokenizer(
            vocabulary=str(self.vocabulary),
            sequence_length=self.sequence_length,
            lowercase=lowercase,
            strip_accents=strip_accents,
        )

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
        ids = np.asarray(self.tokenizer(list(texts)), dtype=np.int32)
        return ids.reshape(len(texts), self.sequence_length)
