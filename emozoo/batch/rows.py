"""One output row per batch item: the prediction, or the error that stopped it.

A row is a dict with the columns :func:`row_columns` lists: ``key``, ``inputs`` (what
was read), ``top``, ``confidence``, one probability column per label, ``modalities``
(those used, ``"face+text"``), ``not_used`` (``{modality: reason}`` for inputs given but
not used) and ``error`` (``None``, or why the item, or one of its files, could not be
read). Probabilities are rounded to 4 decimals, as :meth:`Prediction.to_dict` does.

Both runners (local and Beam) build rows with :func:`predict_rows`, so their rows are
the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np

from emozoo.batch.inputs import BatchItem

#: Modalities a video can feed (frames and the audio track).
VIDEO_MODALITIES = ("face", "audio")
#: The prefix :meth:`EmotionRecognizer.predict_batch` gives reasons of unreadable files.
UNREADABLE = "unreadable: "


def row_columns(labels: Sequence[str]) -> list[str]:
    """The output columns for a model's ``labels``, in order.

    >>> row_columns(["happy", "sad"])
    ['key', 'inputs', 'top', 'confidence', 'happy', 'sad', 'modalities', 'not_used', 'error']
    """
    return ["key", "inputs", "top", "confidence", *labels, "modalities", "not_used", "error"]


def make_row(
    item: BatchItem,
    labels: Sequence[str],
    probabilities: dict[str, float] | None = None,
    modalities: Sequence[str] = (),
    not_used: dict[str, str] | None = None,
    error: str | None = None,
) -> dict:
    """A row from its parts (probabilities rounded; ``top`` is the most probable label)."""
    row: dict[str, Any] = {"key": item.key, "inputs": item.inputs, "top": None, "confidence": None}
    for label in labels:
        row[label] = None
    if probabilities:
        top = max(probabilities, key=probabilities.__getitem__)
        row["top"], row["confidence"] = top, round(float(probabilities[top]), 4)
        for label in labels:
            row[label] = round(float(probabilities[label]), 4)
    row["modalities"] = "+".join(modalities)
    row["not_used"] = dict(not_used or {})
    row["error"] = error
    return row


def error_row(item: BatchItem, labels: Sequence[str], error: BaseException | str) -> dict:
    """The row of an item that could not be run."""
    message = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    return make_row(item, labels, error=message)


def _prediction_row(item: BatchItem, labels: Sequence[str], prediction) -> dict:
    unreadable = {m: r for m, r in prediction.not_used.items() if r.startswith(UNREADABLE)}
    error = "; ".join(f"{m}: {r[len(UNREADABLE) :]}" for m, r in unreadable.items()) or None
    return make_row(
        item,
        labels,
        prediction.probabilities,
        prediction.modalities_used,
        prediction.not_used,
        error,
    )


def video_row(recognizer, item: BatchItem, every: float = 0.5) -> dict:
    """A video's row: the mean of its time steps' probabilities (a frame every ``every``
    seconds, every tracked face and the audio track; :func:`analyze_video`)."""
    labels = recognizer.labels
    try:
        analysis = recognizer.analyze_video(item.video, every=every, progress=False)
    except (ValueError, FileNotFoundError, OSError) as error:  # MediaError is a ValueError
        return error_row(item, labels, error)
    steps = [row for row in analysis.rows if row["top"] is not None]
    used: list[str] = []
    for step in steps:
        used += [m for m in step["modalities"].split("+") if m not in used]
    not_used = {}
    for modality in VIDEO_MODALITIES:
        if modality in recognizer.modalities and modality not in used:
            notes = [n for n in analysis.notices if modality in n]
            not_used[modality] = "; ".join(notes) or f"no {modality} in the sampled steps"
    probabilities = None
    if steps:
        mean = np.mean([[step[label] for label in labels] for step in steps], axis=0)
        probabilities = dict(zip(labels, mean.tolist(), strict=True))
    return make_row(item, labels, probabilities, used, not_used)


def _read_text_file(path: str) -> str:
    return Path(path).read_text(encoding="utf-8")


def predict_rows(recognizer, items: Sequence[BatchItem], video_every: float = 0.5) -> list[dict]:
    """The rows of ``items``, in order: photos, audio and texts batched through
    :meth:`~emozoo.EmotionRecognizer.predict_batch`, videos one by one.

    A file that cannot be read gives its item an ``error`` and never stops the batch.
    """
    labels = recognizer.labels
    per_speaker = getattr(recognizer, "speaker_normalisation", None) is not None
    rows: list[dict | None] = [None] * len(items)
    batch: list[tuple[int, str | None]] = []  # (position, text)
    for i, item in enumerate(items):
        if item.error is not None:
            rows[i] = error_row(item, labels, item.error)
        elif per_speaker and item.speaker is None:
            rows[i] = error_row(
                item,
                labels,
                f"{recognizer.model_name} standardises each speaker's inputs: give the row a "
                "speaker (a manifest's speaker column)",
            )
        elif item.video is not None:
            rows[i] = video_row(recognizer, item, video_every)
        elif item.text_file is not None:
            try:
                batch.append((i, _read_text_file(item.text_file)))
            except (OSError, UnicodeDecodeError) as error:
                rows[i] = error_row(item, labels, error)
        else:
            batch.append((i, item.text))
    if batch:
        for (i, _), row in zip(batch, _predict_many(recognizer, items, batch), strict=True):
            rows[i] = row
    return cast(list[dict], rows)  # every position is filled above


def _predict_many(recognizer, items, batch) -> list[dict]:
    """Rows of the items at ``batch``'s positions, predicted together; if the batch
    fails as a whole (an error ``on_error="skip"`` does not cover), item by item."""
    labels = recognizer.labels
    per_speaker = getattr(recognizer, "speaker_normalisation", None) is not None

    def run(members):
        face_aus = [items[i].face_au for i, _ in members]
        predictions = recognizer.predict_batch(
            images=[items[i].image for i, _ in members],
            texts=[text for _, text in members],
            audios=[items[i].audio for i, _ in members],
            # only where given: models without the face_au modality refuse the argument
            face_aus=face_aus if any(face_aus) else None,
            on_error="skip",
            speakers=[items[i].speaker for i, _ in members] if per_speaker else None,
        )
        return [
            _prediction_row(items[i], labels, p)
            for (i, _), p in zip(members, predictions, strict=True)
        ]

    try:
        return run(batch)
    except Exception as error:  # one bad item must not fail its neighbours: retry in groups
        if len(batch) == 1:
            return [error_row(items[batch[0][0]], labels, error)]
    # One by one; a per-speaker model's items go together by speaker (one item alone
    # cannot be standardised), so only a failing speaker's rows get its error.
    groups: dict[object, list] = {}
    for member in batch:
        key = items[member[0]].speaker if per_speaker else member[0]
        groups.setdefault(key, []).append(member)
    rows_at: dict[int, dict] = {}
    for members in groups.values():
        try:
            found = run(members)
        except Exception as error:
            found = [error_row(items[i], labels, error) for i, _ in members]
        rows_at.update({i: row for (i, _), row in zip(members, found, strict=True)})
    return [rows_at[i] for i, _ in batch]
