"""What travels inside an export so that an app needs nothing else: labels, input
names and shapes, preprocessing constants and, for text models, the vocabulary.

In a ``.tflite`` file it is two entries of the flatbuffer's ``metadata`` list
(:data:`METADATA_ENTRY`, JSON, and :data:`VOCABULARY_ENTRY`, the WordPiece vocabulary
as text). In a SavedModel it is ``assets.extra/emozoo_metadata.json`` (plus
``assets.extra/<vocabulary file>``) and a ``metadata`` signature returning the labels
and the same JSON as string tensors.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from emozoo.preprocessing import modality_preprocessor
from emozoo.preprocessing.text import vocabulary_path

#: Name of the JSON metadata entry (TFLite) and file stem (SavedModel ``assets.extra``).
METADATA_ENTRY = "emozoo_metadata"
#: Name of the TFLite metadata entry holding the text vocabulary.
VOCABULARY_ENTRY = "emozoo_vocabulary"
#: SavedModel folder for files the graph does not use (TF Serving's convention).
EXTRA_ASSETS = "assets.extra"
SCHEMA_VERSION = 1


def _vocabulary_params(preprocessing: dict) -> dict | None:
    """The preprocessing block that names a vocabulary (a text input's), if any."""
    return next((p for p in preprocessing.values() if "vocabulary" in p), None)


def build_metadata(
    source, *, fmt: str, quantize: str | None, input_specs: list[dict], batch_size: int | None
) -> dict[str, Any]:
    """The metadata dict of one export of :class:`~emozoo.export.source.ExportSource` ``source``."""
    import keras
    import tensorflow as tf

    import emozoo

    preprocessing = json.loads(json.dumps(source.preprocessing))  # a plain copy
    for modality, params in preprocessing.items():
        inputs = modality_preprocessor(modality, source.preprocessing[modality])
        params["input"] = inputs.input_note
        params.update(inputs.metadata())
        for name, path in inputs.asset_files().items():
            data = path.read_bytes()
            params.update(
                vocabulary=name,
                vocabulary_size=sum(1 for line in data.decode("utf-8").splitlines() if line),
                vocabulary_sha256=hashlib.sha256(data).hexdigest(),
                padding_id=0,
            )
    presence = [s["name"] for s in input_specs if s["name"].endswith("_present")]
    if presence:
        preprocessing["presence"] = {
            "inputs": presence,
            "input": "float32 (batch, 1): 1.0 when the modality is given, 0.0 when it is "
            "missing (then feed zeros for it)",
        }
    return {
        "schema": "emozoo-export",
        "schema_version": SCHEMA_VERSION,
        "model": source.name,
        "labels": list(source.labels),
        "inputs": input_specs,
        "outputs": [
            {
                "name": "probabilities",
                "shape": [batch_size, len(source.labels)],
                "dtype": "float32",
                "meaning": "class probabilities in label order",
            }
        ],
        "preprocessing": preprocessing,
        "export": {
            "format": fmt,
            "quantize": quantize,
            "batch_size": batch_size,
            "source": source.origin,
            "emozoo_version": emozoo.__version__,
            "keras_version": keras.__version__,
            "tensorflow_version": tf.__version__,
        },
    }


def tflite_entries(metadata: dict) -> dict[str, bytes]:
    """The flatbuffer metadata entries carrying ``metadata`` (and the vocabulary)."""
    entries = {METADATA_ENTRY: json.dumps(metadata, indent=1).encode("utf-8")}
    text = _vocabulary_params(metadata["preprocessing"])
    if text:
        entries[VOCABULARY_ENTRY] = vocabulary_path(text["vocabulary"]).read_bytes()
    return entries


def write_saved_model_extras(directory: Path, metadata: dict) -> None:
    """Write ``assets.extra/emozoo_metadata.json`` (and the vocabulary) into a SavedModel."""
    extra = Path(directory) / EXTRA_ASSETS
    extra.mkdir(parents=True, exist_ok=True)
    (extra / f"{METADATA_ENTRY}.json").write_text(json.dumps(metadata, indent=1) + "\n")
    text = _vocabulary_params(metadata["preprocessing"])
    if text:
        (extra / text["vocabulary"]).write_bytes(vocabulary_path(text["vocabulary"]).read_bytes())


def _parse(raw: bytes, origin: str) -> dict:
    try:
        metadata = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{origin}: the emozoo metadata is not valid JSON ({error})") from None
    if not isinstance(metadata, dict) or metadata.get("schema") != "emozoo-export":
        raise ValueError(f"{origin}: the metadata is not an emozoo export description")
    return metadata


def read_metadata(path: str | Path) -> dict[str, Any]:
    """The metadata of an emozoo export: a ``.tflite`` file or a SavedModel folder.

    >>> read_metadata("exported/face_int8.tflite")["labels"][:3]  # doctest: +SKIP
    ['angry', 'disgust', 'fear']
    """
    path = Path(path).expanduser()
    if path.is_dir():
        if not (path / "saved_model.pb").is_file():
            raise ValueError(f"{path} is a folder but not a SavedModel (no saved_model.pb)")
        file = path / EXTRA_ASSETS / f"{METADATA_ENTRY}.json"
        if not file.is_file():
            raise ValueError(f"SavedModel {path} was not exported by emozoo (no {file.name})")
        return _parse(file.read_bytes(), str(file))
    if not path.exists():
        raise FileNotFoundError(f"Export {path} does not exist")
    from emozoo.export.flatbuffer import read_metadata as read_entries

    entries = read_entries(path)
    if METADATA_ENTRY not in entries:
        raise ValueError(
            f"{path} carries no {METADATA_ENTRY!r} metadata entry (not an emozoo export)"
        )
    return _parse(entries[METADATA_ENTRY], str(path))


def read_labels(path: str | Path) -> list[str]:
    """The label names of an emozoo export (``.tflite`` or SavedModel), in output order.

    >>> read_labels("exported/fusion_sm")  # doctest: +SKIP
    ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral']
    """
    return list(read_metadata(path)["labels"])


def read_vocabulary(path: str | Path) -> list[str] | None:
    """The WordPiece vocabulary carried by a text model's export (``None`` without text).

    >>> read_vocabulary("exported/fusion_sm")[:2]  # doctest: +SKIP
    ['[PAD]', '[CLS]']
    """
    path = Path(path).expanduser()
    text = _vocabulary_params(read_metadata(path)["preprocessing"])
    if not text:
        return None
    if path.is_dir():
        raw = (path / EXTRA_ASSETS / text["vocabulary"]).read_bytes()
    else:
        from emozoo.export.flatbuffer import read_metadata as read_entries

        raw = read_entries(path)[VOCABULARY_ENTRY]
    return [line for line in raw.decode("utf-8").splitlines() if line]


__all__ = [
    "EXTRA_ASSETS",
    "METADATA_ENTRY",
    "VOCABULARY_ENTRY",
    "build_metadata",
    "read_labels",
    "read_metadata",
    "read_vocabulary",
    "tflite_entries",
    "write_saved_model_extras",
]
