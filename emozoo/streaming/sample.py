"""A sample stream: the bundled photo moving gently in 640x480 frames, with speech.

    python -m emozoo.streaming.sample sample.mp4 [--seconds 5] [--fps 30] [--no-audio]

Used by the docs' commands, the tests and ``tools/bench_live.py``; the sound track
(the bundled ``happy.wav``, repeated) is added with the ffmpeg binary of
``imageio-ffmpeg`` when it is installed.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
from pathlib import Path

import cv2
import numpy as np
import soundfile

from emozoo.inference.demo import sample_path


def write_sample_video(
    path: str | Path,
    seconds: float = 5.0,
    fps: int = 30,
    size: tuple[int, int] = (640, 480),
    face_size: int = 440,
    audio: bool = True,
) -> Path:
    """Write the sample stream to ``path`` (MP4); returns the path.

    The photo (``face_size`` pixels square, its face about a quarter as wide) drifts
    by up to 40 pixels. With ``audio`` and ``imageio-ffmpeg`` installed, the bundled
    speech is its sound track.
    """
    path = Path(path)
    width, height = size
    photo = cv2.imread(str(sample_path("astronaut.jpg")))
    assert photo is not None  # a bundled sample
    photo = cv2.resize(photo, (face_size, face_size))
    frames = int(round(seconds * fps))
    with tempfile.TemporaryDirectory() as scratch:
        silent = Path(scratch) / "frames.mp4" if audio else path
        fourcc = cv2.VideoWriter_fourcc(*"mp4v")  # type: ignore[attr-defined]  # not in cv2's stubs
        writer = cv2.VideoWriter(str(silent), fourcc, fps, size)
        for i in range(frames):
            canvas = np.full((height, width, 3), 96, np.uint8)
            x = (width - face_size) // 2 + int(40 * np.sin(i / fps * 1.3))
            y = max(0, (height - face_size) // 2 + int(15 * np.cos(i / fps)))
            x0, x1 = max(0, x), min(width, x + face_size)
            y1 = min(height, y + face_size)
            canvas[y:y1, x0:x1] = photo[: y1 - y, x0 - x : x1 - x]
            writer.write(canvas)
        writer.release()
        if audio and not _mux_speech(silent, path, seconds, Path(scratch)):
            silent.replace(path)
    return path


def _mux_speech(video: Path, out: Path, seconds: float, scratch: Path) -> bool:
    """``video`` with the bundled speech as its track, at ``out``; False without ffmpeg."""
    try:
        import imageio_ffmpeg
    except ImportError:
        return False
    speech, rate = soundfile.read(str(sample_path("happy.wav")), dtype="float32")
    repeats = int(np.ceil(seconds * rate / len(speech)))
    track = scratch / "speech.wav"
    soundfile.write(str(track), np.tile(speech, repeats)[: int(seconds * rate)], rate)
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-v", "error", "-i", str(video)]
    command += ["-i", str(track), "-c:v", "copy", "-c:a", "aac", "-shortest"]
    command += ["-movflags", "+faststart", str(out)]  # the index first: playable as it arrives
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    return True


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="the MP4 file to write")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--no-audio", action="store_true")
    args = parser.parse_args(argv)
    path = write_sample_video(args.out, args.seconds, args.fps, audio=not args.no_audio)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
