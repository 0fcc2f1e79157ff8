"""Batch inputs made once per session: a folder of photos, audio, text, a video and a
corrupt file, and a manifest of the same files."""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import pytest

from emozoo.inference.demo import sample_path


@pytest.fixture(scope="session")
def rec():
    from emozoo import EmotionRecognizer

    return EmotionRecognizer("cnn_lstm_fusion")  # the LiteRT build, as Beam's handler uses


@pytest.fixture(scope="session")
def folder(tmp_path_factory) -> Path:
    """photos/a.jpg, photos/b_flipped.png, speech/happy.wav, note.txt, clip.mp4, broken.jpg,
    and a file of another kind (ignored)."""
    from emozoo.streaming.sample import write_sample_video

    root = tmp_path_factory.mktemp("batch_in")
    (root / "photos").mkdir()
    (root / "speech").mkdir()
    shutil.copy(sample_path("astronaut.jpg"), root / "photos" / "a.jpg")
    photo = cv2.imread(str(sample_path("astronaut.jpg")))
    cv2.imwrite(str(root / "photos" / "b_flipped.png"), photo[:, ::-1])
    shutil.copy(sample_path("happy.wav"), root / "speech" / "happy.wav")
    (root / "note.txt").write_text("We won the final, I am so happy!", encoding="utf-8")
    write_sample_video(root / "clip.mp4", seconds=1.0, fps=10, audio=False)
    (root / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not a jpeg at all" * 8)
    (root / "readme.md").write_text("not an input", encoding="utf-8")
    return root


@pytest.fixture(scope="session")
def manifest(folder) -> Path:
    path = folder / "pairs.csv"
    path.write_text(
        "id,face_path,text,audio_path,label\n"
        "r1,photos/a.jpg,What a wonderful surprise!,speech/happy.wav,happy\n"
        "r2,,This is terrible news.,,sad\n"
        "r3,broken.jpg,Still here.,,neutral\n"
        "r4,,,,neutral\n",
        encoding="utf-8",
    )
    return path
