"""A registered model: the in-memory form of one card (``emozoo/models/<family>/<name>.json``)."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from emozoo.labels import EMOTIONS
from emozoo.registry.weights import WeightsInfo

#: The media modalities the export and pseudo-pair code handle (face crops, text, speech).
MODALITY_NAMES = ("face", "text", "audio")


def known_modalities() -> tuple[str, ...]:
    """Every modality a card may name: those with a registered preprocessor."""
    from emozoo.preprocessing import MODALITY_PREPROCESSORS

    return tuple(MODALITY_PREPROCESSORS)


#: Preprocessing defaults; a zoo config overrides any of them per modality.
DEFAULT_PREPROCESSING: dict[str, dict[str, Any]] = {
    "face": {"image_size": 48, "color": "grayscale", "pixel_range": [0, 255]},
    "text": {
        "vocabulary": "wordpiece_vocab.txt",
        "sequence_length": 64,
        "lowercase": True,
        "strip_accents": True,
    },
    "audio": {"sample_rate": 16000, "duration_s": 3.0},
}


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
        preprocessing: per-modality preprocessing parameters.
        weights: provenance and hash of pretrained weights, or ``None``.
        recipe: how ``tools/pretrain.py`` trains and evaluates it (data, epochs, optimiser).
        lite: the LiteRT build of the shipped weights that inference runs without
            TensorFlow (``file``, ``sha256``, ``size_bytes``, ``quantize``, ``parity``),
            written by ``tools/build_lite.py``; empty if there is none.
        headline: the figure the model is chosen for and its peer on the same test
            (``set``, ``metric``, ``peer``, ``peer_value``, ``peer_source``): the README's
            one-line-per-model table (``tools/evaluate.py pretrained --summary``).
    """

    name: str
    architecture: str
    modalities: tuple[str, ...]
    description: str = ""
    labels: tuple[str, ...] = EMOTIONS
    config: dict[str, Any] = field(default_factory=dict)
    preprocessing: dict[str, dict[str, Any]] = field(default_factory=dict)
    weights: WeightsInfo | None = None
    recipe: dict[str, Any] = field(default_factory=dict)
    lite: dict[str, Any] = field(default_factory=dict)
    headline: dict[str, Any] = field(default_factory=dict)
    source: str = "user"

    def __post_init__(self):
        self.modalities = tuple(self.modalities)
        self.labels = tuple(self.labels)
        known = known_modalities()
        unknown = [m for m in self.modalities if m not in known]
        if unknown:
            raise ValueError(f"{self.name}: unknown modalities {unknown}; expected some of {known}")
        unknown = [m for m in self.preprocessing if m not in known]
        if unknown:
            raise ValueError(f"{self.name}: preprocessing for unknown modalities {unknown}")
        merged = {}
        for modality in self.modalities:
            merged[modality] = {
                **DEFAULT_PREPROCESSING.get(modality, {}),
                **self.preprocessing.get(modality, {}),
            }
        self.preprocessing = merged

    @property
    def pretrained(self) -> bool:
        return self.weights is not None

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
        if self.recipe:
            data["recipe"] = copy.deepcopy(self.recipe)
        if self.weights is not None:
            data["weights"] = self.weights.to_dict()
        if self.lite:
            data["lite"] = copy.deepcopy(self.lite)
        if self.headline:
            data["headline"] = copy.deepcopy(self.headline)
        return data
