"""Shared fixtures: one recognizer per session and small media files made on the fly."""

from __future__ import annotations

import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest
import soundfile as sf

from emozoo.inference.demo import sample_path

RATE = 16000


@pytest.fixture(scope="session")
def rec():
    from emozoo import EmotionRecognizer

    return EmotionRecognizer("cnn_lstm_fusion")  # the LiteRT build: what users run


@pytest.fixture(scope="session")
def keras_rec():
    """The same model on the Keras path (split encoders and head)."""
    from emozoo import EmotionRecognizer

    return EmotionRecognizer("cnn_lstm_fusion", backend="keras")


@pytest.fixture(scope="session")
def astronaut() -> Path:
    return sample_path("astronaut.jpg")


@pytest.fixture(scope="session")
def astronaut_rgb(astronaut) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(astronaut)), cv2.COLOR_BGR2RGB)


@pytest.fixture(scope="session")
def media(tmp_path_factory, astronaut_rgb) -> dict[str, Path]:
    """Good and bad files: images, audio, text, made once per session."""
    root = tmp_path_factory.mktemp("media")
    files = {}

    def image(name, rgb):
        files[name] = root / f"{name}.png"
        cv2.imwrite(str(files[name]), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))

    image("group", np.hstack([astronaut_rgb, astronaut_rgb[:, ::-1]]))
    gradient = np.tile(np.linspace(0, 255, 320, dtype=np.uint8), (240, 1))
    image("no_face", np.stack([gradient] * 3, axis=-1))
    x, y, w, h = 176, 65, 95, 95
    image("crop", astronaut_rgb[y : y + h, x : x + w])

    files["corrupt_image"] = root / "corrupt.jpg"
    files["corrupt_image"].write_bytes(b"\xff\xd8\xff\xe0 definitely not a jpeg" * 10)
    files["empty_image"] = root / "empty.png"
    files["empty_image"].write_bytes(b"")
    files["corrupt_audio"] = root / "corrupt.wav"
    files["corrupt_audio"].write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk" * 20)

    speech, rate = sf.read(str(sample_path("happy.wav")), dtype="float32")
    assert rate == RATE
    files["silent"] = root / "silent.wav"
    sf.write(str(files["silent"]), np.zeros(3 * RATE, np.float32), RATE)
    files["stereo_44k"] = root / "stereo.flac"
    from scipy.signal import resample_poly

    speech_44k = resample_poly(speech, 441, 160).astype(np.float32)[: int(2.5 * 44100)]
    sf.write(str(files["stereo_44k"]), np.stack([speech_44k, 0.5 * speech_44k], axis=1), 44100)
    files["ogg"] = root / "speech.ogg"
    sf.write(str(files["ogg"]), speech, RATE, format="OGG", subtype="VORBIS")
    files["long"] = root / "long.wav"  # 10.5 s: windows at 0, 3, 6, 9 s
    long = np.concatenate([speech, speech, speech])[: int(10.5 * RATE)]
    sf.write(str(files["long"]), np.pad(long, (0, int(10.5 * RATE) - len(long))), RATE)
    return files


def write_video(path: Path, rgb: np.ndarray, seconds: float = 3.0, fps: int = 10) -> Path:
    """An MP4 (mp4v) of ``rgb`` sliding right; from half-way a mirrored copy joins it."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (720, 360))
    assert writer.isOpened()
    small = cv2.resize(rgb, (300, 300))  # faces of about 55 px; Haar misses much smaller
    frames = int(seconds * fps)
    for i in range(frames):
        canvas = np.full((360, 720, 3), 90, np.uint8)
        x = 10 + 2 * i
        canvas[30:330, x : x + 300] = small
        if i >= frames // 2:
            canvas[30:330, 400:700] = small[:, ::-1]
        writer.write(cv2.cvtColor(canvas, cv2.COLOR_RGB2BGR))
    writer.release()
    return path


def mux_audio(video: Path, audio: Path, out: Path) -> Path | None:
    """``video`` with ``audio`` as its sound track (imageio-ffmpeg), or None without it."""
    try:
        import imageio_ffmpeg
    except ImportError:
        return None
    subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-y",
            "-v",
            "error",
            "-i",
            str(video),
            "-i",
            str(audio),
            "-c:v",
            "copy",
            "-c:a",
            "aac",
            "-shortest",
            str(out),
        ],
        check=True,
        timeout=120,
    )
    return out


@pytest.fixture(scope="session")
def videos(tmp_path_factory, astronaut_rgb) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("videos")
    files = {"silent": write_video(root / "faces.mp4", astronaut_rgb)}
    files["with_audio"] = mux_audio(files["silent"], sample_path("happy.wav"), root / "talk.mp4")
    files["corrupt"] = root / "corrupt.mp4"
    files["corrupt"].write_bytes(b"\x00\x00\x00\x18ftypmp42 this is not a video" * 50)
    return files
