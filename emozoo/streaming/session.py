"""A live session end to end: a source, the analysis, and where its results go (an
annotated video, a timeline CSV, a window, status lines)."""

from __future__ import annotations

import csv
import time
from collections.abc import Callable
from pathlib import Path

import cv2

from emozoo.inference.media import MediaError
from emozoo.streaming.live import FrameResult, LiveAnalyzer, LiveSettings, LiveStats
from emozoo.streaming.live import timeline_columns as _timeline_columns
from emozoo.streaming.overlay import Window, draw_result
from emozoo.streaming.sources import VideoSource

#: Video codecs by the annotated output's extension.
FOURCC = {".mp4": "mp4v", ".m4v": "mp4v", ".mov": "mp4v", ".avi": "MJPG", ".mkv": "MJPG"}


class TimelineWriter:
    """The rows of a live analysis as CSV (box as ``x y w h``, ``inferred`` as 1/0)."""

    def __init__(self, path: str | Path, labels):
        self.path = Path(path)
        self.columns = _timeline_columns(labels)
        self._file = self.path.open("w", newline="", encoding="utf-8")
        self._writer = csv.writer(self._file)
        self._writer.writerow(self.columns)

    def write(self, result: FrameResult) -> None:
        for row in result.rows:
            self._writer.writerow([self._cell(row[c]) for c in self.columns])

    @staticmethod
    def _cell(value) -> str:
        if value is None:
            return ""
        if isinstance(value, bool):
            return str(int(value))
        if isinstance(value, (list, tuple)):
            return " ".join(map(str, value))
        return str(value)

    def close(self) -> None:
        self._file.close()


class AnnotatedVideo:
    """Annotated frames written as a video (MP4 with OpenCV's ``mp4v``; ``.avi`` MJPG)."""

    def __init__(self, path: str | Path, fps: float):
        self.path = Path(path)
        suffix = self.path.suffix.lower()
        if suffix not in FOURCC:
            raise ValueError(f"--out {path}: use one of {', '.join(FOURCC)}")
        self.fourcc = cv2.VideoWriter_fourcc(*FOURCC[suffix])  # type: ignore[attr-defined]  # no stub
        self.fps = fps
        self._writer: cv2.VideoWriter | None = None

    def write(self, image) -> None:
        if self._writer is None:  # the size is the first frame's
            height, width = image.shape[:2]
            self._writer = cv2.VideoWriter(str(self.path), self.fourcc, self.fps, (width, height))
            if not self._writer.isOpened():
                raise MediaError(f"{self.path}: OpenCV cannot write this video")
        self._writer.write(image)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.release()


def status_line(result: FrameResult) -> str:
    """One line about a frame: its time, each face's emotion and the audio's."""
    parts = [f"{result.frame.time:7.2f} s"]
    for row in result.rows:
        if row["track"] is not None:
            emotion = f"{row['top']} {row['confidence']:.0%}" if row["top"] else "-"
            parts.append(f"face {row['track']}: {emotion} ({row['modalities'] or '-'})")
    if result.audio is not None:
        parts.append(
            f"audio: {result.rows[0]['audio_top']} {result.rows[0]['audio_confidence']:.0%}"
        )
    if len(parts) == 1:
        parts.append("no face")
    return "  ".join(parts)


def _speed(stats: LiveStats, source: VideoSource) -> str:
    """How the analysis keeps up: frames analysed per second and dropped (live), or the
    real-time factor (a file)."""
    if source.live:
        rate = stats.frames / stats.processing_s if stats.processing_s else 0.0
        return f"{rate:.1f} frames/s analysed, {source.dropped} dropped"
    rtf = stats.processing_s / stats.duration_s if stats.duration_s else 0.0
    return f"real-time factor {rtf:.2f}"


def run_live(
    recognizer,
    source: VideoSource,
    audio=None,
    settings: LiveSettings | None = None,
    *,
    out: str | Path | None = None,
    csv_path: str | Path | None = None,
    window: bool = False,
    status_every: float | None = None,
    on_result: Callable[[FrameResult], None] | None = None,
    printer: Callable[[str], None] = print,
) -> LiveStats:
    """Analyse ``source`` until it ends (or the window is closed, or Ctrl-C) and send
    each frame's results to the outputs asked for.

    Args:
        recognizer: an :class:`~emozoo.EmotionRecognizer`.
        source: a :class:`~emozoo.streaming.sources.VideoSource`.
        audio: an :class:`~emozoo.streaming.audio.AudioSource`, or ``None``.
        out: write the annotated frames to this video file.
        csv_path: write the rows (one per face per frame) to this CSV file.
        window: show the annotated frames in a window (needs a display).
        status_every: print a status line every this many seconds of stream time.
        on_result: called with each :class:`~emozoo.streaming.live.FrameResult`.

    Returns:
        The run's :class:`~emozoo.streaming.live.LiveStats`.
    """
    analyzer = LiveAnalyzer(recognizer, settings)
    labels = list(analyzer.labels)
    timeline = TimelineWriter(csv_path, labels) if csv_path is not None else None
    video = AnnotatedVideo(out, source.fps) if out is not None else None
    screen = Window() if window else None
    stats = analyzer.stats
    next_status = 0.0
    started = time.perf_counter()
    try:
        for result in analyzer.analyze(source, audio, fps=source.fps):
            start = time.perf_counter()
            if timeline is not None:
                timeline.write(result)
            if video is not None or screen is not None:
                image = draw_result(result.frame.bgr, result, labels, _speed(stats, source))
                if video is not None:
                    video.write(image)
                if screen is not None:
                    # A file plays no faster than real time on screen.
                    ahead = result.frame.time - (time.perf_counter() - started)
                    wait = 1000 * ahead if not source.live else 1
                    if not screen.show(image, wait_ms=wait):
                        break
            if status_every is not None and result.frame.time >= next_status:
                printer(status_line(result))
                next_status = result.frame.time + status_every
            if on_result is not None:
                on_result(result)
            stats.stage_ms["write"] += 1000 * (time.perf_counter() - start)
    except KeyboardInterrupt:
        printer("stopped (Ctrl-C)")
    finally:
        stats.dropped = source.dropped
        stats.processing_s = time.perf_counter() - started
        if analyzer.tracker is not None:
            stats.detections = analyzer.tracker.detections
        for sink in (timeline, video, screen):
            if sink is not None:
                sink.close()
    return stats
