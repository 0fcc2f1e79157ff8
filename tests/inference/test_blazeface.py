"""BlazeFace: the shipped model, its decoding, and the faces Haar misses."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from emozoo.inference.blazeface import MODEL_PATH, BlazeFace, model_path
from emozoo.inference.faces import FaceDetector


@pytest.fixture(scope="module")
def blaze():
    return FaceDetector()  # BlazeFace is the default


def test_model_ships_with_its_licence():
    assert model_path() == MODEL_PATH
    assert "Apache License" in (MODEL_PATH.parent / "LICENSE").read_text()


def test_finds_the_astronaut_with_her_eyes(blaze, astronaut_rgb):
    (face,) = blaze.detect(astronaut_rgb)
    x, y, w, h = face.box
    assert 150 < x < 200 and 45 < y < 90 and 90 < w < 130 and w == h
    assert face.eyes is not None and abs(face.angle) < 12  # her head leans a little
    (lx, ly), (rx, ry) = face.eyes
    assert x < lx < rx < x + w and y < ly < y + h / 2
    assert face.crop.shape == (h, w)


@pytest.mark.parametrize("tilt", [-25, 25])
def test_levels_faces_tilted_beyond_haar(blaze, astronaut_rgb, tilt):
    matrix = cv2.getRotationMatrix2D((256, 256), tilt, 1.0)
    tilted = cv2.warpAffine(astronaut_rgb, matrix, (512, 512))
    (face,) = blaze.detect(tilted)
    upright = blaze.detect(astronaut_rgb)[0].angle
    assert face.angle == pytest.approx(upright - tilt, abs=7)
    assert FaceDetector(method="haar").detect(tilted) == []  # the cascade loses it


def test_tiles_find_small_faces_and_reject_body_parts(blaze, astronaut_rgb):
    small = cv2.resize(astronaut_rgb, (300, 300))  # faces of about 60 px
    canvas = np.full((360, 720, 3), 90, np.uint8)
    canvas[30:330, 50:350] = small
    canvas[30:330, 400:700] = small[:, ::-1]
    assert BlazeFace(tiles=False).detect(canvas) == []  # too small for one 128-px pass
    faces = blaze.detect(canvas)
    assert len(faces) == 2 and all(40 < f.box[2] < 90 for f in faces)


def test_nothing_in_blank_images(blaze):
    gradient = np.tile(np.linspace(0, 255, 320, dtype=np.uint8), (240, 1))
    assert blaze.detect(gradient) == []
    assert blaze.detect(np.zeros((600, 800, 3), np.uint8)) == []


def test_unknown_method_is_an_error():
    with pytest.raises(ValueError, match="method"):
        FaceDetector(method="yolo")
