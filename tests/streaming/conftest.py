"""A stream made once per session: the sample video (the bundled photo drifting in
640x480 frames, with speech), and a recognizer."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def rec():
    from emozoo import EmotionRecognizer

    return EmotionRecognizer("cnn_lstm_fusion")


@pytest.fixture(scope="session")
def stream(tmp_path_factory) -> Path:
    """2 s at 30 fps, 640x480, one face, a speech track (when imageio-ffmpeg is there)."""
    from emozoo.streaming.sample import write_sample_video

    return write_sample_video(tmp_path_factory.mktemp("stream") / "stream.mp4", seconds=2.0)


@pytest.fixture(scope="session")
def has_ffmpeg() -> bool:
    try:
        import imageio_ffmpeg  # noqa: F401
    except ImportError:
        return False
    return True
