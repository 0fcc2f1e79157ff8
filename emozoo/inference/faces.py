"""Face detection and alignment: BlazeFace (a DNN with eye landmarks, the default) or
the Haar cascades shipped in the OpenCV 4.x wheel (the fallback, ``method="haar"``).

Nothing is downloaded. BlazeFace (:mod:`emozoo.inference.blazeface`) gives boxes and
eye keypoints; each box is reframed as FER2013 frames its faces (measured on PublicTest)
and the crop is levelled by the eyes. The Haar path finds faces with
``haarcascade_frontalface_default.xml``, confirms them with ``..._alt2.xml``, levels them
by ``haarcascade_eye.xml`` when both eyes are found and crops the detector's box (on
FER2013 PrivateTest faces upscaled 3x and padded, the median FER2013 frame is 1.02 times
that box). ``tools/check_face_detector.py`` compares the two.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import cv2
import numpy as np

from emozoo.inference.blazeface import BlazeFace
from emozoo.preprocessing.face import to_gray

#: Faces narrower than this fraction of the image's shorter side are ignored.
MIN_FACE_FRACTION = 0.04
#: Images are downscaled so that their longer side is at most this for detection.
DETECT_MAX_SIDE = 1024
#: Eye-based rotation is applied only up to this angle (degrees): Haar's eye boxes are
#: noisy; BlazeFace's landmarks hold up to steeper tilts.
MAX_ALIGN_ANGLE = 30.0
MAX_ALIGN_ANGLE_LANDMARKS = 45.0
#: Face detectors: MediaPipe's BlazeFace (DNN, landmarks) or OpenCV's Haar cascades.
DETECTORS = ("blazeface", "haar")
#: A BlazeFace box is this share of the FER2013 frame around the same face, and its
#: centre this share of the frame lower (medians over 568 PublicTest faces): crops are
#: framed as the model's training faces were.
BLAZEFACE_BOX_IN_FRAME = 0.882
BLAZEFACE_CENTRE_DROP = 0.055


def _drop_merged(detections: list) -> list:
    """Drop boxes that hold the centres of two or more better detections (BlazeFace's
    tiles sometimes add one box around two neighbouring faces)."""
    kept = []
    for i, d in enumerate(detections):
        x, y, w, h = d.box
        inside = sum(
            1
            for other in detections[:i]
            if x <= other.box[0] + other.box[2] / 2 <= x + w
            and y <= other.box[1] + other.box[3] / 2 <= y + h
        )
        if inside < 2:
            kept.append(d)
    return kept


def _cascade(name: str) -> cv2.CascadeClassifier:
    path = Path(cv2.data.haarcascades) / name  # type: ignore[attr-defined]  # not in cv2's stubs
    cascade = cv2.CascadeClassifier(str(path))
    if cascade.empty():
        raise RuntimeError(
            f"OpenCV Haar cascade {path} could not be loaded; emozoo needs an "
            "opencv-python-headless 4.x wheel (the 5.0 wheels do not ship the cascades)"
        )
    return cascade


@dataclass
class Face:
    """One detected face: its box in the image, the eye-levelling angle and the crop.

    ``box`` is ``(x, y, width, height)`` in pixels of the original image; ``crop`` is the
    aligned grayscale uint8 crop (``height x width``); ``angle`` (degrees) is the rotation
    applied to level the eyes (0.0 when the eyes were not found); ``eyes`` holds the two
    eye centres in image pixels when found.
    """

    box: tuple[int, int, int, int]
    crop: np.ndarray = field(repr=False)
    angle: float = 0.0
    eyes: tuple[tuple[float, float], tuple[float, float]] | None = None

    @property
    def area(self) -> int:
        return int(self.box[2] * self.box[3])

    def to_dict(self) -> dict:
        return {
            "box": [int(v) for v in self.box],
            "angle": round(float(self.angle), 1),
            "aligned": self.eyes is not None,
        }


class FaceDetector:
    """Find, align and crop faces in RGB (or grayscale) uint8 images.

    Args:
        align: level the eyes with a rotation when both are detected.
        min_face_fraction: smallest face width, as a fraction of the image's shorter side.
        min_neighbors: the cascades' ``minNeighbors``.
        strong_neighbors: a detection with this many neighbours is kept without the
            second cascade's confirmation.
        scale_factor: the cascades' ``scaleFactor``.

    >>> detector = FaceDetector()
    >>> detector.detect(np.zeros((120, 160, 3), np.uint8))
    []
    """

    def __init__(
        self,
        align: bool = True,
        min_face_fraction: float = MIN_FACE_FRACTION,
        min_neighbors: int = 3,
        strong_neighbors: int = 10,
        scale_factor: float = 1.1,
        method: str = "blazeface",
    ):
        if not 0 < min_face_fraction < 1:
            raise ValueError(f"min_face_fraction must be in (0, 1), got {min_face_fraction}")
        if method not in DETECTORS:
            raise ValueError(f"method must be one of {DETECTORS}, got {method!r}")
        self.method = method
        self._blazeface = BlazeFace() if method == "blazeface" else None
        self.align = align
        self.min_face_fraction = float(min_face_fraction)
        self.min_neighbors = int(min_neighbors)
        self.strong_neighbors = int(strong_neighbors)
        self.scale_factor = float(scale_factor)
        # OpenCV's CascadeClassifier keeps scratch buffers in the object: two threads in
        # one detectMultiScale corrupt each other's results. Each thread gets its own.
        self._per_thread = threading.local()

    def _cascades(self) -> tuple:
        """This thread's ``(default, alt2, eye)`` cascades, loaded on its first call."""
        cascades = getattr(self._per_thread, "cascades", None)
        if cascades is None:
            cascades = (
                _cascade("haarcascade_frontalface_default.xml"),
                _cascade("haarcascade_frontalface_alt2.xml"),
                _cascade("haarcascade_eye.xml") if self.align else None,
            )
            self._per_thread.cascades = cascades
        return cascades

    @staticmethod
    def gray(image: np.ndarray) -> np.ndarray:
        """An RGB(A) (or already grayscale) uint8 image as grayscale, as faces are read
        (:func:`to_gray`)."""
        return to_gray(image)

    def boxes(self, gray: np.ndarray) -> list[tuple[int, int, int, int]]:
        """Face boxes ``(x, y, w, h)`` in a grayscale image, largest first.

        Candidates come from the ``default`` cascade; one is kept when its detection is
        strong (``strong_neighbors`` or more) or when the ``alt2`` cascade, searched
        around it, finds an overlapping box (IoU >= 0.3). This removes most false faces
        (clothing, backgrounds) without losing real ones: on the last 1,000 FER2013
        PrivateTest faces it finds 780, the default cascade alone (``minNeighbors=5``) 778
        (``tools/check_face_detector.py``).
        """
        scale = min(1.0, DETECT_MAX_SIDE / max(gray.shape))
        small = gray if scale == 1.0 else cv2.resize(gray, None, fx=scale, fy=scale)
        small = cv2.equalizeHist(small)
        min_side = max(20, int(self.min_face_fraction * min(small.shape)))
        options = {
            "scaleFactor": self.scale_factor,
            "minNeighbors": self.min_neighbors,
            "minSize": (min_side, min_side),
        }
        candidates, neighbors = self._cascades()[0].detectMultiScale2(small, **options)
        kept = [
            tuple(int(v) for v in box)
            for box, count in zip(candidates, np.ravel(neighbors), strict=True)
            if count >= self.strong_neighbors or self._confirmed(small, box)
        ]
        boxes = [tuple(int(round(v / scale)) for v in box) for box in kept]
        # OpenCV's boxes are (x, y, w, h).
        return sorted(cast(list[tuple[int, int, int, int]], boxes), key=lambda b: -b[2] * b[3])

    def _confirmed(self, gray: np.ndarray, box) -> bool:
        """Whether the second cascade finds a face overlapping ``box`` (searched near it only)."""
        x, y, w, h = (int(v) for v in box)
        margin = int(0.3 * w)
        x0, y0 = max(0, x - margin), max(0, y - margin)
        roi = gray[y0 : y + h + margin, x0 : x + w + margin]
        found = self._cascades()[1].detectMultiScale(
            roi,
            scaleFactor=self.scale_factor,
            minNeighbors=self.min_neighbors,
            minSize=(int(0.6 * w), int(0.6 * h)),
            maxSize=(int(1.6 * w), int(1.6 * h)),
        )
        return any(iou((x - x0, y - y0, w, h), tuple(c)) >= 0.3 for c in found)

    def _eye_centres(self, gray: np.ndarray, box) -> tuple | None:
        """The two eye centres (left, right in the image) inside a face box, or None."""
        x, y, w, h = box
        upper = gray[y : y + int(0.6 * h), x : x + w]
        if upper.size == 0:
            return None
        size = max(8, int(0.12 * w))
        eyes = self._cascades()[2].detectMultiScale(
            upper, scaleFactor=1.1, minNeighbors=5, minSize=(size, size), maxSize=(w // 2, w // 2)
        )
        left = [e for e in eyes if e[0] + e[2] / 2 < w / 2]
        right = [e for e in eyes if e[0] + e[2] / 2 >= w / 2]
        if not left or not right:
            return None
        # The largest candidate on each side.
        lx, ly, lw, lh = max(left, key=lambda e: e[2] * e[3])
        rx, ry, rw, rh = max(right, key=lambda e: e[2] * e[3])
        return (x + lx + lw / 2, y + ly + lh / 2), (x + rx + rw / 2, y + ry + rh / 2)

    def crop(self, gray: np.ndarray, box: tuple[int, int, int, int], angle: float) -> np.ndarray:
        """The face in ``box`` of a grayscale image, levelled by ``angle`` degrees, at the
        model's crop size (edges replicated where the box leaves the image)."""
        x, y, w, h = box
        if angle == 0.0:
            pad = cv2.copyMakeBorder(gray, h, h, w, w, cv2.BORDER_REPLICATE)
            return pad[y + h : y + 2 * h, x + w : x + 2 * w].copy()
        # Rotate around the box centre and read the box out of the rotated image in one pass.
        centre = (x + w / 2, y + h / 2)
        matrix = cv2.getRotationMatrix2D(centre, angle, 1.0)
        matrix[0, 2] -= x
        matrix[1, 2] -= y
        return cv2.warpAffine(
            gray, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )

    def detect(self, image: np.ndarray, max_faces: int | None = None) -> list[Face]:
        """Every face in ``image`` (RGB, RGBA or grayscale uint8), largest first.

        An empty list means no face was found.
        """
        if self._blazeface is not None:
            return self._detect_blazeface(image, max_faces)
        return self._detect_haar(image, max_faces)

    def _detect_blazeface(self, image: np.ndarray, max_faces: int | None) -> list[Face]:
        """BlazeFace boxes, reframed as FER2013 frames its faces, levelled by its eyes."""
        assert self._blazeface is not None  # method="blazeface"
        gray = self.gray(image)
        rgb = cv2.cvtColor(gray, cv2.COLOR_GRAY2RGB) if np.asarray(image).ndim == 2 else image
        if rgb.shape[-1] == 4:
            rgb = cv2.cvtColor(rgb, cv2.COLOR_RGBA2RGB)
        detections = _drop_merged(self._blazeface.detect(rgb))
        min_side = self.min_face_fraction * min(gray.shape)
        faces = []
        for detection in detections:
            x, y, w, h = detection.box
            side = max(w, h) / BLAZEFACE_BOX_IN_FRAME
            if side < min_side:
                continue
            cx, cy = x + w / 2, y + h / 2 - BLAZEFACE_CENTRE_DROP * side
            box = (
                int(round(cx - side / 2)),
                int(round(cy - side / 2)),
                int(round(side)),
                int(round(side)),
            )
            # Keypoints 0 and 1: the subject's right eye (the image's left) and left eye.
            (ax, ay), (bx, by) = detection.keypoints[0], detection.keypoints[1]
            eyes, angle = None, 0.0
            if self.align:
                angle = math.degrees(math.atan2(by - ay, bx - ax))
                eyes = ((float(ax), float(ay)), (float(bx), float(by)))
                if abs(angle) > MAX_ALIGN_ANGLE_LANDMARKS:
                    eyes, angle = None, 0.0
            faces.append(Face(box=box, crop=self.crop(gray, box, angle), angle=angle, eyes=eyes))
        faces.sort(key=lambda f: -f.area)
        return faces[:max_faces]

    def _detect_haar(self, image: np.ndarray, max_faces: int | None) -> list[Face]:
        gray = self.gray(image)
        faces = []
        for box in self.boxes(gray)[:max_faces]:
            eyes, angle = None, 0.0
            if self.align:
                eyes = self._eye_centres(gray, box)
                if eyes is not None:
                    (lx, ly), (rx, ry) = eyes
                    angle = math.degrees(math.atan2(ry - ly, rx - lx))
                    if abs(angle) > MAX_ALIGN_ANGLE:
                        eyes, angle = None, 0.0
            faces.append(Face(box=box, crop=self.crop(gray, box, angle), angle=angle, eyes=eyes))
        return faces


def iou(a, b) -> float:
    """Intersection over union of two ``(x, y, w, h)`` boxes.

    >>> iou((0, 0, 10, 10), (5, 0, 10, 10))
    0.3333333333333333
    """
    ax2, ay2 = a[0] + a[2], a[1] + a[3]
    bx2, by2 = b[0] + b[2], b[1] + b[3]
    iw = max(0, min(ax2, bx2) - max(a[0], b[0]))
    ih = max(0, min(ay2, by2) - max(a[1], b[1]))
    inter = iw * ih
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0
