"""Micro-batching: requests that arrive together go through the model in one call.

Request handlers decode their uploads and :meth:`MicroBatcher.submit` a :class:`Job`;
a worker thread takes the first job waiting, drains every job queued behind it (up to
``max_batch`` samples) and runs them through ``EmotionRecognizer.predict_batch`` at
once. Under load the batches fill by themselves while the previous one runs; an idle
server answers a lone request at once (no waiting for company).

Batching pays only where the network runs a batch in one call: the Keras runner (split
encoders and a batched fusion head; measured in process, 48 samples with contributions:
18.3 samples/s batched, 10.6 one by one). The LiteRT runner runs the model once per row
whatever the batch (6.0 against 6.4 samples/s), so there ``max_batch`` defaults to 1:
requests share the queue and the recognizer, and each is answered as soon as its own
prediction is done instead of waiting for the rest of its batch.

The queue is bounded: :meth:`MicroBatcher.submit` raises :class:`QueueFull` rather than
letting requests pile up, and the app answers 503 with ``Retry-After``.
"""

from __future__ import annotations

import logging
import queue
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field

import numpy as np

log = logging.getLogger("emozoo.serve")

#: The exceptions that mean one sample is unusable (the rest of a batch still runs).
SAMPLE_ERRORS = (ValueError, TypeError, FileNotFoundError)


@dataclass
class Sample:
    """One sample, decoded: an RGB image, a text and a ``(waveform, rate)`` audio, any subset."""

    image: np.ndarray | None = None
    text: str | None = None
    audio: tuple[np.ndarray, int] | None = None
    detect_faces: bool | None = None


@dataclass
class Job:
    """One request's samples and the future its handler awaits (a list of predictions)."""

    samples: list[Sample]
    future: Future = field(default_factory=Future)


class QueueFull(Exception):
    """The batcher's queue holds ``queue_size`` jobs already."""


class SampleError(Exception):
    """Sample ``index`` of a job is unusable; ``error`` is the recognizer's exception."""

    def __init__(self, index: int, error: Exception):
        super().__init__(str(error))
        self.index = index
        self.error = error


_STOP = object()

#: Samples per model call where batching pays (the Keras runner batches its network).
BATCH_WHERE_IT_PAYS = 32


def batching_pays(recognizer) -> bool:
    """Whether requests batched together cost less than one by one: the recognizer's
    runner says so (:attr:`~emozoo.inference.runner.Runner.prefers_batching`: the Keras
    runner runs a batch in one call; the LiteRT runner runs the model once per row
    whatever the batch, so batching would only make early requests wait for later
    ones). A recognizer without a runner is taken to batch."""
    runner = getattr(recognizer, "runner", None)
    return bool(getattr(runner, "prefers_batching", True))


def default_max_batch(recognizer) -> int:
    """:data:`BATCH_WHERE_IT_PAYS` where :func:`batching_pays`, else 1."""
    return BATCH_WHERE_IT_PAYS if batching_pays(recognizer) else 1


class MicroBatcher:
    """Worker threads that run queued jobs through one shared recognizer in batches.

    Args:
        recognizer: an :class:`~emozoo.inference.EmotionRecognizer` (thread-safe).
        queue_size: jobs that may wait; :meth:`submit` raises :class:`QueueFull` beyond.
        max_batch: samples per ``predict_batch`` call.
        workers: worker threads (each runs one batch at a time).
    """

    def __init__(self, recognizer, queue_size: int = 64, max_batch: int = 32, workers: int = 1):
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self.recognizer = recognizer
        self.max_batch = max_batch
        self._queue: queue.Queue = queue.Queue(maxsize=queue_size)
        self._threads = [
            threading.Thread(target=self._work, name=f"emozoo-batcher-{i}", daemon=True)
            for i in range(workers)
        ]
        self._started = False
        self.batches = 0  # calls to predict_batch, for tests and the bench
        self.samples = 0

    # -- life cycle ----------------------------------------------------------------
    def start(self) -> None:
        if not self._started:
            self._started = True
            for thread in self._threads:
                thread.start()

    def stop(self, timeout: float | None = None) -> None:
        """Finish the jobs queued, then end the workers."""
        if not self._started:
            return
        for _ in self._threads:
            self._queue.put(_STOP)
        for thread in self._threads:
            thread.join(timeout)
        self._started = False

    @property
    def running(self) -> bool:
        return self._started and all(thread.is_alive() for thread in self._threads)

    @property
    def waiting(self) -> int:
        """Jobs in the queue (not yet taken by a worker)."""
        return self._queue.qsize()

    # -- requests ------------------------------------------------------------------
    def submit(self, samples: list[Sample]) -> Future:
        """Queue ``samples`` (one request) and return the future of their predictions."""
        job = Job(samples)
        try:
            self._queue.put_nowait(job)
        except queue.Full:
            raise QueueFull(f"{self._queue.maxsize} requests are waiting already") from None
        return job.future

    # -- the worker ----------------------------------------------------------------
    def _take(self) -> list[Job] | None:
        """The next batch of jobs: the first to arrive and those queued behind it."""
        first = self._queue.get()
        if first is _STOP:
            return None
        jobs, count = [first], len(first.samples)
        while count < self.max_batch:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                break
            if job is _STOP:
                self._queue.put(_STOP)  # for this worker's next turn
                break
            jobs.append(job)
            count += len(job.samples)
        return jobs

    def _work(self) -> None:
        while True:
            jobs = self._take()
            if jobs is None:
                return
            live = [job for job in jobs if job.future.set_running_or_notify_cancel()]
            try:
                self._run(live)
            except BaseException as error:  # never leave a handler waiting
                log.exception("prediction failed")
                for job in live:
                    if not job.future.done():
                        job.future.set_exception(error)

    def _run(self, jobs: list[Job]) -> None:
        groups: dict[bool | None, list[Job]] = {}
        for job in jobs:
            flags = {s.detect_faces for s in job.samples}
            if len(flags) == 1:
                groups.setdefault(flags.pop(), []).append(job)
            else:  # samples that differ in detect_faces: one call each
                self._one_by_one(job)
        for flag, members in groups.items():
            self._batch(members, flag)

    def _batch(self, jobs: list[Job], detect_faces: bool | None) -> None:
        samples = [s for job in jobs for s in job.samples]
        try:
            predictions = self.recognizer.predict_batch(
                images=[s.image for s in samples],
                texts=[s.text for s in samples],
                audios=[s.audio for s in samples],
                detect_faces=detect_faces,
                contributions=True,
            )
        except SAMPLE_ERRORS:
            # One unusable sample fails the whole call: rerun sample by sample, so that
            # only the request that sent it gets the error.
            for job in jobs:
                self._one_by_one(job)
            return
        self.batches += 1
        self.samples += len(samples)
        start = 0
        for job in jobs:
            job.future.set_result(predictions[start : start + len(job.samples)])
            start += len(job.samples)

    def _one_by_one(self, job: Job) -> None:
        results = []
        for index, s in enumerate(job.samples):
            try:
                results.append(
                    self.recognizer.predict(
                        image=s.image, text=s.text, audio=s.audio, detect_faces=s.detect_faces
                    )
                )
            except SAMPLE_ERRORS as error:
                job.future.set_exception(SampleError(index, error))
                return
        self.batches += len(job.samples)
        self.samples += len(job.samples)
        job.future.set_result(results)
