"""How each source's labels map onto a model's label set (canonical by default).

Canonical order: angry, disgust, fear, happy, sad, surprise, neutral. Mappings that
merge or rename classes are listed here, once, and documented in the README:

- CARER: joy and love -> happy, sadness -> sad, anger -> angry (no disgust, no neutral).
- GoEmotions (Ekman taxonomy): joy -> happy, sadness -> sad, anger -> angry.
- MELD: joy -> happy, sadness -> sad, anger -> angry.
- RAVDESS: calm -> neutral, fearful -> fear, surprised -> surprise.
- TESS: pleasant_surprise -> surprise.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from emozoo.labels import EMOTIONS

# GoEmotions' Ekman taxonomy and MELD use the same seven names.
_EKMAN_NAMES = {
    "anger": "angry",
    "disgust": "disgust",
    "fear": "fear",
    "joy": "happy",
    "sadness": "sad",
    "surprise": "surprise",
    "neutral": "neutral",
}

#: source label name -> canonical label name, per source.
TO_CANONICAL: dict[str, dict[str, str]] = {
    "fer2013": {e: e for e in EMOTIONS},
    "carer_emotion": {
        "sadness": "sad",
        "joy": "happy",
        "love": "happy",
        "anger": "angry",
        "fear": "fear",
        "surprise": "surprise",
    },
    "goemotions": _EKMAN_NAMES,
    "meld_text": _EKMAN_NAMES,
    "ravdess_speech": {
        "angry": "angry",
        "disgust": "disgust",
        "fearful": "fear",
        "happy": "happy",
        "sad": "sad",
        "surprised": "surprise",
        "neutral": "neutral",
        "calm": "neutral",
    },
    "tess": {
        "angry": "angry",
        "disgust": "disgust",
        "fear": "fear",
        "happy": "happy",
        "sad": "sad",
        "pleasant_surprise": "surprise",
        "neutral": "neutral",
    },
}

#: CARER's own 6 labels in its label_id order (dair-ai/emotion).
CARER_LABELS = ("sadness", "joy", "love", "anger", "fear", "surprise")


class UnknownLabelError(ValueError):
    """Label names that the target label set does not contain."""


def encode_labels(
    names: Iterable[str], label_set: Sequence[str], mapping: Mapping[str, str] | None = None
) -> np.ndarray:
    """Indices of ``names`` in ``label_set``, after renaming through ``mapping``.

    Matching ignores case and surrounding spaces. Raises :class:`UnknownLabelError`
    listing every name that is not in the label set.

    >>> encode_labels(["Happy", "sad"], ["happy", "sad"]).tolist()
    [0, 1]
    """
    index = {name.strip().lower(): i for i, name in enumerate(label_set)}
    mapping = {k.strip().lower(): v for k, v in (mapping or {}).items()}
    out, unknown = [], set()
    for name in names:
        key = str(name).strip().lower()
        key = mapping.get(key, key).strip().lower()
        if key not in index:
            unknown.add(str(name))
            out.append(-1)
        else:
            out.append(index[key])
    if unknown:
        raise UnknownLabelError(
            f"Unknown label names {sorted(unknown)}; the label set is {list(label_set)}"
        )
    return np.asarray(out, dtype=np.int64)
