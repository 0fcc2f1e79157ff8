"""Shared pieces of every emozoo architecture: the builder registry, the classifier
top, and helpers that read a built model (labels, embedding sub-model, input specs)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import keras

from emozoo.labels import resolve_labels
from emozoo.models.layers import ClassifierHead

#: Names of the model inputs, shared by models, preprocessors and data pipelines.
FACE, TEXT, AUDIO = "face", "text", "audio"
#: Facial action units (OpenFace 2 AU means over a clip or window), a measured modality.
FACE_AU = "face_au"
#: The modalities of the face+text+audio fused models (their default modality set).
MODALITIES: tuple[str, ...] = (FACE, TEXT, AUDIO)
EMBEDDING_LAYER = "embedding"
PREDICTIONS_LAYER = "predictions"


def presence_input_name(modality: str) -> str:
    """Name of the presence-flag input of ``modality`` (1.0 present, 0.0 missing)."""
    return f"{modality}_present"


ArchitectureBuilder = Callable[..., keras.Model]
_ARCHITECTURES: dict[str, ArchitectureBuilder] = {}
_ARCHITECTURE_MODALITIES: dict[str, tuple[str, ...]] = {}


def architecture(
    name: str, modalities: Sequence[str]
) -> Callable[[ArchitectureBuilder], ArchitectureBuilder]:
    """Decorator registering a model builder under an architecture name.

    ``modalities`` names the raw inputs the built model takes (empty for a head over
    embeddings).
    """

    def register(builder: ArchitectureBuilder) -> ArchitectureBuilder:
        if name in _ARCHITECTURES and _ARCHITECTURES[name] is not builder:
            raise ValueError(f"Architecture {name!r} is already registered")
        _ARCHITECTURES[name] = builder
        _ARCHITECTURE_MODALITIES[name] = tuple(modalities)
        return builder

    return register


def architecture_modalities(name: str) -> tuple[str, ...]:
    """Raw input modalities of architecture ``name``."""
    get_architecture(name)
    return _ARCHITECTURE_MODALITIES[name]


def list_architectures() -> list[str]:
    """Names of the registered architecture builders."""
    return sorted(_ARCHITECTURES)


def get_architecture(name: str) -> ArchitectureBuilder:
    """The builder registered as ``name``; ``KeyError`` listing the known ones otherwise."""
    try:
        return _ARCHITECTURES[name]
    except KeyError:
        raise KeyError(
            f"Unknown architecture {name!r}; known: {', '.join(list_architectures())}"
        ) from None


def finish_model(
    inputs,
    embedding,
    *,
    name: str,
    include_top: bool,
    labels: Sequence[str] | None,
    num_classes: int | None,
    dropout: float,
) -> keras.Model:
    """Close a builder's graph: mark the embedding, add the classifier if asked.

    Every architecture ends in a layer named ``embedding``; with ``include_top`` the
    classifier is ``Dropout`` then a :class:`ClassifierHead` named ``predictions``.
    """
    if not isinstance(inputs, dict):
        # Unimodal models take a dict too, so every model is fed the same way.
        inputs = {inputs.name: inputs}
    embedding = keras.layers.Identity(name=EMBEDDING_LAYER)(embedding)
    if not include_top:
        return keras.Model(inputs, embedding, name=name)
    outputs = classifier_top(embedding, labels=labels, num_classes=num_classes, dropout=dropout)
    return keras.Model(inputs, outputs, name=name)


def classifier_top(embedding, *, labels=None, num_classes=None, dropout: float = 0.0):
    """Dropout and a softmax :class:`ClassifierHead` over ``embedding``."""
    labels = resolve_labels(labels, num_classes)
    x = keras.layers.Dropout(dropout, name="head_dropout")(embedding) if dropout else embedding
    return ClassifierHead(labels, name=PREDICTIONS_LAYER)(x)


def get_labels(model: keras.Model) -> tuple[str, ...] | None:
    """Label names of ``model``'s classifier, or ``None`` for an embedding model."""
    found = None
    for layer in model.layers:
        if isinstance(layer, ClassifierHead):
            found = layer.labels
        elif isinstance(layer, keras.Model):
            found = get_labels(layer) or found
    return found


def embedding_model(model: keras.Model) -> keras.Model:
    """The sub-model from ``model``'s inputs to its ``embedding`` layer (shares weights)."""
    try:
        embedding = model.get_layer(EMBEDDING_LAYER).output
    except ValueError:
        raise ValueError(f"Model {model.name!r} has no {EMBEDDING_LAYER!r} layer") from None
    return keras.Model(model.inputs, embedding, name=f"{model.name}_embedding")


def input_specs(model: keras.Model) -> dict[str, tuple[tuple, str]]:
    """``{input name: (shape without batch, dtype)}`` of a built model."""
    return {t.name: (tuple(t.shape[1:]), str(t.dtype)) for t in model.inputs}


def transfer_weights(source: keras.Model, target: keras.Model) -> list[str]:
    """Copy weights layer by layer, matched by name and shape, from ``source`` to ``target``.

    Used to put pretrained weights into a model built with another label set or
    without its top. Returns the names of ``target``'s layers with weights that got
    none (for example a new classifier), so callers can say what is freshly initialised.
    """
    source_layers = {layer.name: layer for layer in source.layers}
    untouched = []
    for layer in target.layers:
        if not layer.weights:
            continue
        donor = source_layers.get(layer.name)
        if donor is None or [w.shape for w in donor.weights] != [w.shape for w in layer.weights]:
            untouched.append(layer.name)
            continue
        layer.set_weights(donor.get_weights())
    return untouched
