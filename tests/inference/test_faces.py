"""Face detection, alignment and tracking: the Haar fallback (OpenCV only) and BlazeFace."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from emozoo.inference.faces import FaceDetector, iou, to_gray
from emozoo.inference.tracking import IoUTracker


@pytest.fixture(scope="module")
def detector():
    return FaceDetector(method="haar")


def test_finds_the_astronauts_face_and_levels_the_eyes(detector, astronaut_rgb):
    (face,) = detector.detect(astronaut_rgb)
    x, y, w, h = face.box
    assert 160 < x < 200 and 50 < y < 85 and 80 < w < 110 and w == h
    assert face.eyes is not None and abs(face.angle) < 8
    assert face.crop.shape == (h, w) and face.crop.dtype == np.uint8


@pytest.mark.parametrize("tilt", [-12, 12])
def test_alignment_undoes_a_tilt(detector, astronaut_rgb, tilt):
    matrix = cv2.getRotationMatrix2D((256, 256), tilt, 1.0)
    tilted = cv2.warpAffine(astronaut_rgb, matrix, (512, 512))
    (face,) = detector.detect(tilted)
    upright = detector.detect(astronaut_rgb)[0].angle
    # cv2 rotates counter-clockwise for positive angles; levelling turns it back.
    assert face.angle == pytest.approx(upright - tilt, abs=5)


def test_several_faces_largest_first(detector, astronaut_rgb):
    small = cv2.resize(astronaut_rgb, (384, 384))
    canvas = np.full((512, 1024, 3), 80, np.uint8)
    canvas[:, :512] = astronaut_rgb
    canvas[64:448, 600:984] = small[:, ::-1]
    faces = detector.detect(canvas)
    assert len(faces) == 2
    assert faces[0].area > faces[1].area
    assert faces[0].box[0] < 512 <= faces[1].box[0]
    assert len(detector.detect(canvas, max_faces=1)) == 1


def test_no_face_is_an_empty_list(detector):
    gradient = np.tile(np.linspace(0, 255, 320, dtype=np.uint8), (240, 1))
    assert detector.detect(gradient) == []
    assert detector.detect(np.zeros((64, 64, 3), np.uint8)) == []


def test_bad_images_are_clear_errors(detector):
    with pytest.raises(ValueError, match="uint8"):
        detector.detect(np.zeros((64, 64, 3), np.float32))
    with pytest.raises(ValueError, match="shape"):
        detector.detect(np.zeros((64, 64, 5), np.uint8))
    with pytest.raises(ValueError, match="min_face_fraction"):
        FaceDetector(min_face_fraction=0)


def test_one_grayscale_conversion_for_photos_and_frames(astronaut_rgb):
    bgr = cv2.cvtColor(astronaut_rgb, cv2.COLOR_RGB2BGR)
    gray = to_gray(astronaut_rgb)
    np.testing.assert_array_equal(gray, cv2.cvtColor(astronaut_rgb, cv2.COLOR_RGB2GRAY))
    np.testing.assert_array_equal(to_gray(bgr, order="bgr"), gray)
    rgba = np.dstack([astronaut_rgb, np.full(astronaut_rgb.shape[:2], 255, np.uint8)])
    np.testing.assert_array_equal(to_gray(rgba), gray)
    assert to_gray(gray) is gray
    np.testing.assert_array_equal(FaceDetector.gray(astronaut_rgb), gray)
    with pytest.raises(ValueError, match="order"):
        to_gray(bgr, order="hsv")
    with pytest.raises(ValueError, match="uint8"):
        to_gray(gray.astype(np.float32))
    with pytest.raises(ValueError, match="shape"):
        to_gray(np.zeros((4, 4, 2), np.uint8))


def test_iou():
    assert iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert iou((0, 0, 10, 10), (20, 20, 5, 5)) == 0.0
    assert iou((0, 0, 10, 10), (5, 0, 10, 10)) == pytest.approx(1 / 3)


def test_tracker_keeps_ids_and_ends_lost_tracks():
    tracker = IoUTracker(iou_threshold=0.3, max_missed=1)
    assert tracker.update([(0, 0, 10, 10), (100, 0, 10, 10)]) == [0, 1]
    assert tracker.update([(102, 0, 10, 10), (1, 1, 10, 10)]) == [1, 0]
    assert tracker.update([(1, 1, 10, 10)]) == [0]  # track 1 missed once: kept
    assert tracker.update([]) == []  # track 1 missed twice: ended; track 0 once
    assert tracker.update([(103, 0, 10, 10), (1, 1, 10, 10)]) == [2, 0]
    with pytest.raises(ValueError, match="iou_threshold"):
        IoUTracker(iou_threshold=1.5)


def test_second_cascade_removes_a_false_face(detector, astronaut_rgb):
    # Two astronauts side by side: the default cascade alone also "finds" a face on the
    # background between them (at minNeighbors 3 and 5); the alt2 confirmation drops it.
    pair = cv2.resize(np.hstack([astronaut_rgb, astronaut_rgb[:, ::-1]]), None, fx=0.6, fy=0.6)
    canvas = np.full((360, 640, 3), 90, np.uint8)
    canvas[: pair.shape[0], 70:] = pair[:, :570]
    gray = cv2.equalizeHist(cv2.cvtColor(canvas, cv2.COLOR_RGB2GRAY))
    default = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
    assert len(default.detectMultiScale(gray, 1.1, 5, minSize=(20, 20))) == 3
    faces = detector.detect(canvas)
    assert len(faces) == 2 and all(f.box[2] < 65 for f in faces)
