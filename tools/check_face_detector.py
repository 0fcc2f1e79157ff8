"""Face detector recall on FER2013 faces: BlazeFace (emozoo's default) against Haar.

    python tools/check_face_detector.py [--n 1000]

FER2013 PrivateTest images (the last ``--n``) are placed in larger frames so that each
holds one real face at a known place, in three conditions:

- ``fer_size``: upscaled 3x (144 px) and padded by replicating the borders (288 px);
- ``tilted``: the same, rotated by +-25 degrees around the face;
- ``small``: the face at 48 px in a 640x480 frame of replicated borders.

A face counts as found when a detected box's centre lies within a quarter of the face
size of the true centre and its size is within a factor of two. Compared: OpenCV's
default cascade alone (``minNeighbors=5``, its usual setting), emozoo's Haar detector
(two cascades) and emozoo's BlazeFace detector. Also reports the detectors' time per
frame on one core. Needs ../shared/data; ends with one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import cv2
import numpy as np

from emozoo.data import load_source
from emozoo.inference.faces import FaceDetector


def framed(face: np.ndarray, condition: str, angle: float) -> tuple[np.ndarray, tuple, float]:
    """``(grayscale frame, true face centre, true face size)`` of one FER2013 face."""
    if condition == "small":
        canvas = cv2.copyMakeBorder(face, 216, 216, 296, 296, cv2.BORDER_REPLICATE)
        return canvas, (320.0, 240.0), 48.0
    big = cv2.resize(face, (144, 144), interpolation=cv2.INTER_CUBIC)
    big = cv2.copyMakeBorder(big, 72, 72, 72, 72, cv2.BORDER_REPLICATE)
    if condition == "tilted":
        matrix = cv2.getRotationMatrix2D((144, 144), angle, 1.0)
        big = cv2.warpAffine(big, matrix, (288, 288), borderMode=cv2.BORDER_REPLICATE)
    return big, (144.0, 144.0), 144.0


def found(boxes, centre, size) -> bool:
    for x, y, w, h in boxes:
        near = np.hypot(x + w / 2 - centre[0], y + h / 2 - centre[1]) < size / 4
        if near and 0.5 * size < max(w, h) < 2 * size:
            return True
    return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    cv2.setNumThreads(1)
    images = load_source("fer2013", "test").items[-args.n :]
    default = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
    haar = FaceDetector(align=False, method="haar")
    blaze = FaceDetector(align=False, method="blazeface")
    detectors = {
        "default_cascade": lambda g: [
            tuple(b)
            for b in default.detectMultiScale(cv2.equalizeHist(g), 1.1, 5, minSize=(20, 20))
        ],
        "emozoo_haar": lambda g: haar.boxes(g),
        "emozoo_blazeface": lambda g: [f.box for f in blaze.detect(g)],
    }
    rng = np.random.default_rng(0)
    results: dict[str, dict[str, float]] = {}
    for condition in ("fer_size", "tilted", "small"):
        counts = dict.fromkeys(detectors, 0)
        seconds = dict.fromkeys(detectors, 0.0)
        for image in images:
            angle = float(rng.choice([-25.0, 25.0]))
            frame, centre, size = framed(image, condition, angle)
            for name, detect in detectors.items():
                start = time.perf_counter()
                boxes = detect(frame)
                seconds[name] += time.perf_counter() - start
                counts[name] += found(boxes, centre, size)
        results[condition] = {
            **{f"{k}_recall": round(v / len(images), 4) for k, v in counts.items()},
            **{f"{k}_ms": round(1000 * v / len(images), 2) for k, v in seconds.items()},
        }
        print(f"{condition} ({len(images)} faces):")
        for name in detectors:
            print(
                f"  {name:<18} recall {counts[name] / len(images):6.1%}   "
                f"{1000 * seconds[name] / len(images):6.1f} ms per frame"
            )
    print(json.dumps({"n": len(images), **results}))


if __name__ == "__main__":
    main()
