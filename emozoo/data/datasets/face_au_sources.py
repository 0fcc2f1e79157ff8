"""Facial action units: RAVDESS trials as OpenFace 2 AU means, paired with their speech.

``ravdess_face_au`` holds, for each of the 1,440 RAVDESS speech trials, the AUs measured
on the audio-visual video of the same trial: real face + voice pairs (one actor, one
moment), split by actor as ``ravdess_speech``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from emozoo.data.datasets.audio_sources import RAVDESS_ACTORS
from emozoo.data.datasets.common import (
    DatasetNotFoundError,
    encode_source_labels,
    resolve_split,
    source_root,
)
from emozoo.data.records import Records

NAME = "ravdess_face_au"
FILE = "ravdess_face_au.npz"


def _read(split: str, root) -> tuple[str, dict[str, np.ndarray], np.ndarray]:
    split = resolve_split(NAME, split, (*RAVDESS_ACTORS, "all"), {"validation": "val"})
    path = source_root(NAME, root) / FILE
    if not path.is_file():
        raise DatasetNotFoundError(f"{path} not found")
    with np.load(path) as data:  # plain arrays only: allow_pickle stays off
        arrays = {k: data[k] for k in data.files}
    actors = arrays["actor"].astype(np.int64)
    keep = np.ones(len(actors), bool) if split == "all" else np.isin(actors, RAVDESS_ACTORS[split])
    return split, arrays, np.flatnonzero(keep)


def load_ravdess_face_au(
    split: str, root: str | Path | None = None, labels: str | Sequence[str] = "canonical"
) -> Records:
    """RAVDESS facial AUs by actor: ``train`` (1-18), ``val`` (19-20), ``trainval``
    (1-20), ``test`` (21-24) or ``all``; items are ``(n, 35)`` float32 AU means in
    :data:`emozoo.preprocessing.AU_NAMES` order. Calm is mapped to neutral."""
    from emozoo.preprocessing.face_au import AU_NAMES

    split, arrays, rows = _read(split, root)
    names = tuple(str(n) for n in arrays["au_names"])
    if names != AU_NAMES:
        raise ValueError(f"{NAME}: AU columns {names} differ from {AU_NAMES}")
    emotions = [str(e) for e in arrays["emotion"][rows]]
    indices, label_names = encode_source_labels("ravdess_speech", emotions, labels)
    report = {"calm_as_neutral": sum(e == "calm" for e in emotions)}
    items = arrays["au"][rows].astype(np.float32)
    return Records(NAME, split, "face_au", items, indices, label_names, report)


def load_ravdess_au_pairs(
    split: str, root: str | Path | None = None, labels: str | Sequence[str] = "canonical"
) -> dict[str, Records]:
    """Real face + voice pairs: ``{"face_au": AU records, "audio": speech records}``,
    item ``i`` of both from the same RAVDESS trial (same labels, same order).

    The speech files are ``ravdess_speech``'s (``audio/Actor_AA/<audio_stem>.flac``).
    """
    face_au = load_ravdess_face_au(split, root, labels)
    _, arrays, rows = _read(split, root)
    folder = source_root("ravdess_speech", root)
    paths = [
        str(folder / "audio" / f"Actor_{int(a):02d}" / f"{s}.flac")
        for s, a in zip(arrays["audio_stem"][rows], arrays["actor"][rows], strict=True)
    ]
    missing = [p for p in paths if not Path(p).is_file()]
    if missing:
        raise DatasetNotFoundError(
            f"{len(missing)} speech files of {NAME} missing, e.g. {missing[0]}"
        )
    audio = Records(
        "ravdess_speech", face_au.split, "audio", paths, face_au.labels, face_au.label_names
    )
    return {"face_au": face_au, "audio": audio}


def trial_actors(split: str, root: str | Path | None = None) -> np.ndarray:
    """The actor (1-24) of each item of ``split``, in the adapters' order."""
    _, arrays, rows = _read(split, root)
    return arrays["actor"][rows].astype(np.int64)
