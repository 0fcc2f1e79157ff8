"""Users' own data: class folders of images or audio, text in CSV, multimodal manifests.

Labels are given by name and mapped onto the model's label set (case-insensitive);
unknown names are an error that lists them. Unreadable files are an error naming
the file, or, with ``on_error="skip"``, left out and counted in the returned report.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from emozoo.data.label_maps import encode_labels
from emozoo.data.pipeline import SkipReport
from emozoo.data.records import Records

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff", ".pgm")
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg")
MANIFEST_COLUMNS = ("face_path", "text", "audio_path", "label")
#: An optional manifest column: an OpenFace 2 / py-feat action-unit CSV per row, for
#: models that take ``face_au``.
AU_COLUMN = "au_path"
#: The columns that name a row's inputs; a manifest needs ``label`` and any of these.
MANIFEST_INPUTS = ("face_path", "text", "audio_path", AU_COLUMN)


def _check_on_error(on_error: str) -> None:
    if on_error not in ("raise", "skip"):
        raise ValueError(f"on_error must be 'raise' or 'skip', got {on_error!r}")


def _class_folders(root: Path, suffixes: Sequence[str]) -> list[tuple[Path, str]]:
    root = Path(root).expanduser()
    if not root.is_dir():
        raise FileNotFoundError(f"Data folder {root} does not exist")
    files = [
        (path, folder.name)
        for folder in sorted(p for p in root.iterdir() if p.is_dir())
        for path in sorted(folder.rglob("*"))
        if path.suffix.lower() in suffixes
    ]
    if not files:
        raise ValueError(
            f"No {'/'.join(suffixes)} files in class folders under {root} (expected {root}/<label>/<file>)"
        )
    return files


def read_face_image(path: str | Path, image_size: int) -> np.ndarray:
    """A grayscale ``(image_size, image_size)`` uint8 crop of an image file (OpenCV)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Image file {path} does not exist")
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if image is None or image.size == 0:
        raise ValueError(f"Image file {path} could not be decoded")
    return cv2.resize(image, (image_size, image_size), interpolation=cv2.INTER_AREA)


def from_image_folder(
    root: str | Path,
    labels: Sequence[str],
    image_size: int = 48,
    on_error: str = "raise",
    report: SkipReport | None = None,
) -> Records:
    """Face crops in ``root/<label>/<image>`` as face :class:`Records` (read with OpenCV)."""
    _check_on_error(on_error)
    report = report if report is not None else SkipReport()
    files = _class_folders(Path(root), IMAGE_SUFFIXES)
    indices = encode_labels([label for _, label in files], labels)
    images, kept = [], []
    for i, (path, _) in enumerate(files):
        try:
            images.append(read_face_image(path, image_size))
            kept.append(i)
        except (FileNotFoundError, ValueError) as error:
            if on_error == "raise":
                raise
            report.skipped.append((str(path), str(error)))
    stack = np.stack(images) if images else np.zeros((0, image_size, image_size), np.uint8)
    return Records(
        Path(root).name,
        "custom",
        "face",
        stack,
        indices[kept],
        tuple(labels),
        {"skipped": report.count},
    )


def from_audio_folder(root: str | Path, labels: Sequence[str]) -> Records:
    """Speech clips in ``root/<label>/<clip>.wav|flac|ogg`` as audio :class:`Records`.

    Files are decoded later, in the pipeline (any rate and channel count), where a
    bad file raises or is skipped as ``make_dataset(on_error=...)`` says.
    """
    files = _class_folders(Path(root), AUDIO_SUFFIXES)
    indices = encode_labels([label for _, label in files], labels)
    return Records(
        Path(root).name, "custom", "audio", [str(p) for p, _ in files], indices, tuple(labels)
    )


def from_text_csv(
    path: str | Path, labels: Sequence[str], text_column: str = "text", label_column: str = "label"
) -> Records:
    """Texts and label names from a CSV file with a header row."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"CSV file {path} does not exist")
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        raise ValueError(f"{path} has no rows")
    missing = [c for c in (text_column, label_column) if c not in rows[0]]
    if missing:
        raise ValueError(f"{path} lacks columns {missing}; it has {list(rows[0])}")
    indices = encode_labels([r[label_column] for r in rows], labels)
    return Records(
        path.stem, "custom", "text", [r[text_column] for r in rows], indices, tuple(labels)
    )


@dataclass
class Manifest:
    """Rows of a multimodal manifest; an empty string marks a missing modality."""

    path: Path
    face_paths: list[str]
    texts: list[str]
    audio_paths: list[str]
    labels: np.ndarray
    label_names: tuple[str, ...]
    counts: dict[str, int] = field(default_factory=dict)
    au_paths: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.labels)


def read_manifest_rows(path: str | Path) -> list[dict[str, str]]:
    """The rows of a CSV manifest as dicts, after checking the file and its columns.

    A manifest needs ``label`` and any of ``face_path, text, audio_path, au_path``; the
    input columns it lacks read as empty in every row.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"Manifest {path} does not exist")
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        columns = reader.fieldnames or []
        if "label" not in columns or not any(c in columns for c in MANIFEST_INPUTS):
            missing = [c for c in MANIFEST_COLUMNS if c not in columns]
            raise ValueError(
                f"Manifest {path} lacks columns {missing}; expected {list(MANIFEST_COLUMNS)} "
                f"(any of the inputs {list(MANIFEST_INPUTS)}, and label)"
            )
        return [{**dict.fromkeys(MANIFEST_INPUTS, ""), **row} for row in reader]


def read_manifest(path: str | Path, labels: Sequence[str]) -> Manifest:
    """Read a CSV manifest with columns ``face_path, text, audio_path, label`` and,
    optionally, ``au_path`` (an OpenFace 2 / py-feat action-unit CSV).

    Relative paths are resolved against the manifest's folder. Each row needs a label
    and at least one input; any of them may be empty.
    """
    path = Path(path).expanduser()
    rows = read_manifest_rows(path)
    if not rows:
        raise ValueError(f"Manifest {path} has no rows")

    def resolve(value: str) -> str:
        value = (value or "").strip()
        if not value:
            return ""
        file = Path(value).expanduser()
        return str(file if file.is_absolute() else path.parent / file)

    for line, row in enumerate(rows, start=2):
        if not any((row[c] or "").strip() for c in MANIFEST_INPUTS):
            raise ValueError(
                f"Manifest {path} line {line} has no face, text or audio (nor action units)"
            )
        if not (row["label"] or "").strip():
            raise ValueError(f"Manifest {path} line {line} has no label")
    manifest = Manifest(
        path=path,
        face_paths=[resolve(r["face_path"]) for r in rows],
        texts=[(r["text"] or "").strip() for r in rows],
        audio_paths=[resolve(r["audio_path"]) for r in rows],
        labels=encode_labels([r["label"] for r in rows], labels),
        label_names=tuple(labels),
        au_paths=[resolve(r[AU_COLUMN]) for r in rows],
    )
    manifest.counts = {
        "rows": len(rows),
        "face": sum(bool(p) for p in manifest.face_paths),
        "text": sum(bool(t) for t in manifest.texts),
        "audio": sum(bool(p) for p in manifest.audio_paths),
    }
    if any(manifest.au_paths):
        manifest.counts["face_au"] = sum(bool(p) for p in manifest.au_paths)
    return manifest


def preprocessor_for_model(model, vocabulary: str | Path = "wordpiece_vocab.txt"):
    """A :class:`~emozoo.preprocessing.Preprocessor` matching a built model's inputs and labels."""
    from emozoo.models import MODALITIES, get_labels
    from emozoo.preprocessing import Preprocessor

    shapes = {t.name: tuple(t.shape[1:]) for t in model.inputs}
    modalities = [m for m in (*MODALITIES, "face_au") if m in shapes]
    if not modalities:
        raise ValueError(
            f"Model {model.name!r} takes none of {list(MODALITIES)} (inputs: {list(shapes)})"
        )
    labels = get_labels(model)
    if labels is None:
        raise ValueError(f"Model {model.name!r} has no classifier; build it with include_top=True")
    params = {}
    if "face" in shapes:
        params["face"] = {"image_size": shapes["face"][0]}
    if "text" in shapes:
        params["text"] = {"vocabulary": vocabulary, "sequence_length": shapes["text"][0]}
    if "audio" in shapes:
        params["audio"] = {"sample_rate": 16000, "duration_s": shapes["audio"][0] / 16000}
    if "face_au" in shapes:
        params["face_au"] = {}
    return Preprocessor(modalities, params, labels)


def from_manifest(
    path: str | Path,
    model=None,
    *,
    preprocessor=None,
    batch_size: int = 32,
    shuffle: bool = True,
    augment=False,
    seed: int = 0,
    cache: bool = True,
    on_error: str = "raise",
    report: SkipReport | None = None,
):
    """A batched ``tf.data.Dataset`` of ``(inputs, label)`` from a multimodal CSV manifest.

    Columns ``face_path, text, audio_path, label`` and, for models that take facial
    action units, ``au_path`` (an OpenFace 2 / py-feat CSV, its frames averaged); any
    input may be empty, which gives that modality zeros and a presence flag of 0. Labels
    are mapped to the model's label set.

    Args:
        path: the manifest CSV.
        model: the Keras model to feed (its inputs and labels set the preprocessing), or
        preprocessor: an explicit :class:`~emozoo.preprocessing.Preprocessor` instead.
        on_error: ``"raise"`` at the first unreadable file (named), or ``"skip"`` the row
            and record it in ``report``.

    >>> ds = from_manifest("my_data.csv", model=model, augment=True)  # doctest: +SKIP
    """
    import tensorflow as tf

    from emozoo.data.audio_io import AudioReadError, load_clip
    from emozoo.data.pipeline import AUTOTUNE, augment_dataset
    from emozoo.preprocessing.face_au import AU_NAMES, read_au_csv

    _check_on_error(on_error)
    if preprocessor is None:
        if model is None:
            raise ValueError("from_manifest needs a model or a preprocessor")
        preprocessor = preprocessor_for_model(model)
    report = report if report is not None else SkipReport()
    manifest = read_manifest(path, preprocessor.labels)
    modalities = preprocessor.modalities
    unused = [
        i
        for i in range(len(manifest))
        if not any(
            {
                "face": manifest.face_paths[i],
                "text": manifest.texts[i],
                "audio": manifest.audio_paths[i],
                "face_au": manifest.au_paths[i],
            }[m]
            for m in modalities
        )
    ]
    if unused:
        message = f"{len(unused)} manifest row(s) have none of the model's modalities ({', '.join(modalities)})"
        if on_error == "raise":
            raise ValueError(
                f"{message}; first at line {unused[0] + 2}. Pass on_error='skip' to leave them out"
            )
        report.skipped += [
            (f"{manifest.path}:{i + 2}", "none of the model's modalities") for i in unused
        ]
    rows = [i for i in range(len(manifest)) if i not in set(unused)]

    face_size = preprocessor.face.image_size if preprocessor.face else 1
    num_samples = preprocessor.audio.num_samples if preprocessor.audio else 1
    rate = preprocessor.audio.sample_rate if preprocessor.audio else 16000

    num_aus = len(AU_NAMES)

    def read(face_path: bytes, audio_path: bytes, au_path: bytes):
        face = np.zeros((face_size, face_size, 1), np.float32)
        audio = np.zeros((num_samples,), np.float32)
        aus = np.zeros((num_aus,), np.float32)
        ok = np.ones((), bool)
        try:
            if face_path and "face" in modalities:
                face[..., 0] = read_face_image(face_path.decode(), face_size)
            if audio_path and "audio" in modalities:
                audio = load_clip(audio_path.decode(), rate, num_samples)
            if au_path and "face_au" in modalities:
                # the clip's mean (NaN where the CSV lacks an AU: the model's mean)
                aus = np.asarray(read_au_csv(au_path.decode()), np.float32).mean(axis=0)
        except (FileNotFoundError, ValueError, AudioReadError) as error:
            if on_error == "raise":
                raise
            report.skipped.append(((face_path or audio_path or au_path).decode(), str(error)))
            ok = np.zeros((), bool)
        return face, audio, aus, ok

    def decode(face_path, text, audio_path, au_path, label):
        face, audio, aus, ok = tf.numpy_function(
            read, [face_path, audio_path, au_path], [tf.float32, tf.float32, tf.float32, tf.bool]
        )
        face.set_shape([face_size, face_size, 1])
        audio.set_shape([num_samples])
        aus.set_shape([num_aus])
        ok.set_shape([])
        present = {
            "face": tf.cast(tf.strings.length(face_path) > 0, tf.float32)[None],
            "text": tf.cast(tf.strings.length(text) > 0, tf.float32)[None],
            "audio": tf.cast(tf.strings.length(audio_path) > 0, tf.float32)[None],
            "face_au": tf.cast(tf.strings.length(au_path) > 0, tf.float32)[None],
        }
        inputs = {"face": face, "text": text, "audio": audio, "face_au": aus}
        return inputs, present, label, ok

    columns = (
        [manifest.face_paths[i] for i in rows],
        [manifest.texts[i] for i in rows],
        [manifest.audio_paths[i] for i in rows],
        [manifest.au_paths[i] for i in rows],
        manifest.labels[rows].astype(np.int32),
    )
    ds = tf.data.Dataset.from_tensor_slices(columns)
    ds = ds.map(decode, num_parallel_calls=AUTOTUNE, deterministic=True)
    ds = ds.filter(lambda inputs, present, label, ok: ok)
    tokenizer = preprocessor.text.tokenizer if preprocessor.text else None

    def assemble(inputs, present, label):
        out = {}
        for m in modalities:
            value = inputs[m]
            if m == "text":
                assert tokenizer is not None  # the model takes text
                value = tokenizer(value)
            out[m] = value
            if preprocessor.multimodal:
                out[f"{m}_present"] = present[m]
        return out, label

    ds = ds.map(lambda inputs, present, label, ok: (inputs, present, label))
    if cache:
        ds = ds.cache()
    if shuffle:
        ds = ds.shuffle(max(len(rows), 1), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size, num_parallel_calls=AUTOTUNE, deterministic=True)
    ds = ds.map(assemble, num_parallel_calls=AUTOTUNE, deterministic=True)
    if augment:
        ds = augment_dataset(ds, augment, seed)
    return ds.prefetch(AUTOTUNE)
