"""Per-speaker standardisation: each speaker's values centred and scaled by that speaker's
own mean and standard deviation.

Faces and voices differ more between people than between one person's emotions: one
actor's resting face shows AU12 at 1.5, another's at 0.2. Standardising each person's
values over their own recordings removes that offset, the way a listener calibrates to
a speaker (per-speaker normalisation is standard practice in speech emotion recognition).
It needs several recordings of each person, all of them spread over what is to be
recognised; a model trained this way (a card's ``speaker_normalisation``) is given a
speaker id per item (``EmotionRecognizer.predict_batch(..., speakers=...)``).
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

#: One speaker id per item: any hashable values (names, numbers), as a list or an array.
SpeakerIds = Sequence[Hashable] | np.ndarray

#: Floor of a speaker's standard deviation: a value one speaker never varies stays 0.
STD_FLOOR = 1e-6


@dataclass(frozen=True)
class SpeakerNormalisation:
    """What a model standardises per speaker (a card's ``speaker_normalisation``).

    Attributes:
        inputs: modalities whose preprocessed inputs (feature vectors such as the AUs)
            are standardised before the model sees them.
        embeddings: modalities whose encoder embeddings are standardised before the head.
        min_clips: the fewest items a speaker must have: fewer give a poor estimate of
            the speaker's mean and spread.
    """

    inputs: tuple[str, ...] = ()
    embeddings: tuple[str, ...] = ()
    min_clips: int = 8

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SpeakerNormalisation:
        """From a card's JSON object (unknown keys are an error)."""
        known = {"inputs", "embeddings", "min_clips"}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"speaker_normalisation: unknown keys {sorted(unknown)}")
        for key in ("inputs", "embeddings"):
            if isinstance(data.get(key), str):
                raise ValueError(f"speaker_normalisation.{key} is a list of modalities")
        if int(data.get("min_clips", 8)) < 1:
            raise ValueError("speaker_normalisation.min_clips must be at least 1")
        return cls(
            inputs=tuple(data.get("inputs", ())),
            embeddings=tuple(data.get("embeddings", ())),
            min_clips=int(data.get("min_clips", 8)),
        )

    def to_dict(self) -> dict[str, Any]:
        """The card's JSON object."""
        return {
            "inputs": list(self.inputs),
            "embeddings": list(self.embeddings),
            "min_clips": self.min_clips,
        }

    @property
    def modalities(self) -> tuple[str, ...]:
        """Every modality standardised at either stage."""
        return (*self.inputs, *(m for m in self.embeddings if m not in self.inputs))


def speaker_statistics(
    values: np.ndarray, speakers: SpeakerIds, *, min_clips: int = 1
) -> dict[Hashable, tuple[np.ndarray, np.ndarray]]:
    """``{speaker: (mean, std)}`` over each speaker's rows of ``values`` (``(n, ...)``;
    ``NaN`` entries, unknown values, are ignored).

    Raises:
        ValueError: ``speakers`` does not give one id per row, or a speaker has fewer
            than ``min_clips`` rows.
    """
    values = np.asarray(values, np.float64)
    ids = list(speakers)
    if len(ids) != len(values):
        raise ValueError(f"{len(ids)} speaker ids for {len(values)} items: give one per item")
    rows: dict[Hashable, list[int]] = {}
    for i, speaker in enumerate(ids):
        rows.setdefault(speaker, []).append(i)
    few = {s: len(r) for s, r in rows.items() if len(r) < min_clips}
    if few:
        shown = ", ".join(f"{s!r}: {n}" for s, n in list(few.items())[:5])
        raise ValueError(
            f"per-speaker standardisation needs at least {min_clips} items of each speaker; "
            f"{len(few)} speaker(s) have fewer ({shown})"
        )
    statistics = {}
    for speaker, indices in rows.items():
        own = values[indices]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns stay NaN
            mean = np.nanmean(own, axis=0)
            std = np.nanstd(own, axis=0)
        # A column the speaker never measured (all NaN) keeps NaN: unknown stays unknown.
        statistics[speaker] = (mean, np.maximum(np.nan_to_num(std, nan=1.0), STD_FLOOR))
    return statistics


def standardise_by_speaker(
    values: np.ndarray,
    speakers: SpeakerIds,
    *,
    statistics: dict[Hashable, tuple[np.ndarray, np.ndarray]] | None = None,
    min_clips: int = 1,
) -> np.ndarray:
    """``values`` (``(n, ...)``) with each row standardised by its speaker's mean and
    standard deviation: the speakers' own (:func:`speaker_statistics`) unless
    ``statistics`` are given (for example taken from clean copies and applied to
    augmented ones). Returns float32.

    >>> x = np.array([[1.0], [3.0], [10.0], [30.0]])
    >>> standardise_by_speaker(x, ["a", "a", "b", "b"]).ravel().tolist()
    [-1.0, 1.0, -1.0, 1.0]
    """
    values = np.asarray(values, np.float64)
    ids = list(speakers)
    if statistics is None:
        statistics = speaker_statistics(values, ids, min_clips=min_clips)
    elif len(ids) != len(values):
        raise ValueError(f"{len(ids)} speaker ids for {len(values)} items: give one per item")
    out = np.empty_like(values)
    for i, speaker in enumerate(ids):
        if speaker not in statistics:
            raise ValueError(f"no statistics for speaker {speaker!r}")
        mean, std = statistics[speaker]
        out[i] = (values[i] - mean) / std
    return out.astype(np.float32)


def standardise_rows_by_speaker(
    values: np.ndarray,
    row_items: Sequence[int] | np.ndarray,
    item_speakers: Sequence[Hashable],
    *,
    min_clips: int = 1,
) -> np.ndarray:
    """``values`` whose rows belong to items (``row_items[r]``: several rows may be one
    item, as an audio clip's windows), standardised by each speaker's statistics over one
    value per item (the mean of its rows), so a long recording counts once and
    ``min_clips`` counts items; ``item_speakers[i]`` is item ``i``'s speaker."""
    values = np.asarray(values, np.float64)
    owners = np.asarray(row_items)
    order = list(dict.fromkeys(owners.tolist()))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN item stays NaN
        per_item = np.stack([np.nanmean(values[owners == i], axis=0) for i in order])
    statistics = speaker_statistics(
        per_item, [item_speakers[i] for i in order], min_clips=min_clips
    )
    return standardise_by_speaker(
        values, [item_speakers[i] for i in owners.tolist()], statistics=statistics
    )
