"""Weights provenance (the model card) and integrity checks."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from emozoo.paths import WEIGHTS_DIR


class WeightsError(RuntimeError):
    """A registered weights file is missing, or is not the file that was registered."""


@dataclass(frozen=True)
class WeightsInfo:
    """What a registered weights file is and how it was obtained.

    ``file`` is relative to ``emozoo/weights/`` for shipped weights, or absolute for
    weights a user registered. ``metrics`` maps a dataset/split to measured figures
    (written by ``tools/evaluate.py``, never by hand). ``encoders`` (fused models) maps
    each modality to the registered model whose shipped weights its encoder takes: the
    file then holds the fusion head alone, so encoders are not shipped twice.
    """

    file: str
    sha256: str
    size_bytes: int | None = None
    training_data: str | None = None
    recipe: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    notes: str | None = None
    encoders: dict[str, str] = field(default_factory=dict)

    @property
    def path(self) -> Path:
        path = Path(self.file).expanduser()
        return path if path.is_absolute() else WEIGHTS_DIR / path

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WeightsInfo:
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"Unknown weights fields {sorted(unknown)}")
        if "file" not in data or "sha256" not in data:
            raise ValueError("A weights entry needs 'file' and 'sha256'")
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in (None, {})}


def sha256_file(path: str | Path, chunk_size: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def verify_weights(info: WeightsInfo) -> Path:
    """Return the weights path after checking it exists and has the registered sha256.

    Raises:
        WeightsError: naming the file and, on a mismatch, both hashes.
    """
    path = info.path
    if not path.is_file():
        raise WeightsError(
            f"Weights file {path} is missing (expected sha256 {info.sha256}). "
            "Reinstall emozoo, or pass weights=None for a randomly initialised model."
        )
    actual = sha256_file(path)
    if actual != info.sha256:
        raise WeightsError(
            f"Weights file {path} has sha256 {actual}, but the registry expects {info.sha256}. "
            "The file is corrupt or was replaced; refusing to load it."
        )
    return path


def cast_weights_file(
    path: str | Path, out: str | Path | None = None, dtype: str = "float16"
) -> Path:
    """Rewrite a ``.weights.h5`` file with every float32 array stored as ``dtype``.

    Halves the size of shipped weights. Keras casts on load (each variable keeps its own
    dtype), so the model built by :func:`emozoo.load` still has float32 variables, holding
    the float16-rounded values. Groups, attributes and non-float arrays are copied as
    they are. Writes ``out`` (default: replaces ``path``) and returns it.

    Raises:
        FileNotFoundError: no such file. ValueError: not an HDF5 weights file.
    """
    import os
    import tempfile

    import h5py
    import numpy as np

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Weights file {path} does not exist")
    if not h5py.is_hdf5(path):
        raise ValueError(f"{path} is not an HDF5 (.weights.h5) file")
    target = np.dtype(dtype)
    out = Path(out) if out is not None else path
    handle, tmp = tempfile.mkstemp(suffix=".weights.h5", dir=out.parent)
    os.close(handle)
    try:
        with h5py.File(path, "r") as source, h5py.File(tmp, "w") as copy:
            copy.attrs.update(dict(source.attrs))

            def visit(name: str, item: Any) -> None:
                if isinstance(item, h5py.Group):
                    group = copy.require_group(name)
                    group.attrs.update(dict(item.attrs))
                    return
                data = item[()]
                if isinstance(data, np.ndarray) and data.dtype == np.float32:
                    data = data.astype(target)
                dataset = copy.create_dataset(name, data=data, track_times=False)
                dataset.attrs.update(dict(item.attrs))

            source.visititems(visit)
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return out
