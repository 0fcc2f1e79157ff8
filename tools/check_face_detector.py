"""How many FER2013 faces the face detector finds, against the default Haar cascade alone.

    python tools/check_face_detector.py [--n 1000]

FER2013 PrivateTest images (48x48, the last ``--n``) are upscaled 3x and padded by
replicating their borders, so each holds one face in a known frame. Counts the images
where a detected box overlaps that frame (IoU > 0.4) for: the default cascade alone
(``minNeighbors=5``, OpenCV's usual setting), and emozoo's detector. Also prints the
median detected box relative to the FER2013 frame (how the training crops compare
with the detector's box). Needs ../shared/data; ends with one JSON line.
"""

from __future__ import annotations

import argparse
import json

import cv2
import numpy as np

from emozoo.data import load_source
from emozoo.inference.faces import FaceDetector, iou


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    args = parser.parse_args()
    images = load_source("fer2013", "test").items[-args.n :]
    default = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
    detector = FaceDetector(align=False)
    frame = (72, 72, 144, 144)
    counts = {"default_cascade": 0, "emozoo_detector": 0}
    relative = []
    for image in images:
        big = cv2.copyMakeBorder(
            cv2.resize(image, (144, 144), interpolation=cv2.INTER_CUBIC),
            72, 72, 72, 72, cv2.BORDER_REPLICATE,
        )  # fmt: skip
        found = default.detectMultiScale(cv2.equalizeHist(big), 1.1, 5, minSize=(40, 40))
        counts["default_cascade"] += any(iou(tuple(b), frame) > 0.4 for b in found)
        boxes = detector.boxes(big)
        hit = [b for b in boxes if iou(b, frame) > 0.4]
        counts["emozoo_detector"] += bool(hit)
        if hit:
            x, y, w, h = hit[0]
            relative.append(((72 - x) / w, (72 - y) / h, 144 / w))
    median = np.median(np.array(relative), axis=0) if relative else [float("nan")] * 3
    print(f"FER2013 PrivateTest faces (last {len(images)}), found by:")
    for name, count in counts.items():
        print(f"  {name:<16} {count:5d} ({count / len(images):.1%})")
    print(
        f"median FER2013 frame relative to the detector's box: offset x {median[0]:+.3f} w, "
        f"y {median[1]:+.3f} h, size {median[2]:.3f}x"
    )
    print(
        json.dumps(
            {
                "n": len(images),
                **counts,
                "frame_offset_x": round(float(median[0]), 3),
                "frame_offset_y": round(float(median[1]), 3),
                "frame_scale": round(float(median[2]), 3),
            }
        )
    )


if __name__ == "__main__":
    main()
