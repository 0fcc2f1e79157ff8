"""Reading videos: sampled frames with OpenCV, the audio track with ffmpeg.

The audio track is decoded with the ffmpeg binary of the ``imageio-ffmpeg`` package
(``pip install "emozoo[video]"``); without it, or when the video has no audio track,
:func:`extract_audio` says why instead of failing.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from emozoo.inference.media import MediaError, existing_file

#: The frame rate assumed when a video does not give one.
DEFAULT_FPS = 25.0


def ffmpeg_audio_command(ffmpeg: str, source: str, sample_rate: int) -> list[str]:
    """The ffmpeg command that writes ``source``'s first audio track to standard output
    as mono float32 samples at ``sample_rate`` (a file, or a stream URL read live)."""
    return [ffmpeg, "-nostdin", "-v", "error", "-i", source, "-map", "0:a:0?", "-vn"] + [
        "-ac", "1", "-ar", str(sample_rate), "-f", "f32le", "-",
    ]  # fmt: skip


def extract_audio(path: str | Path, sample_rate: int = 16000) -> tuple[np.ndarray | None, str]:
    """The audio track of a video, mono float32 at ``sample_rate``, or ``None`` and why.

    Uses the ffmpeg binary shipped by the ``imageio-ffmpeg`` package.
    """
    try:
        import imageio_ffmpeg
    except ImportError:
        return None, (
            "audio track skipped: install the video extra (pip install 'emozoo[video]', "
            "which adds imageio-ffmpeg) to read it"
        )
    command = ffmpeg_audio_command(imageio_ffmpeg.get_ffmpeg_exe(), str(path), sample_rate)
    result = subprocess.run(command, capture_output=True, timeout=3600)
    waveform = np.frombuffer(result.stdout, dtype="<f4").astype(np.float32)
    if result.returncode != 0 and not len(waveform):
        message = result.stderr.decode(errors="replace").strip()
        if "does not contain any stream" in message:
            return None, "no audio track in the video"
        last = message.splitlines()[-1] if message else "no output"
        return None, f"audio track skipped: ffmpeg could not read it ({last})"
    if not len(waveform):
        return None, "no audio track in the video"
    return waveform, f"audio track used ({len(waveform) / sample_rate:.1f} s)"


def open_video(path: str | Path) -> tuple[cv2.VideoCapture, float, int, list[str]]:
    """``(capture, fps, frame count, notices)`` of a video file OpenCV can read.

    The frame count is 0 when the file does not say; an unknown frame rate is taken
    as :data:`DEFAULT_FPS`, with a notice. The caller releases the capture.

    Raises:
        FileNotFoundError: the file does not exist.
        MediaError: it is not a file, or OpenCV cannot open it.
    """
    path = existing_file(path, "Video")
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        capture.release()
        raise MediaError(f"Video {path} could not be opened (corrupt or unsupported format)")
    fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
    frames = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
    notices = []
    if not np.isfinite(fps) or fps <= 0:
        fps = DEFAULT_FPS
        notices.append(f"frame rate unknown; assumed {DEFAULT_FPS:g} fps")
    return capture, fps, frames, notices


def sampled_frames(
    capture: cv2.VideoCapture, fps: float, every: float, max_seconds: float | None = None
) -> Iterator[tuple[float, np.ndarray]]:
    """``(time, RGB frame)`` for the first frame at or after each multiple of ``every``
    seconds, up to ``max_seconds`` (frames in between are skipped without decoding)."""
    index, next_time = 0, 0.0
    while True:
        time = index / fps
        if max_seconds is not None and time > max_seconds:
            return
        if not capture.grab():
            return
        if time + 1e-9 >= next_time:
            ok, frame = capture.retrieve()
            if not ok or frame is None:
                return
            yield time, cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
            while next_time <= time + 1e-9:
                next_time += every
        index += 1


__all__ = [
    "DEFAULT_FPS",
    "extract_audio",
    "ffmpeg_audio_command",
    "open_video",
    "sampled_frames",
]
