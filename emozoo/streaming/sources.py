"""Where a live analysis reads its frames: a camera, a stream URL or a video file (OpenCV).

A file is read frame by frame, every frame, at whatever speed the analysis runs; its
frame times are ``index / fps``. A camera or a URL is live: a reader thread keeps only
the newest frame, so an analysis slower than the stream skips frames (counted in
``dropped``) instead of falling behind. A URL's frames are paced by their timestamps,
so a recording served over HTTP plays at its own speed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from emozoo.inference.media import MediaError

#: Frame rate assumed when a source does not report one.
DEFAULT_FPS = 30.0


@dataclass
class Frame:
    """One frame: its ``index`` in the stream, its ``time`` (seconds from the stream's
    start) and the BGR pixels."""

    index: int
    time: float
    bgr: np.ndarray


class VideoSource:
    """Frames of a camera (``camera=0``), a URL (``url="rtsp://..."``) or a file (``path``).

    Args:
        max_seconds: stop after this much stream time.

    Raises:
        FileNotFoundError: the file does not exist.
        MediaError: OpenCV cannot open the camera, URL or file.

    >>> with VideoSource(path="talk.mp4") as source:  # doctest: +SKIP
    ...     for frame in source:
    ...         print(frame.index, frame.time, frame.bgr.shape)
    """

    def __init__(
        self,
        *,
        camera: int | None = None,
        url: str | None = None,
        path: str | Path | None = None,
        max_seconds: float | None = None,
    ):
        given = [v for v in (camera, url, path) if v is not None]
        if len(given) != 1:
            raise ValueError("give one of camera=, url= or path=")
        target: str | int
        if path is not None:
            path = Path(path).expanduser()
            if not path.exists():
                raise FileNotFoundError(f"Video {path} does not exist")
            if not path.is_file():
                raise MediaError(f"Video {path} is not a file")
            self.name, target = str(path), str(path)
        elif url is not None:
            self.name, target = url, url
        else:
            assert camera is not None  # one of the three is given
            self.name, target = f"camera {camera}", int(camera)
        self.path = path
        self.url = url
        self.live = path is None
        self.max_seconds = max_seconds
        self._capture = cv2.VideoCapture(target)
        if not self._capture.isOpened():
            self._capture.release()
            raise MediaError(f"{self.name} could not be opened (no such device, stream or format)")
        fps = float(self._capture.get(cv2.CAP_PROP_FPS) or 0.0)
        self.fps_known = bool(np.isfinite(fps) and 0 < fps <= 1000)
        self.fps = fps if self.fps_known else DEFAULT_FPS
        self.width = int(self._capture.get(cv2.CAP_PROP_FRAME_WIDTH))
        self.height = int(self._capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
        self.dropped = 0
        self._stop = threading.Event()

    def __iter__(self) -> Iterator[Frame]:
        frames = self._live_frames() if self.live else self._file_frames()
        for frame in frames:
            if self.max_seconds is not None and frame.time > self.max_seconds:
                return
            yield frame

    def _file_frames(self) -> Iterator[Frame]:
        index = 0
        while not self._stop.is_set():
            ok, bgr = self._capture.read()
            if not ok or bgr is None:
                if index == 0:
                    raise MediaError(f"{self.name}: no frame could be decoded (corrupt or empty)")
                return
            yield Frame(index, index / self.fps, bgr)
            index += 1

    def _live_frames(self) -> Iterator[Frame]:
        latest: list[Frame | None] = [None]
        ready = threading.Condition()
        finished = threading.Event()

        def read() -> None:
            start, index = None, 0
            try:
                while not self._stop.is_set():
                    ok, bgr = self._capture.read()
                    if not ok or bgr is None:
                        return
                    now = time.monotonic()
                    start = now if start is None else start
                    stamp = self._capture.get(cv2.CAP_PROP_POS_MSEC) / 1000.0 if self.url else 0.0
                    if stamp > 0:  # a stream's own timestamps: play at its speed
                        time.sleep(max(0.0, stamp - (now - start)))
                    frame_time = stamp if stamp > 0 else now - start
                    with ready:
                        if latest[0] is not None:
                            self.dropped += 1
                        latest[0] = Frame(index, frame_time, bgr)
                        ready.notify()
                    index += 1
            finally:
                finished.set()
                with ready:
                    ready.notify()

        reader = threading.Thread(target=read, name="emozoo-live-reader", daemon=True)
        reader.start()
        try:
            while True:
                with ready:
                    while latest[0] is None and not finished.is_set():
                        ready.wait(0.5)
                    frame, latest[0] = latest[0], None
                if frame is None:
                    return
                yield frame
        finally:
            self._stop.set()
            reader.join(timeout=2.0)

    def close(self) -> None:
        """Stop reading and release the device, stream or file."""
        self._stop.set()
        self._capture.release()

    def __enter__(self) -> VideoSource:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
