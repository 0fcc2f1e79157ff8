"""The model family as the unit: one folder per family, and the spec it declares.

Each family lives in ``emozoo/models/<family>/``: its builder (``model.py``), its cards
(``<name>.json``: architecture, preprocessing, labels, weights, metrics, recipe) and a
:class:`FamilySpec`, registered when the folder is imported. The rest of the package
asks the spec what it needs to know (inputs and their preprocessing defaults, how to
export it) instead of switching on family or modality names; fused families compose
their encoders through the encoders' specs.

>>> from emozoo.models import get_family
>>> get_family("face_cnn").modalities
('face',)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import keras

from emozoo.models.base import architecture


@dataclass(frozen=True)
class ExportHints:
    """How a family's layers go through an integer (int8) TFLite export.

    Attributes:
        float_layers: layer classes kept in float32 (8 bits of them lose too much: power
            spectra, soft-max attention, layer norms).
        unroll: recurrent layers are unrolled (TFLite's int8 kernels take no while loop).
    """

    float_layers: tuple[type, ...] = ()
    unroll: bool = False


@dataclass(frozen=True)
class FamilySpec:
    """What the rest of the package needs to know about one model family.

    Attributes:
        name: the architecture name (what a card's ``"architecture"`` names).
        builder: ``builder(labels=..., include_top=..., name=..., **config)``.
        modalities: the raw inputs its models take (empty for a head over embeddings).
        preprocessing: per-modality preprocessing defaults of the family (face crop
            size and colour, audio sample rate and window, text vocabulary and format);
            a card may override any of them.
        export: :class:`ExportHints`.
        encoders: for a fused family, the default encoder family of each modality;
            a card's ``config.encoders.<modality>.family`` may name another.
        description: one line for tables.
        test_config: builder arguments of a small instance, for fast tests (the
            architecture tests build every family with it, on both backends).
    """

    name: str
    builder: Callable[..., keras.Model]
    modalities: tuple[str, ...]
    preprocessing: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    export: ExportHints = ExportHints()
    encoders: Mapping[str, str] = field(default_factory=dict)
    description: str = ""
    test_config: Mapping[str, Any] = field(default_factory=dict)

    @property
    def fused(self) -> bool:
        return bool(self.encoders)


_FAMILIES: dict[str, FamilySpec] = {}


def register_family(spec: FamilySpec) -> FamilySpec:
    """Register ``spec`` (and its builder as an architecture); returns it."""
    if spec.name in _FAMILIES and _FAMILIES[spec.name] is not spec:
        raise ValueError(f"Model family {spec.name!r} is already registered")
    architecture(spec.name, spec.modalities)(spec.builder)
    _FAMILIES[spec.name] = spec
    return spec


def get_family(name: str) -> FamilySpec:
    """The spec of family (architecture) ``name``; ``KeyError`` listing the known ones."""
    try:
        return _FAMILIES[name]
    except KeyError:
        raise KeyError(
            f"Unknown model family {name!r}; known: {', '.join(sorted(_FAMILIES))}"
        ) from None


def list_families() -> list[str]:
    """Names of the registered families."""
    return sorted(_FAMILIES)


def int8_float_layer_kinds() -> tuple[type, ...]:
    """Every layer class some family keeps in float32 in int8 exports."""
    kinds: list[type] = []
    for spec in _FAMILIES.values():
        kinds += [k for k in spec.export.float_layers if k not in kinds]
    return tuple(kinds)


def build_encoder(modality: str, config: Mapping[str, Any], default_family: str, name: str):
    """An embedding model (no top) of ``modality`` from ``config``'s ``"family"`` (else
    ``default_family``) with the rest of ``config`` as builder arguments."""
    config = dict(config)
    spec = get_family(config.pop("family", default_family))
    if spec.modalities != (modality,):
        raise ValueError(
            f"{spec.name} encodes {', '.join(spec.modalities) or 'embeddings'}, not {modality}"
        )
    return spec.builder(include_top=False, name=name, **config)
