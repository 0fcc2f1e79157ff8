"""Real-time emotion analysis of a stream: tracked faces, sliding windows, audio windows.

What runs for each frame (:class:`LiveAnalyzer`):

1. The frame is converted to grayscale and every tracked face is followed into it
   (template matching, :class:`~emozoo.streaming.tracking.FaceTracker`); BlazeFace runs
   instead every ``detect_every`` frames and when a face is lost.
2. A face whose network estimate is ``infer_every`` frames old (or new) has its crop cut
   (levelled by its eyes) and queued.
3. Every ``audio_every`` seconds the audio window ending at the frame is taken (while
   there is no sound, or only silence, it is looked for again at the next frame).
4. Every ``batch_frames`` frames the queued crops go through the network together,
   each with the latest audio window (``face+audio``), and the new audio windows alone.
   Each face's probabilities go into its :class:`~emozoo.streaming.window.SlidingWindow`.
5. Each frame of the batch is then given, for each of its faces, the mean of that
   face's estimates over the last ``window`` seconds up to the frame's time (never a
   later one), and the latest audio-alone estimate.

So every face of every frame has an emotion estimate; the network sees a face's crop
in one frame of ``infer_every``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np

from emozoo.inference.batching import HeadPlan
from emozoo.inference.faces import to_gray
from emozoo.streaming.sources import Frame
from emozoo.streaming.tracking import FaceTracker, TrackedFace
from emozoo.streaming.window import Estimate, SlidingWindow

#: Stages timed by :class:`LiveStats`: reading and decoding frames, tracking faces,
#: cutting and preparing crops, the network, making rows, writing outputs (the caller's).
STAGES = ("read", "track", "crop", "network", "rows", "write")
#: The modalities a stream gives, in the order a row names them ("face+audio").
LIVE_MODALITIES = ("face", "audio")


@dataclass
class LiveSettings:
    """How much runs per frame (see the module docstring).

    Attributes:
        detect_every: frames between face detections (a lost face is detected at once).
        detect_max_side: frames are scaled to this longer side for detection; ``None``
            detects at full size (slower; also finds faces under a tenth of the frame).
        infer_every: frames between network estimates of a face (1: every frame).
        window: seconds of estimates averaged per face.
        audio_every: seconds between audio windows (each is the model's 3 s window).
        batch_frames: frames whose crops go through the network together (the
            analysis is that many frames behind the stream).
        max_faces: follow at most the N largest faces.
    """

    detect_every: int = 10
    detect_max_side: int | None = 480
    infer_every: int = 3
    window: float = 1.0
    audio_every: float = 1.0
    batch_frames: int = 4
    max_faces: int | None = None

    def check(self) -> None:
        for name in ("detect_every", "infer_every", "batch_frames"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        for name in ("window", "audio_every"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive (seconds), got {getattr(self, name)}")
        if self.max_faces is not None and self.max_faces < 1:
            raise ValueError(f"max_faces must be at least 1, got {self.max_faces}")


@dataclass
class FrameResult:
    """One analysed frame: the frame, its ``faces`` (tracked), one row per face (or one
    row with ``track`` ``None`` when there is none: the audio alone, if any), and the
    latest audio-alone ``audio`` estimate."""

    frame: Frame
    faces: list[TrackedFace]
    rows: list[dict]
    audio: Estimate | None = None


@dataclass
class LiveStats:
    """Counts and timings of a run: ``rtf`` is processing time over stream time."""

    frames: int = 0
    duration_s: float = 0.0
    processing_s: float = 0.0
    detections: int = 0
    face_estimates: int = 0
    audio_estimates: int = 0
    dropped: int = 0
    tracks: int = 0
    stage_ms: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STAGES, 0.0))

    @property
    def rtf(self) -> float | None:
        """Real-time factor: processing time / stream duration (< 1: faster than real time)."""
        return self.processing_s / self.duration_s if self.duration_s else None

    def per_frame_ms(self) -> dict[str, float]:
        """Each stage's mean milliseconds per frame."""
        n = max(1, self.frames)
        return {stage: round(ms / n, 3) for stage, ms in self.stage_ms.items()}

    def to_dict(self) -> dict:
        return {
            "frames": self.frames,
            "duration_s": round(self.duration_s, 3),
            "processing_s": round(self.processing_s, 3),
            "real_time_factor": None if self.rtf is None else round(self.rtf, 4),
            "detections": self.detections,
            "face_estimates": self.face_estimates,
            "audio_estimates": self.audio_estimates,
            "dropped_frames": self.dropped,
            "tracks": self.tracks,
            "per_frame_ms": self.per_frame_ms(),
        }


@dataclass
class _Track:
    window: SlidingWindow
    last_estimated: int | None = None
    last_seen: float = 0.0


@dataclass
class _Pending:
    """A frame waiting for its batch: its faces, the crops of those due an estimate
    (by track) and the audio window current at it."""

    frame: Frame
    faces: list[TrackedFace]
    crops: dict[int, np.ndarray] = field(default_factory=dict)
    audio_id: int | None = None


class LiveAnalyzer:
    """Analyse frames as they come (see the module docstring for what runs per frame).

    Args:
        recognizer: an :class:`~emozoo.EmotionRecognizer` whose model takes faces
            and/or audio.
        settings: :class:`LiveSettings`.

    >>> from emozoo import EmotionRecognizer
    >>> from emozoo.streaming import LiveAnalyzer, VideoSource
    >>> analyzer = LiveAnalyzer(EmotionRecognizer())  # doctest: +SKIP
    >>> for result in analyzer.analyze(VideoSource(camera=0)):  # doctest: +SKIP
    ...     print(result.frame.time, [(r["track"], r["top"]) for r in result.rows])
    """

    def __init__(self, recognizer, settings: LiveSettings | None = None):
        self.settings = settings or LiveSettings()
        self.settings.check()
        if getattr(recognizer, "speaker_normalisation", None) is not None:
            raise ValueError(
                f"{recognizer.model_name} standardises each speaker's inputs over many "
                "recordings; a live stream is not that: use a model without per-speaker "
                "normalisation"
            )
        self.recognizer = recognizer
        self.runner = recognizer.runner
        self.labels = tuple(self.runner.labels)
        pre = self.runner.preprocessor
        self.uses_faces = pre.face is not None
        self.uses_audio = pre.audio is not None
        if not (self.uses_faces or self.uses_audio):
            raise ValueError(f"{self.runner.name} takes neither faces nor audio")
        self.tracker = None
        if self.uses_faces:
            self.tracker = FaceTracker(
                recognizer.detector,
                detect_every=self.settings.detect_every,
                detect_max_side=self.settings.detect_max_side,
                max_faces=self.settings.max_faces or recognizer.max_faces,
            )
        self.stats = LiveStats()
        self._tracks: dict[int, _Track] = {}
        # Audio windows by id: the current one and those not yet estimated alone.
        self._audio_windows: dict[int, np.ndarray] = {}
        self._audio_new: list[int] = []
        self._audio_estimates: dict[int, np.ndarray] = {}
        self._audio_id: int | None = None
        self._audio_count = 0
        self._audio_time: float | None = None

    # -- the loop ----------------------------------------------------------------------
    def analyze(
        self, frames: Iterable[Frame], audio=None, fps: float = 30.0
    ) -> Iterator[FrameResult]:
        """A :class:`FrameResult` per frame of ``frames``, in order (``batch_frames``
        frames behind). ``audio``: an :class:`~emozoo.streaming.audio.AudioSource`;
        ``fps``: the stream's frame rate."""
        settings, stats = self.settings, self.stats
        if self.uses_faces and settings.window * fps < settings.infer_every:
            raise ValueError(
                f"a window of {settings.window} s at {fps:g} fps holds no estimate of a face "
                f"estimated every {settings.infer_every} frames; widen the window"
            )
        audio = audio if self.uses_audio else None
        pending: list[_Pending] = []
        started = clock = time.perf_counter()
        for frame in frames:
            stats.stage_ms["read"] += 1000 * (time.perf_counter() - clock)
            pending.append(self._next(frame, audio))
            stats.frames += 1
            stats.duration_s = frame.time + 1.0 / fps
            if len(pending) >= settings.batch_frames:
                yield from self._flush(pending)
                pending = []
            clock = time.perf_counter()
            stats.processing_s = clock - started
        if pending:
            yield from self._flush(pending)
        stats.processing_s = time.perf_counter() - started
        if self.tracker is not None:
            stats.detections = self.tracker.detections

    def _next(self, frame: Frame, audio) -> _Pending:
        """Track the frame's faces, cut the crops due an estimate, take audio if due."""
        start = time.perf_counter()
        pending = _Pending(frame, [])
        if self.tracker is not None:
            gray = to_gray(frame.bgr, order="bgr")
            pending.faces = self.tracker.update(frame.bgr, gray)
        due = []
        for face in pending.faces:
            track = self._tracks.get(face.track)
            if track is None:
                track = self._tracks[face.track] = _Track(SlidingWindow(self.settings.window))
                self.stats.tracks += 1
            track.last_seen = frame.time
            age = None if track.last_estimated is None else frame.index - track.last_estimated
            if age is None or age >= self.settings.infer_every:
                due.append(face)
                track.last_estimated = frame.index
        middle = time.perf_counter()
        self.stats.stage_ms["track"] += 1000 * (middle - start)
        if due:  # the detector's crop: the same framing and eye levelling as a photo's faces
            crop = self.recognizer.detector.crop
            pending.crops = {face.track: crop(gray, face.box, face.angle) for face in due}
        self.stats.stage_ms["crop"] += 1000 * (time.perf_counter() - middle)
        if audio is not None and (
            self._audio_time is None or frame.time - self._audio_time >= self.settings.audio_every
        ):
            window = audio.window(frame.time)
            self._audio_id = None
            if window is not None:  # else (silence, or no sound yet) try again next frame
                self._audio_time = frame.time
                self._audio_id = self._audio_count
                self._audio_count += 1
                self._audio_windows[self._audio_id] = window
                self._audio_new.append(self._audio_id)
        pending.audio_id = self._audio_id
        return pending

    # -- the network -----------------------------------------------------------------
    def _flush(self, pending: list[_Pending]) -> Iterator[FrameResult]:
        """Run the batch's crops and audio windows through the network, then make the
        batch's rows."""
        start = time.perf_counter()
        runner, pre = self.runner, self.runner.preprocessor
        face, audio = LIVE_MODALITIES
        requests = [(p, track) for p in pending for track in p.crops]
        heard_ids = {p.audio_id for p, _ in requests if p.audio_id is not None}
        ids = sorted(heard_ids | set(self._audio_new))
        banks, audio_row = {}, {}
        if ids:
            banks[audio] = runner.encode(audio, np.stack([self._audio_windows[i] for i in ids]))
            audio_row = {i: k for k, i in enumerate(ids)}
        plan = HeadPlan()
        alone = [plan.add({audio: audio_row[i]}) for i in self._audio_new]
        prepared = 0.0  # seconds spent preparing crops (counted as "crop", not "network")
        if requests:
            prepared = time.perf_counter()
            inputs = pre.face([p.crops[track] for p, track in requests])
            prepared = time.perf_counter() - prepared
            self.stats.stage_ms["crop"] += 1000 * prepared
            banks[face] = runner.encode(face, inputs)
        # Each face due an estimate, with the audio window current at its frame (if any).
        estimated = [
            plan.add({face: k, audio: None if p.audio_id is None else audio_row[p.audio_id]})
            for k, (p, _) in enumerate(requests)
        ]
        probabilities = plan.run(runner, banks)
        if self._audio_new:
            self._audio_estimates.update(zip(self._audio_new, probabilities[alone], strict=True))
            self.stats.audio_estimates += len(self._audio_new)
            self._audio_new = []
        for (p, track), at in zip(requests, estimated, strict=True):
            used = (face, audio) if p.audio_id is not None else (face,)
            self._tracks[track].window.add(p.frame.time, probabilities[at], used)
        self.stats.face_estimates += len(requests)
        middle = time.perf_counter()
        self.stats.stage_ms["network"] += 1000 * (middle - start - prepared)
        results = [self._result(p) for p in pending]
        self._forget(pending[-1].frame.time)
        self.stats.stage_ms["rows"] += 1000 * (time.perf_counter() - middle)
        yield from results

    def _forget(self, now: float) -> None:
        """Drop faces gone for longer than the window, and audio no frame will ask for."""
        window = self.settings.window
        for track in [t for t, s in self._tracks.items() if now - s.last_seen > window]:
            del self._tracks[track]
        current = self._audio_id
        self._audio_windows = {i: w for i, w in self._audio_windows.items() if i == current}
        self._audio_estimates = {i: p for i, p in self._audio_estimates.items() if i == current}

    # -- rows --------------------------------------------------------------------------
    def _result(self, pending: _Pending) -> FrameResult:
        frame = pending.frame
        audio = None
        if pending.audio_id is not None:
            audio = Estimate(self._audio_estimates[pending.audio_id], 1, ("audio",))
        rows = []
        for face in pending.faces:
            estimate = self._tracks[face.track].window.estimate(frame.time)
            rows.append(self._row(frame, face, estimate, face.track in pending.crops, audio))
        if not rows:
            rows.append(self._row(frame, None, audio, False, audio))
        return FrameResult(frame, pending.faces, rows, audio)

    def _row(self, frame: Frame, face, estimate: Estimate | None, inferred: bool, audio) -> dict:
        row = {
            "frame": frame.index,
            "time": round(frame.time, 3),
            "track": None if face is None else face.track,
            "box": None if face is None else [int(v) for v in face.box],
            "top": None,
            "confidence": None,
            "modalities": "",
            "inferred": inferred,
            "window": 0 if estimate is None else estimate.count,
        }
        for label in self.labels:
            row[label] = None
        if estimate is not None:
            best = int(np.argmax(estimate.probabilities))
            row["top"] = self.labels[best]
            row["confidence"] = round(float(estimate.probabilities[best]), 4)
            row["modalities"] = "+".join(estimate.modalities)
            for label, p in zip(self.labels, estimate.probabilities, strict=True):
                row[label] = round(float(p), 4)
        row["audio_top"], row["audio_confidence"] = None, None
        if audio is not None:
            best = int(np.argmax(audio.probabilities))
            row["audio_top"] = self.labels[best]
            row["audio_confidence"] = round(float(audio.probabilities[best]), 4)
        return row


def timeline_columns(labels: Iterable[str]) -> list[str]:
    """The columns of a live timeline CSV (the keys of :class:`FrameResult` rows)."""
    return [
        "frame",
        "time",
        "track",
        "box",
        "top",
        "confidence",
        "modalities",
        "inferred",
        "window",
        *labels,
        "audio_top",
        "audio_confidence",
    ]
