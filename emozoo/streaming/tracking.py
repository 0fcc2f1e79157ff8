"""Faces from frame to frame: BlazeFace now and then, template matching in between.

Detection (BlazeFace, about 4 ms on a 480-pixel frame on one core; 30 ms at 640 pixels,
where it also reads 256-pixel tiles for small faces) runs every ``detect_every`` frames
and whenever a tracked face is lost. In between, each face is followed by normalised
cross-correlation of its last appearance in a window around its last box (about 0.5 ms
a face), keeping the eye-levelling angle of its last detection. Track ids come from
:class:`~emozoo.inference.tracking.IoUTracker`, fed every frame's boxes.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from emozoo.inference.faces import iou
from emozoo.inference.tracking import IoUTracker

#: Template matching runs on faces scaled to at most this width (pixels).
MATCH_WIDTH = 48
#: A face is lost when its best match scores below this (normalised cross-correlation).
MIN_MATCH = 0.5
#: The search window extends this share of the face's size on each side.
SEARCH_MARGIN = 0.5
#: A face the detector misses is still followed for this many detections in a row.
MAX_MISSES = 2


def _scaled(box: tuple[int, int, int, int], scale: float) -> tuple[int, int, int, int]:
    """``box`` in the frame's pixels, from a frame resized by ``scale``."""
    x, y, w, h = (int(round(v / scale)) for v in box)
    return x, y, w, h


@dataclass
class TrackedFace:
    """A face in one frame: its ``track`` id, ``box`` ``(x, y, w, h)`` in frame pixels,
    the ``angle`` that levels its eyes, and whether the detector found it in this frame
    (``detected``) or template matching followed it (``score``: its match)."""

    track: int
    box: tuple[int, int, int, int]
    angle: float = 0.0
    detected: bool = False
    score: float = 1.0


def _clip(box, width: int, height: int) -> tuple[int, int, int, int] | None:
    x, y, w, h = box
    x0, y0, x1, y1 = max(0, x), max(0, y), min(width, x + w), min(height, y + h)
    if x1 - x0 < 4 or y1 - y0 < 4:
        return None
    return x0, y0, x1 - x0, y1 - y0


class FaceTracker:
    """Follow the faces of a stream, frame by frame.

    Args:
        detector: a :class:`~emozoo.inference.faces.FaceDetector` (the recognizer's).
        detect_every: frames between detections (1: detect in every frame).
        detect_max_side: frames are downscaled to this longer side for detection
            (``None``: full size, which also finds faces under a tenth of the frame).
        max_faces: follow at most the N largest faces.
        min_match: a face whose match scores below this is lost (detection follows).
    """

    def __init__(
        self,
        detector,
        detect_every: int = 10,
        detect_max_side: int | None = 480,
        max_faces: int | None = None,
        min_match: float = MIN_MATCH,
    ):
        if detect_every < 1:
            raise ValueError(f"detect_every must be at least 1, got {detect_every}")
        self.detector = detector
        self.detect_every = int(detect_every)
        self.detect_max_side = detect_max_side
        self.max_faces = max_faces
        self.min_match = float(min_match)
        # A face the detector misses once keeps its id if found again at the next detection.
        self._ids = IoUTracker(max_missed=2 * self.detect_every)
        self._faces: list[TrackedFace] = []
        self._templates: dict[int, np.ndarray] = {}
        self._since_detection: int | None = None
        self._detected: list[TrackedFace] = []
        self._misses: dict[int, int] = {}  # track -> detections in a row that missed it
        self.detections = 0

    def update(self, bgr: np.ndarray, gray: np.ndarray) -> list[TrackedFace]:
        """The faces of the next frame (``bgr`` and its grayscale ``gray``)."""
        due = self._since_detection is None or self._since_detection + 1 >= self.detect_every
        faces = None if due else self._follow(gray)
        if faces is None:  # detection due, or a face was lost: detect in this frame
            faces = (self._detect(bgr) + self._missed(gray))[: self.max_faces]
        ids = self._ids.update([f.box for f in faces])
        for face, track in zip(faces, ids, strict=True):
            face.track = track
        self._faces = faces
        self._templates = {
            f.track: t for f in faces if (t := self._template(gray, f.box)) is not None
        }
        return faces

    def _detect(self, bgr: np.ndarray) -> list[TrackedFace]:
        self.detections += 1
        self._since_detection = 0
        self._detected = []
        height, width = bgr.shape[:2]
        scale = 1.0
        if self.detect_max_side and max(height, width) > self.detect_max_side:
            scale = self.detect_max_side / max(height, width)
            bgr = cv2.resize(bgr, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        found = self.detector.detect(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), self.max_faces)
        self._detected = [
            TrackedFace(-1, _scaled(f.box, scale), f.angle, detected=True) for f in found
        ]
        return list(self._detected)

    def _missed(self, gray: np.ndarray) -> list[TrackedFace]:
        """Faces the detection just missed that template matching still follows well
        (BlazeFace flickers on faces near its smallest size), for ``MAX_MISSES``
        detections in a row."""
        kept = []
        for face in self._faces:
            followed = self._match(gray, face)
            detected = (
                any(iou(followed.box, d.box) >= 0.3 for d in self._detected) if followed else True
            )
            misses = self._misses.get(face.track, 0)
            if followed is not None and not detected and misses < MAX_MISSES:
                self._misses[face.track] = misses + 1
                kept.append(followed)
            else:
                self._misses.pop(face.track, None)
        return kept

    def _template(self, gray: np.ndarray, box) -> np.ndarray | None:
        clipped = _clip(box, gray.shape[1], gray.shape[0])
        if clipped is None:
            return None
        x, y, w, h = clipped
        scale = min(1.0, MATCH_WIDTH / w)
        patch = gray[y : y + h, x : x + w]
        return patch if scale == 1.0 else cv2.resize(patch, None, fx=scale, fy=scale)

    def _follow(self, gray: np.ndarray) -> list[TrackedFace] | None:
        """Each face moved to its best match near its last box; ``None`` if one is lost."""
        faces = []
        for face in self._faces:
            followed = self._match(gray, face)
            if followed is None:
                return None
            faces.append(followed)
        assert self._since_detection is not None  # faces are followed between detections
        self._since_detection += 1
        return faces

    def _match(self, gray: np.ndarray, face: TrackedFace) -> TrackedFace | None:
        """``face`` moved to the best match of its last appearance near its last box, or
        ``None`` when that match is poor (or the face has left the frame)."""
        height, width = gray.shape[:2]
        template = self._templates.get(face.track)
        clipped = _clip(face.box, width, height)
        if template is None or clipped is None:
            return None
        x, y, w, h = clipped
        scale = template.shape[1] / w
        margin = int(SEARCH_MARGIN * max(w, h))
        x0, y0 = max(0, x - margin), max(0, y - margin)
        region = gray[y0 : min(height, y + h + margin), x0 : min(width, x + w + margin)]
        if scale != 1.0:
            region = cv2.resize(region, None, fx=scale, fy=scale)
        if region.shape[0] < template.shape[0] or region.shape[1] < template.shape[1]:
            return None
        scores = cv2.matchTemplate(region, template, cv2.TM_CCOEFF_NORMED)
        _, best, _, (mx, my) = cv2.minMaxLoc(scores)
        if not np.isfinite(best) or best < self.min_match:
            return None
        dx = int(round(x0 + mx / scale)) - x
        dy = int(round(y0 + my / scale)) - y
        bx, by, bw, bh = face.box
        return TrackedFace(face.track, (bx + dx, by + dy, bw, bh), face.angle, False, best)
