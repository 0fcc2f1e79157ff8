"""WordPiece tokenization in plain Python: the same ids as keras-hub's
``WordPieceTokenizer``, without TensorFlow.

Inference on a few texts should not pay TensorFlow's start-up (seconds) to split words.
This is keras-hub 0.32's own TensorFlow-free path (``pretokenize_python``,
``casefold_utf8``, ``_tokenize_word_python``; Apache-2.0), reduced to what emozoo's
vocabularies use, and kept importable without Keras: BERT pre-tokenization (accents
stripped after NFD, split on whitespace, control characters, punctuation and CJK
ideographs, NFKC case folding), then greedy longest-match-first subwords with ``##``
continuations; words longer than 100 UTF-8 bytes or with no match are ``[UNK]``.
``tests/preprocessing/test_wordpiece.py`` checks it against keras-hub's TensorFlow path on thousands
of dataset texts.
"""

from __future__ import annotations

import functools
import unicodedata
from pathlib import Path

import regex

_WHITESPACE = r"[ \t\n\r\f]|\p{Cc}|\p{Cf}"  # RE2's \s is ASCII whitespace only
_PUNCTUATION = r"[!-/]|[:-@]|[\[-`]|[{-~]|[\p{P}]"
_CJK = (
    r"[\u4E00-\u9FFF]|[\u3400-\u4DBF]|[\U00020000-\U0002A6DF]|[\U0002A700-\U0002B73F]"
    r"|[\U0002B740-\U0002B81F]|[\U0002B820-\U0002CEAF]|[\uF900-\uFAFF]|[\U0002F800-\U0002FA1F]"
)
_SPLIT = regex.compile(f"{_WHITESPACE}|{_PUNCTUATION}|{_CJK}")
_KEEP = regex.compile(f"{_PUNCTUATION}|{_CJK}")
#: Words longer than this many UTF-8 bytes are unknown (tf-text's FastWordpieceTokenizer).
MAX_BYTES_PER_WORD = 100
#: Unicode default-ignorable code points, dropped by NFKC_Casefold.
_IGNORABLE = (
    (0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C), (0x115F, 0x1160),
    (0x17B4, 0x17B5), (0x180B, 0x180F), (0x200B, 0x200F), (0x202A, 0x202E),
    (0x2060, 0x206F), (0x3164, 0x3164), (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)  # fmt: skip


def _ignorable(char: str) -> bool:
    code = ord(char)
    return any(low <= code <= high for low, high in _IGNORABLE)


def casefold(text: str) -> str:
    """Unicode NFKC_Casefold (what ``tf_text.case_fold_utf8`` applies)."""
    text = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    return "".join(c for c in text if not _ignorable(c))


def pretokenize(text: str, lowercase: bool = True, strip_accents: bool = True) -> list[str]:
    """BERT's basic tokenization: the words and punctuation marks of ``text``."""
    if strip_accents:
        text = unicodedata.normalize("NFD", text)
        text = "".join(c for c in text if unicodedata.category(c) != "Mn")
    words, position = [], 0
    for match in _SPLIT.finditer(text):
        if match.start() > position:
            words.append(text[position : match.start()])
        if _KEEP.fullmatch(match.group()):
            words.append(match.group())
        position = match.end()
    if position < len(text):
        words.append(text[position:])
    return [casefold(w) for w in words] if lowercase else words


class WordPiece:
    """Token ids of strings for one vocabulary file (one token per line)."""

    def __init__(
        self,
        vocabulary: str | Path,
        lowercase: bool = True,
        strip_accents: bool = True,
        unknown_token: str = "[UNK]",
    ):
        tokens = Path(vocabulary).read_text(encoding="utf-8").splitlines()
        # Built in order, as keras-hub's token -> id map is (a repeated token: its last id).
        self.ids = {token: i for i, token in enumerate(tokens)}
        if unknown_token not in self.ids:
            raise ValueError(f"{vocabulary} has no {unknown_token!r} token")
        self.unknown = self.ids[unknown_token]
        self.lowercase, self.strip_accents = lowercase, strip_accents

    @functools.lru_cache(maxsize=65536)  # noqa: B019  (one instance per vocabulary)
    def _word(self, word: str) -> tuple[int, ...]:
        if not word:
            return ()
        if len(word.encode("utf-8")) > MAX_BYTES_PER_WORD:
            return (self.unknown,)
        pieces, start = [], 0
        while start < len(word):
            end, found = len(word), None
            while start < end:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                if piece in self.ids:
                    found = self.ids[piece]
                    break
                end -= 1
            if found is None:
                return (self.unknown,)
            pieces.append(found)
            start = end
        return tuple(pieces)

    def __call__(self, text: str) -> list[int]:
        """The ids of one string, unpadded."""
        ids: list[int] = []
        for word in pretokenize(text, self.lowercase, self.strip_accents):
            ids.extend(self._word(word))
        return ids
