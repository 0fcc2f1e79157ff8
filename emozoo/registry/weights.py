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
    (written by ``tools/evaluate.py``, never by hand).
    """

    file: str
    sha256: str
    size_bytes: int | None = None
    training_data: str | None = None
    recipe: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    notes: str | None = None

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
