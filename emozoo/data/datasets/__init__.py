"""Adapters for the shared emotion datasets; each returns :class:`~emozoo.data.Records`."""

from __future__ import annotations

from collections.abc import Callable

from emozoo.data.datasets.audio_sources import RAVDESS_ACTORS, load_ravdess, load_tess
from emozoo.data.datasets.common import DatasetNotFoundError
from emozoo.data.datasets.face_au_sources import load_ravdess_au_pairs, load_ravdess_face_au
from emozoo.data.datasets.fer2013 import load_fer2013
from emozoo.data.datasets.text_sources import load_carer, load_goemotions, load_meld
from emozoo.data.records import Records

#: source name (its folder in the data directory) -> adapter.
SOURCES: dict[str, Callable[..., Records]] = {
    "fer2013": load_fer2013,
    "goemotions": load_goemotions,
    "carer_emotion": load_carer,
    "meld_text": load_meld,
    "ravdess_speech": load_ravdess,
    "tess": load_tess,
    "ravdess_face_au": load_ravdess_face_au,
}


def load_source(name: str, split: str, **kwargs) -> Records:
    """Records of dataset ``name`` and ``split`` (its own split name or train/val/test)."""
    if name not in SOURCES:
        raise ValueError(f"Unknown dataset {name!r}; known: {', '.join(SOURCES)}")
    return SOURCES[name](split, **kwargs)


__all__ = [
    "RAVDESS_ACTORS",
    "SOURCES",
    "DatasetNotFoundError",
    "load_carer",
    "load_fer2013",
    "load_goemotions",
    "load_meld",
    "load_ravdess",
    "load_ravdess_au_pairs",
    "load_ravdess_face_au",
    "load_source",
    "load_tess",
]
