"""A registered model: the in-memory form of one card (``emozoo/models/<family>/<name>.json``)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from emozoo.labels import EMOTIONS
from emozoo.registry.weights import WeightsInfo

if TYPE_CHECKING:
    from emozoo.preprocessing.speakers import SpeakerNormalisation

#: The media modalities the export and pseudo-pair code handle (face crops, text, speech).
MODALITY_NAMES = ("face", "text", "audio")


def known_modalities() -> tuple[str, ...]:
    """Every modality a card may name: those with a registered preprocessor."""
    from emozoo.preprocessing import MODALITY_PREPROCESSORS

    return tuple(MODALITY_PREPROCESSORS)


def inherit_encoders(data: dict[str, Any], encoder: Callable[[str], ModelEntry]) -> dict[str, Any]:
    """A fused card's data with its encoders' config and preprocessing filled in.

    A fused card names the registered model of each of its encoders (``"encoders":
    {"face": "face_vgg", ...}``); ``encoder(name)`` returns that model's entry. Each
    encoder's builder arguments become ``config.encoders.<modality>`` (its architecture
    as ``"family"``) and its preprocessing the card's, so neither is copied into the
    fused card: what the card states itself for a modality (a value its weights need
    that differs) is kept over the encoder's. Returns a new dict; ``data`` is unchanged.
    """
    names = data.get("encoders") or {}
    if not names:
        return data
    data = copy.deepcopy(data)
    modalities = tuple(data.get("modalities", ()))
    config = data.get("config", {})
    configs = config.pop("encoders", {})
    preprocessing = data.setdefault("preprocessing", {})
    for modality, name in names.items():
        if modality not in modalities:
            raise ValueError(f"encoder {name!r} is named for {modality}, not one of {modalities}")
        entry = encoder(name)
        if entry.modalities != (modality,):
            raise ValueError(
                f"encoder {name!r} takes {', '.join(entry.modalities) or 'embeddings'}, "
                f"not {modality} alone"
            )
        configs[modality] = {
            "family": entry.architecture,
            **copy.deepcopy(entry.config),
            **configs.get(modality, {}),
        }
        preprocessing[modality] = {
            **copy.deepcopy(entry.preprocessing[modality]),
            **preprocessing.get(modality, {}),
        }
    # The encoders first, in input order, as a card that copied them had them.
    ordered = {m: configs[m] for m in modalities if m in configs}
    data["config"] = {"encoders": {**ordered, **configs}, **config}
    return data


@dataclass
class ModelEntry:
    """Everything the registry knows about one named model.

    Attributes:
        name: registered name, what ``emozoo.load`` takes.
        architecture: builder name in ``emozoo.models`` (``face_cnn``, ``cnn_lstm_fusion``...).
        modalities: raw inputs the model consumes, subset of face/text/audio. Empty for
            a head over embeddings (``fusion_transformer``).
        description: one line for tables.
        labels: class names the weights predict, in output order.
        config: keyword arguments of the architecture builder (shape arguments come
            from ``preprocessing``, the single place where input sizes are set).
        preprocessing: per-modality preprocessing parameters: those the weights were
            trained with, in full (a model registered by architecture starts from its
            family's, ``FamilySpec.preprocessing``).
        encoders: for a fused model, the registered model of each encoder
            (``{modality: name}``): the card states neither their config nor their
            preprocessing, the registry fills both in from those models' cards
            (:func:`inherit_encoders`). Empty for other models.
        weights: provenance and hash of pretrained weights, or ``None``.
        recipe: how ``tools/pretrain.py`` trains and evaluates it (data, epochs, optimiser).
        lite: the LiteRT build of the shipped weights that inference runs without
            TensorFlow (``file``, ``sha256``, ``size_bytes``, ``quantize``, ``parity``),
            written by ``tools/build_lite.py``; empty if there is none.
        headline: the figure the model is chosen for and its peer on the same test
            (``set``, ``metric``, ``peer``, ``peer_value``, ``peer_source``): the README's
            one-line-per-model table (``tools/evaluate.py pretrained --summary``).
        speaker_normalisation: what the weights expect standardised per speaker
            (:class:`~emozoo.preprocessing.speakers.SpeakerNormalisation`), or ``None``:
            such a model is given a speaker id per item.
        version: the name of this version of the weights (``"v2"``) where the model
            keeps earlier ones loadable as ``name@v1`` (the card's ``versions``), else
            ``""``.
    """

    name: str
    architecture: str
    modalities: tuple[str, ...]
    description: str = ""
    labels: tuple[str, ...] = EMOTIONS
    config: dict[str, Any] = field(default_factory=dict)
    preprocessing: dict[str, dict[str, Any]] = field(default_factory=dict)
    encoders: dict[str, str] = field(default_factory=dict)
    weights: WeightsInfo | None = None
    recipe: dict[str, Any] = field(default_factory=dict)
    lite: dict[str, Any] = field(default_factory=dict)
    headline: dict[str, Any] = field(default_factory=dict)
    speaker_normalisation: SpeakerNormalisation | None = None
    version: str = ""
    source: str = "user"

    def __post_init__(self) -> None:
        self.modalities = tuple(self.modalities)
        self.labels = tuple(self.labels)
        known = known_modalities()
        unknown = [m for m in self.modalities if m not in known]
        if unknown:
            raise ValueError(f"{self.name}: unknown modalities {unknown}; expected some of {known}")
        unknown = [m for m in self.preprocessing if m not in known]
        if unknown:
            raise ValueError(f"{self.name}: preprocessing for unknown modalities {unknown}")
        # A modality's parameters the card leaves out take its preprocessor's defaults.
        self.preprocessing = {m: dict(self.preprocessing.get(m, {})) for m in self.modalities}
        self.encoders = dict(self.encoders)
        unknown = [m for m in self.encoders if m not in self.modalities]
        if unknown:
            raise ValueError(f"{self.name}: encoders for modalities it does not take {unknown}")
        if isinstance(self.speaker_normalisation, dict):
            from emozoo.preprocessing.speakers import SpeakerNormalisation

            self.speaker_normalisation = SpeakerNormalisation.from_dict(self.speaker_normalisation)
        if self.speaker_normalisation is not None:
            unknown = [m for m in self.speaker_normalisation.modalities if m not in self.modalities]
            if unknown:
                raise ValueError(
                    f"{self.name}: speaker_normalisation of modalities it does not take {unknown}"
                )
        composed = self.weights.encoders if self.weights is not None else {}
        if self.encoders and any(self.encoders.get(m) != n for m, n in composed.items()):
            raise ValueError(
                f"{self.name}: its weights take their encoders from {composed}, but the card "
                f"names the encoders {self.encoders}"
            )

    @property
    def pretrained(self) -> bool:
        return self.weights is not None

    @property
    def lite_parts(self) -> dict[str, dict[str, Any]]:
        """``{modality: encoder file record}`` of the card's LiteRT parts build; empty
        for a whole-file build or none."""
        return self.lite.get("parts") or {}

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "user") -> ModelEntry:
        data = copy.deepcopy(data)
        known = set(cls.__dataclass_fields__) - {"source"}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"Unknown zoo config fields {sorted(unknown)}; known: {sorted(known)}")
        for required in ("name", "architecture", "modalities"):
            if required not in data:
                raise ValueError(f"A zoo config needs {required!r}")
        weights = data.pop("weights", None)
        return cls(
            **data, weights=WeightsInfo.from_dict(weights) if weights else None, source=source
        )

    def to_dict(self) -> dict[str, Any]:
        data = {
            "name": self.name,
            "architecture": self.architecture,
            "modalities": list(self.modalities),
            "description": self.description,
            "labels": list(self.labels),
            "config": copy.deepcopy(self.config),
            "preprocessing": copy.deepcopy(self.preprocessing),
        }
        if self.encoders:
            data["encoders"] = dict(self.encoders)
        if self.recipe:
            data["recipe"] = copy.deepcopy(self.recipe)
        if self.weights is not None:
            data["weights"] = self.weights.to_dict()
        if self.lite:
            data["lite"] = copy.deepcopy(self.lite)
        if self.headline:
            data["headline"] = copy.deepcopy(self.headline)
        if self.speaker_normalisation is not None:
            data["speaker_normalisation"] = self.speaker_normalisation.to_dict()
        if self.version:
            data["version"] = self.version
        return data
