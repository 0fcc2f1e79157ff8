"""BlazeFace (short range): a small DNN face detector with six landmarks, on LiteRT.

The model is MediaPipe's ``face_detection_short_range.tflite`` (Apache-2.0, from the
``mediapipe`` 0.10.14 wheel; ``emozoo/assets/blazeface/``), run with ai-edge-litert:
a 128x128 RGB input in [-1, 1], 896 SSD anchors, each with a box, six keypoints (the
eyes, the nose tip, the mouth, the ear tragions) and a score. Decoding follows
MediaPipe's face detection graph (anchors from ``SsdAnchorsCalculator``, boxes scaled by
128, sigmoid scores above 0.5, weighted non-maximum suppression at IoU 0.3).

One pass sees the whole image squeezed to 128 pixels, so faces smaller than about a
tenth of the image are missed; images of 512 pixels or more are also read in
overlapping 256-pixel tiles, whose detections join the whole-image ones before
suppression (about 1 ms per tile on one core). The eye keypoints give the levelling
angle.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from emozoo.paths import ASSETS_DIR

MODEL_PATH = ASSETS_DIR / "blazeface" / "face_detection_short_range.tflite"
MODEL_SHA256 = "bbff11cebd1eb27a1e004cae0b0e63ec8c551cbf34a4451148b4908b8db3eca8"
INPUT_SIZE = 128
SCORE_THRESHOLD = 0.5
NMS_IOU = 0.3
#: Side of the tiles that large images are also read in (pixels of the image).
TILE = 256
#: A tile's face is looked at again in a window this many times its size, and kept
#: when that view scores at least RECHECK_SCORE.
RECHECK_ZOOM = 2.5
RECHECK_SCORE = 0.7


def _anchors() -> np.ndarray:
    """``(896, 2)`` anchor centres in [0, 1]: MediaPipe's short-range SSD options (strides
    8, 16, 16, 16; two anchors per cell per layer, fixed size, offset 0.5)."""
    centres = []
    strides = [8, 16, 16, 16]
    layer = 0
    while layer < len(strides):
        stride = strides[layer]
        count = 0
        while layer < len(strides) and strides[layer] == stride:
            count += 2
            layer += 1
        size = INPUT_SIZE // stride
        for y in range(size):
            for x in range(size):
                centres += [((x + 0.5) / size, (y + 0.5) / size)] * count
    return np.asarray(centres, np.float32)


_ANCHORS = _anchors()


@dataclass
class Detection:
    """A face in image pixels: ``box`` ``(x, y, w, h)``, ``score``, ``keypoints`` ``(6, 2)``
    (the subject's right eye, left eye, nose tip, mouth, right ear, left ear)."""

    box: tuple[float, float, float, float]
    score: float
    keypoints: np.ndarray


def _box(values: np.ndarray) -> tuple[float, float, float, float]:
    """``(x, y, w, h)`` as floats."""
    x, y, w, h = (float(v) for v in values)
    return x, y, w, h


def _iou_matrix(boxes: np.ndarray, box: np.ndarray) -> np.ndarray:
    x1 = np.maximum(boxes[:, 0], box[0])
    y1 = np.maximum(boxes[:, 1], box[1])
    x2 = np.minimum(boxes[:, 0] + boxes[:, 2], box[0] + box[2])
    y2 = np.minimum(boxes[:, 1] + boxes[:, 3], box[1] + box[3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    union = boxes[:, 2] * boxes[:, 3] + box[2] * box[3] - inter
    return inter / np.maximum(union, 1e-9)


def weighted_nms(boxes: np.ndarray, keypoints: np.ndarray, scores: np.ndarray) -> list[Detection]:
    """MediaPipe's weighted suppression: overlapping candidates (IoU > 0.3) are averaged,
    weighted by score, into the best one."""
    order = np.argsort(-scores)
    boxes, keypoints, scores = boxes[order], keypoints[order], scores[order]
    kept = []
    remaining = np.arange(len(scores))
    while len(remaining):
        overlap = _iou_matrix(boxes[remaining], boxes[remaining[0]]) > NMS_IOU
        group = remaining[overlap]
        weights = scores[group][:, None]
        box = (boxes[group] * weights).sum(0) / weights.sum()
        points = (keypoints[group] * weights[:, :, None]).sum(0) / weights.sum()
        kept.append(Detection(_box(box), float(scores[group[0]]), points))
        remaining = remaining[~overlap]
    return kept


class BlazeFace:
    """Find faces and their landmarks in RGB uint8 images (thread-safe: one interpreter
    per thread)."""

    def __init__(self, score_threshold: float = SCORE_THRESHOLD, tiles: bool = True):
        self.score_threshold = float(score_threshold)
        self.tiles = tiles
        self._per_thread = threading.local()

    def _run(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        interpreter = getattr(self._per_thread, "interpreter", None)
        if interpreter is None:
            from ai_edge_litert.interpreter import Interpreter

            interpreter = Interpreter(model_path=str(model_path()), num_threads=1)
            interpreter.allocate_tensors()
            self._per_thread.interpreter = interpreter
            details = interpreter.get_output_details()
            self._per_thread.outputs = {d["name"]: d["index"] for d in details}
        # One window per call: the graph's reshapes assume a batch of one.
        outputs, raw, logits = self._per_thread.outputs, [], []
        for window in batch:
            interpreter.set_tensor(interpreter.get_input_details()[0]["index"], window[None])
            interpreter.invoke()
            raw.append(interpreter.get_tensor(outputs["regressors"])[0])
            logits.append(interpreter.get_tensor(outputs["classificators"])[0])
        return np.stack(raw), np.stack(logits)

    def _windows(self, height: int, width: int) -> list[tuple[int, int, int]]:
        """``(x, y, side)`` squares to read: the whole image and, for faces too small to
        be seen in it, overlapping tiles of :data:`TILE` pixels (a face of 40 pixels
        fills a sixth of a tile, which the short-range model still finds)."""
        windows = [(0, 0, max(height, width))]
        if not self.tiles or max(height, width) < 2 * TILE:
            return windows
        step = TILE * 3 // 4
        for y in range(0, max(1, height - TILE + step), step):
            for x in range(0, max(1, width - TILE + step), step):
                windows.append((min(x, max(0, width - TILE)), min(y, max(0, height - TILE)), TILE))
        return windows

    def _candidates(self, rgb: np.ndarray, windows) -> list[tuple[np.ndarray, ...]]:
        """Per window, ``(boxes, keypoints, scores)`` in image pixels above the threshold."""
        batch = np.empty((len(windows), INPUT_SIZE, INPUT_SIZE, 3), np.float32)
        for i, (x, y, side) in enumerate(windows):
            # Zero padding past the image edges (MediaPipe's letterbox keeps the aspect).
            square = np.zeros((side, side, 3), np.uint8)
            x0, y0 = max(x, 0), max(y, 0)
            part = rgb[y0 : y + side, x0 : x + side]
            square[y0 - y : y0 - y + part.shape[0], x0 - x : x0 - x + part.shape[1]] = part
            batch[i] = cv2.resize(square, (INPUT_SIZE, INPUT_SIZE), interpolation=cv2.INTER_AREA)
        raw, logits = self._run(batch / 127.5 - 1.0)
        scores = 1.0 / (1.0 + np.exp(-np.clip(logits[..., 0].astype(np.float64), -100, 100)))
        found: list[tuple[np.ndarray, ...]] = []
        for i, (x, y, side) in enumerate(windows):
            keep = scores[i] >= self.score_threshold
            r, anchors = raw[i][keep] / INPUT_SIZE, _ANCHORS[keep]
            cx, cy = r[:, 0] + anchors[:, 0], r[:, 1] + anchors[:, 1]
            w, h = r[:, 2], r[:, 3]
            boxes = np.stack([cx - w / 2, cy - h / 2, w, h], 1) * side + [x, y, 0, 0]
            keypoints = (r[:, 4:16].reshape(-1, 6, 2) + anchors[:, None, :]) * side + [x, y]
            found.append((boxes.reshape(-1, 4), keypoints.reshape(-1, 6, 2), scores[i][keep]))
        return found

    def _confirmed(self, rgb: np.ndarray, detection: Detection) -> Detection | None:
        """A tile's face, looked at again in a window 2.5 times its size (the scale the
        model sees faces best at): the better view of it, or ``None`` if it does not
        hold up (tiles of clothing or background give weak false faces)."""
        x, y, w, h = detection.box
        side = int(RECHECK_ZOOM * max(w, h))
        window = (int(x + w / 2 - side / 2), int(y + h / 2 - side / 2), side)
        boxes, keypoints, scores = self._candidates(rgb, [window])[0]
        if not len(scores):
            return None
        centres = boxes[:, :2] + boxes[:, 2:] / 2
        near = np.hypot(*(centres - [x + w / 2, y + h / 2]).T) < max(w, h) / 2
        near &= scores >= RECHECK_SCORE
        if not near.any():
            return None
        best = np.flatnonzero(near)[np.argmax(scores[near])]
        return Detection(_box(boxes[best]), float(scores[best]), keypoints[best])

    def detect(self, rgb: np.ndarray) -> list[Detection]:
        """Faces in ``rgb`` (``HxWx3`` uint8), best first."""
        height, width = rgb.shape[:2]
        windows = self._windows(height, width)
        found = self._candidates(rgb, windows)
        whole = found[0]
        tiles = [part for part in found[1:] if len(part[2])]
        small = []
        if tiles:
            boxes, points, scores = (np.concatenate(parts) for parts in zip(*tiles, strict=True))
            # A tile is there for small faces: a big box in one is a body part.
            keep = boxes[:, 2] < TILE / 2
            for candidate in weighted_nms(boxes[keep], points[keep], scores[keep]):
                confirmed = self._confirmed(rgb, candidate)
                if confirmed is not None:
                    small.append(confirmed)
        boxes = np.concatenate([whole[0], *(np.asarray([d.box]) for d in small)])
        points = np.concatenate([whole[1], *(d.keypoints[None] for d in small)])
        scores = np.concatenate([whole[2], [d.score for d in small]])
        return weighted_nms(boxes, points, scores) if len(scores) else []


def model_path() -> Path:
    """The shipped BlazeFace file, sha256-checked once."""
    global _checked
    if not _checked:
        import hashlib

        digest = hashlib.sha256(MODEL_PATH.read_bytes()).hexdigest()
        if digest != MODEL_SHA256:
            raise RuntimeError(f"{MODEL_PATH} does not match its sha256 (reinstall emozoo)")
        _checked = True
    return MODEL_PATH


_checked = False

__all__ = ["BlazeFace", "Detection", "MODEL_PATH", "weighted_nms"]
