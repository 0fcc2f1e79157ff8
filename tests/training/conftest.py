"""A tiny registered face model, persisted in the test session's $EMOZOO_HOME."""

from __future__ import annotations

import cv2
import pytest

import emozoo
from emozoo.registry import unregister_model
from tests.models.helpers import SMALL_FACE
from tests.training.worker import synthetic_faces

TINY = "tiny_face_base"
LABELS = ["calm", "happy", "sad", "angry"]


@pytest.fixture(scope="module")
def tiny_base() -> str:
    """``face_cnn`` shrunk to 32x32 inputs and a few filters, registered (and persisted,
    so that processes started by a test see it) for the tests of one module."""
    config = {k: v for k, v in SMALL_FACE.items() if k != "image_size"}
    emozoo.register_model(
        TINY,
        base="face_cnn",
        config=config,
        preprocessing={"face": {"image_size": SMALL_FACE["image_size"]}},
        overwrite=True,
    )
    yield TINY
    unregister_model(TINY)


@pytest.fixture
def face_manifest(tmp_path):
    """A manifest of 32 synthetic face PNGs (faces only), labels calm/happy/sad/angry."""
    x, y = synthetic_faces(32, len(LABELS), SMALL_FACE["image_size"], seed=3)
    lines = ["face_path,text,audio_path,label"]
    for i, (face, label) in enumerate(zip(x["face"], y, strict=True)):
        name = f"faces/{i:03d}.png"
        (tmp_path / "faces").mkdir(exist_ok=True)
        cv2.imwrite(str(tmp_path / name), face[..., 0].astype("uint8"))
        lines.append(f"{name},,,{LABELS[label].upper() if i % 5 == 0 else LABELS[label]}")
    path = tmp_path / "my_data.csv"
    path.write_text("\n".join(lines) + "\n")
    return path
