"""The model family as the unit: one folder per family, and the spec it declares.

Each family lives in ``emozoo/models/<family>/``: its builder (``model.py``), its cards
(``<name>.json``: architecture, preprocessing, labels, weights, metrics) and a
:class:`FamilySpec`, registered when the folder is imported. The rest of the package
asks the spec what it needs to know (inputs, the preprocessing a new model of the family
starts from, how to export it) instead of switching on family or modality names; fused
families compose their encoders through the encoders' specs. What a family is, in words,
is its builder's docstring.

>>> from emozoo.models import get_family
>>> get_family("face_cnn").modalities
('face',)
"""

from __future__ import annotations

import functools
import importlib
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import keras

from emozoo.models.base import architecture


@dataclass(frozen=True)
class ExportHints:
    """How a family's layers go through an integer (int8) TFLite export.

    Recurrent layers are unrolled for an int8 export whatever the family (the exporter
    finds them in the model), so that needs no hint.

    Attributes:
        float_layers: layer classes kept in float32 (8 bits of them lose too much: power
            spectra, soft-max attention, layer norms).
    """

    float_layers: tuple[type, ...] = ()


@dataclass(frozen=True)
class FamilySpec:
    """What the rest of the package needs to know about one model family.

    Attributes:
        name: the architecture name (what a card's ``"architecture"`` names).
        builder: ``builder(labels=..., include_top=..., name=..., **config)``.
        modalities: the raw inputs its models take (empty for a head over embeddings).
        preprocessing: per-modality preprocessing a new model of the family starts from
            (face crop size and colour, audio sample rate and window, text vocabulary
            and format): what ``register_model(name, architecture=...)`` records. A card
            records the values its own weights were trained with, in full; a fused
            family's are its default encoder families' (see :func:`fused_family`).
        export: :class:`ExportHints`.
        encoders: for a fused family, the encoder family of each modality where a card
            or config names none (``config.encoders.<modality>.family``); the builder
            takes its defaults from here.
        alias_of: for an older name kept so that saved configs still load, the family
            it is built as (with its own default ``encoders``); empty otherwise.
        test_config: builder arguments of a small instance, for fast tests (the
            architecture tests build every family with it, on both backends).
    """

    name: str
    builder: Callable[..., keras.Model]
    modalities: tuple[str, ...]
    preprocessing: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    export: ExportHints = ExportHints()
    encoders: Mapping[str, str] = field(default_factory=dict)
    alias_of: str = ""
    test_config: Mapping[str, Any] = field(default_factory=dict)


_FAMILIES: dict[str, FamilySpec] = {}


def register_family(spec: FamilySpec) -> FamilySpec:
    """Register ``spec`` (and its builder as an architecture); returns it."""
    if spec.name in _FAMILIES and _FAMILIES[spec.name] is not spec:
        raise ValueError(f"Model family {spec.name!r} is already registered")
    if spec.alias_of and spec.alias_of not in _FAMILIES:
        raise ValueError(f"{spec.name!r} is an alias of {spec.alias_of!r}, not a known family")
    architecture(spec.name, spec.modalities)(spec.builder)
    _FAMILIES[spec.name] = spec
    return spec


def get_family(name: str) -> FamilySpec:
    """The spec of family (architecture) ``name``; ``KeyError`` listing the known ones.

    A family is its folder: one not registered yet is imported (``emozoo.models.<name>``),
    so a fused family names its encoder families without importing them first.
    """
    if name not in _FAMILIES and name.isidentifier():
        try:
            importlib.import_module(f"emozoo.models.{name}")
        except ModuleNotFoundError as error:
            if error.name != f"emozoo.models.{name}":
                raise
    try:
        return _FAMILIES[name]
    except KeyError:
        raise KeyError(
            f"Unknown model family {name!r}; known: {', '.join(sorted(_FAMILIES))}"
        ) from None


def list_families(include_aliases: bool = False) -> list[str]:
    """Names of the registered families; with ``include_aliases``, also the older names
    kept so that saved configs load (:attr:`FamilySpec.alias_of`)."""
    return sorted(n for n, s in _FAMILIES.items() if include_aliases or not s.alias_of)


def with_default_encoders(
    builder: Callable[..., keras.Model], name: str, encoders: Mapping[str, str]
) -> Callable[..., keras.Model]:
    """``builder`` (a fused builder, taking ``default_encoders``) whose default model name
    is ``name`` and whose default encoder families are ``encoders`` (``{modality:
    family}``; its keys are the modalities, in input order)."""
    defaults: dict[str, Any] = {"name": name, "default_encoders": dict(encoders)}
    if "modalities" in inspect.signature(builder).parameters:
        defaults["modalities"] = tuple(encoders)
    bound = functools.partial(builder, **defaults)
    bound.__name__ = f"build_{name}"  # type: ignore[attr-defined]
    bound.__doc__ = (
        f":func:`{builder.__module__}.{builder.__name__}` with the encoder families "
        + ", ".join(f"``{f}`` ({m})" for m, f in encoders.items())
        + " where a config names none."
    )
    return bound


def fused_family(
    name: str,
    builder: Callable[..., keras.Model],
    encoders: Mapping[str, str],
    *,
    export: ExportHints = ExportHints(),
    test_config: Mapping[str, Any] | None = None,
    alias_of: str = "",
) -> FamilySpec:
    """The spec of a fused family from its default ``encoders`` (``{modality: family}``,
    in input order): its modalities, its builder's defaults (:func:`with_default_encoders`),
    the preprocessing a new model starts from and the small test config's encoders all
    follow from them, so the encoder families are named once. ``test_config`` holds the
    rest of the small config (the fusion part)."""
    encoders = dict(encoders)
    specs = {m: get_family(family) for m, family in encoders.items()}
    return FamilySpec(
        name=name,
        builder=with_default_encoders(builder, name, encoders),
        modalities=tuple(encoders),
        preprocessing={m: dict(spec.preprocessing.get(m, {})) for m, spec in specs.items()},
        export=export,
        encoders=encoders,
        alias_of=alias_of,
        test_config={
            "encoders": {m: dict(spec.test_config) for m, spec in specs.items()},
            **(test_config or {}),
        },
    )


def int8_float_layer_kinds() -> tuple[type, ...]:
    """Every layer class some family keeps in float32 in int8 exports."""
    kinds: list[type] = []
    for spec in _FAMILIES.values():
        kinds += [k for k in spec.export.float_layers if k not in kinds]
    return tuple(kinds)


def build_encoder(
    modality: str, config: Mapping[str, Any], default_family: str | None, name: str
) -> keras.Model:
    """An embedding model (no top) of ``modality`` from ``config``'s ``"family"`` (else
    ``default_family``) with the rest of ``config`` as builder arguments."""
    config = dict(config)
    family = config.pop("family", default_family)
    if family is None:
        raise ValueError(f"No encoder family for {modality}: name one (its config's 'family')")
    spec = get_family(family)
    if spec.modalities != (modality,):
        raise ValueError(
            f"{spec.name} encodes {', '.join(spec.modalities) or 'embeddings'}, not {modality}"
        )
    return spec.builder(include_top=False, name=name, **config)
