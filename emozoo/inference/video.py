"""Emotions over time in a video: sampled frames, tracked faces, the audio track.

The analysis loop lives here; its parts have their own modules: frames and the audio
track (:mod:`emozoo.inference.video_io`: OpenCV, and the ffmpeg binary of
``imageio-ffmpeg``, ``pip install "emozoo[video]"``), face tracks
(:mod:`emozoo.inference.tracking`), the audio window of each step
(:func:`emozoo.inference.media.audio_window`), the head rows
(:mod:`emozoo.inference.batching`) and the result (:class:`VideoAnalysis`, in
:mod:`emozoo.inference.results`). Without ffmpeg, or when the video has no audio track,
the analysis uses the faces only and says so in ``notices``.

The names the module held before the split (``IoUTracker``, ``extract_audio``,
``ffmpeg_audio_command``, ``audio_window``, ``VideoAnalysis``) are still importable here.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emozoo.inference.batching import HeadPlan
from emozoo.inference.faces import Face
from emozoo.inference.media import MediaError, audio_window, existing_file
from emozoo.inference.results import VideoAnalysis
from emozoo.inference.runner import Runner
from emozoo.inference.tracking import IoUTracker
from emozoo.inference.video_io import (
    extract_audio,
    ffmpeg_audio_command,
    open_video,
    sampled_frames,
)

#: Time steps whose faces and audio windows go through the network together.
CHUNK_STEPS = 64
#: The modalities a video gives, in the order a row names them ("face+audio").
VIDEO_MODALITIES = ("face", "audio")


@dataclass
class _Step:
    """One sampled frame: its time, its faces and their track ids, the audio window."""

    time: float
    faces: list[Face]
    tracks: list[int]
    window: np.ndarray | None


def analyze_video(
    recognizer,
    path: str | Path,
    every: float = 0.5,
    *,
    audio: bool = True,
    max_seconds: float | None = None,
    iou_threshold: float = 0.3,
    progress: bool = True,
) -> VideoAnalysis:
    """Sample a frame every ``every`` seconds, find and track faces, add the audio track.

    Args:
        recognizer: an :class:`~emozoo.EmotionRecognizer` whose model takes faces and/or
            audio.
        path: a video file OpenCV can read (MP4, AVI, MKV, WebM, ...).
        every: seconds between analysed frames.
        audio: use the audio track (a window of the model's length centred on each step).
        max_seconds: stop after this many seconds of video.
        iou_threshold: minimum box overlap that continues a face track.
        progress: show a progress bar.

    Returns:
        A :class:`VideoAnalysis` (``.rows``, ``.table()``, ``.plot(path)``, ``.to_csv()``).

    Raises:
        FileNotFoundError: the file does not exist.
        MediaError: OpenCV cannot open or decode it.

    >>> from emozoo import EmotionRecognizer
    >>> timeline = EmotionRecognizer().analyze_video("interview.mp4")  # doctest: +SKIP
    >>> print(timeline.table())  # doctest: +SKIP
    """
    if every <= 0:
        raise ValueError(f"every must be positive (seconds), got {every}")
    path = existing_file(path, "Video")
    runner = recognizer.runner
    use_face = runner.preprocessor.face is not None
    use_audio = audio and runner.preprocessor.audio is not None
    if not use_face and not use_audio:
        raise ValueError(f"{runner.name} takes neither faces nor audio; it cannot analyse a video")

    capture, fps, frames, notices = open_video(path)
    try:
        duration = frames / fps if frames > 0 else 0.0
        analysis = VideoAnalysis(str(path), runner.labels, every, duration, fps, notices=notices)

        waveform = None
        if use_audio:
            waveform, notice = extract_audio(path, recognizer.sample_rate)
            analysis.notices.append(notice)
            if notice.startswith("audio track skipped"):
                warnings.warn(notice, UserWarning, stacklevel=3)
            if waveform is not None:
                duration = max(duration, len(waveform) / recognizer.sample_rate)
                analysis.duration_s = duration
        elif audio and runner.preprocessor.audio is None:
            analysis.notices.append(f"audio track not used: {runner.name} takes no audio")

        total = (
            int(np.ceil(min(duration, max_seconds or duration) / every)) + 1 if duration else None
        )
        bar = None
        if progress:
            import keras

            bar = keras.utils.Progbar(total, unit_name="step")
        tracker = IoUTracker(iou_threshold=iou_threshold)
        chunk: list[_Step] = []
        decoded = 0
        for time, frame in sampled_frames(capture, fps, every, max_seconds):
            decoded += 1
            faces = recognizer.detector.detect(frame, recognizer.max_faces) if use_face else []
            tracks = tracker.update([f.box for f in faces])
            window = (
                audio_window(waveform, time, recognizer.sample_rate, recognizer.window)
                if waveform is not None
                else None
            )
            chunk.append(_Step(time, faces, tracks, window))
            if len(chunk) >= CHUNK_STEPS:
                analysis.rows.extend(_run_chunk(runner, chunk))
                chunk = []
            if bar is not None:
                bar.update(min(decoded, total) if total else decoded)
        if chunk:
            analysis.rows.extend(_run_chunk(runner, chunk))
        if decoded == 0:
            raise MediaError(f"Video {path}: no frame could be decoded (corrupt or empty file)")
        if not duration:
            analysis.duration_s = analysis.rows[-1]["time"] if analysis.rows else 0.0
    finally:
        capture.release()
    return analysis


@dataclass
class _Wanted:
    """One row of the analysis before the network ran: a step's face (or the step
    without one), the bank positions it uses, and its head row (``None``: nothing)."""

    time: float
    track: int | None
    face: Face | None
    positions: dict[str, int]
    head_row: int | None


def _run_chunk(runner: Runner, chunk: list[_Step]) -> list[dict]:
    """Rows for a chunk of steps: faces and audio windows encoded in batches, then one
    head row per face (with the step's audio window) or per step without a face."""
    face, audio = VIDEO_MODALITIES
    crops = [found.crop for step in chunk for found in step.faces]
    windows = [step.window for step in chunk if step.window is not None]
    banks: dict[str, np.ndarray] = {}
    if crops:
        banks[face] = runner.encode(face, runner.preprocessor.for_modality(face)(crops))
    if windows:
        banks[audio] = runner.encode(audio, np.stack(windows))
    plan = HeadPlan()
    wanted: list[_Wanted] = []
    face_at = audio_at = 0  # the next free position in each bank
    for step in chunk:
        heard = {audio: audio_at} if step.window is not None else {}
        audio_at += len(heard)
        for k, (track, found) in enumerate(zip(step.tracks, step.faces, strict=True)):
            positions = {face: face_at + k, **heard}
            wanted.append(_Wanted(step.time, track, found, positions, plan.add(positions)))
        face_at += len(step.faces)
        if not step.faces:
            at = plan.add(heard) if heard else None
            wanted.append(_Wanted(step.time, None, None, heard, at))
    probabilities = plan.run(runner, banks)
    rows = []
    for want in wanted:
        row: dict = {
            "time": round(float(want.time), 3),
            "track": want.track,
            "box": None if want.face is None else [int(v) for v in want.face.box],
            "top": None,
            "confidence": None,
            "modalities": "+".join(want.positions),
        }
        for label in runner.labels:
            row[label] = None
        if want.head_row is not None:
            p = probabilities[want.head_row]
            best = int(np.argmax(p))
            row["top"] = runner.labels[best]
            row["confidence"] = round(float(p[best]), 4)
            for label, value in zip(runner.labels, p, strict=True):
                row[label] = round(float(value), 4)
        rows.append(row)
    return rows


__all__ = [
    "CHUNK_STEPS",
    "IoUTracker",
    "VideoAnalysis",
    "analyze_video",
    "audio_window",
    "extract_audio",
    "ffmpeg_audio_command",
]
