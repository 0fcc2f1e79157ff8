"""The batch job in this process: chunks of items through the recognizer, rows appended
to the output as each chunk finishes (so a killed run loses at most one chunk)."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

from emozoo.batch.inputs import BatchItem
from emozoo.batch.outputs import LocalOutput
from emozoo.batch.rows import predict_rows, row_columns

#: Items given to :meth:`EmotionRecognizer.predict_batch` at once (and appended at once).
CHUNK_ITEMS = 32


@dataclass
class BatchSummary:
    """What a batch run did: items listed, skipped (already in the output), run,
    rows with an error, and where the rows are."""

    items: int
    skipped: int
    written: int
    errors: int
    out: str

    def __str__(self) -> str:
        return (
            f"{self.items} items: {self.skipped} already in {self.out}, {self.written} "
            f"written ({self.errors} with an error)"
        )


def _progress_bar(enabled: bool, total: int):
    """A ``rich`` progress bar (``rich`` comes with Keras), or a no-op."""
    if not enabled or not total:
        return nullcontext(None)
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        transient=False,
    )


def run_local(
    recognizer,
    items: Sequence[BatchItem],
    out: str | Path,
    *,
    chunk_items: int = CHUNK_ITEMS,
    video_every: float = 0.5,
    progress: bool = True,
) -> BatchSummary:
    """Run ``items`` through ``recognizer`` and add their rows to ``out``.

    Items whose key is already in ``out`` are skipped (a re-run resumes); a file that
    cannot be read gives a row with its ``error``. For a model with per-speaker
    normalisation, each chunk holds whole speakers (a speaker's items are standardised
    together).

    >>> from emozoo import EmotionRecognizer
    >>> from emozoo.batch import list_inputs, run_local
    >>> run_local(EmotionRecognizer(), list_inputs("photos/"), "results.csv")  # doctest: +SKIP
    """
    if chunk_items < 1:
        raise ValueError(f"chunk_items must be at least 1, got {chunk_items}")
    errors = 0
    with LocalOutput(out, row_columns(recognizer.labels)) as output:
        todo = [item for item in items if item.key not in output.done]
        with _progress_bar(progress, len(todo)) as bar:
            task = bar.add_task("emozoo batch", total=len(todo)) if bar else None
            for chunk in _chunks(recognizer, todo, chunk_items):
                rows = predict_rows(recognizer, chunk, video_every=video_every)
                output.write(rows)
                errors += sum(row["error"] is not None for row in rows)
                if bar:
                    bar.advance(task, len(chunk))
        written = output.written
    return BatchSummary(len(items), len(items) - len(todo), written, errors, str(out))


def _chunks(recognizer, items: Sequence[BatchItem], size: int) -> list[list[BatchItem]]:
    """``items`` in chunks of ``size``; for a per-speaker model, chunks of whole speakers
    (each speaker's items together, in first-seen order, at least ``size`` per chunk)."""
    if getattr(recognizer, "speaker_normalisation", None) is None:
        return [list(items[start : start + size]) for start in range(0, len(items), size)]
    by_speaker: dict[str | None, list[BatchItem]] = {}
    for item in items:
        by_speaker.setdefault(item.speaker, []).append(item)
    chunks: list[list[BatchItem]] = [[]]
    for members in by_speaker.values():
        if len(chunks[-1]) >= size:
            chunks.append([])
        chunks[-1].extend(members)
    return [chunk for chunk in chunks if chunk]
