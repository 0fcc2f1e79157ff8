"""A fused model as encoders plus a head over their embeddings, and back.

Training and evaluation run the three encoders once per item and the fusion head over
their embeddings (the same architecture built over identity encoders); shipped weights
may hold the head alone, the encoders coming from their own registered models. These
helpers build the head and put a full model together, by layer name.
"""

from __future__ import annotations

import keras

from emozoo.models.base import get_architecture, transfer_weights
from emozoo.models.fusion.model import fused_modalities


def identity_encoders(dims: dict[str, int]) -> dict[str, keras.Model]:
    """Encoders that pass precomputed embeddings through: ``{modality: Model}``, one per
    key of ``dims`` (the fused model's modalities, in order)."""
    encoders = {}
    for modality in dims:
        inputs = keras.Input((dims[modality],), name=modality)
        outputs = keras.layers.Identity(name="embedding")(inputs)
        encoders[modality] = keras.Model({modality: inputs}, outputs, name=f"{modality}_encoder")
    return encoders


def build_head(
    architecture: str, builder_kwargs: dict, dims: dict[str, int], labels
) -> keras.Model:
    """The fused ``architecture`` over identity encoders (trainable part only)."""
    return get_architecture(architecture)(
        labels=list(labels), encoder_models=identity_encoders(dims), **builder_kwargs
    )


def assemble(full: keras.Model, head: keras.Model, encoders: dict[str, keras.Model]) -> keras.Model:
    """Copy the trained head and the pretrained encoders into ``full`` (in place)."""
    untouched = transfer_weights(head, full)
    expected = {f"{m}_encoder" for m in fused_modalities(full)}
    if set(untouched) != expected:
        raise ValueError(f"Head weights did not fit the full model: untouched {untouched}")
    for modality, encoder in encoders.items():
        missing = transfer_weights(encoder, full.get_layer(f"{modality}_encoder"))
        if missing:
            raise ValueError(f"{modality} encoder weights did not fit: {missing}")
    return full


def split_fused(model: keras.Model, architecture: str, builder_kwargs: dict, labels):
    """``(encoders, head)`` of a fused model (``<modality>_encoder`` sub-models and the
    rest of the network over identity encoders, sharing no variables with ``model`` but
    holding the same values); ``None`` for a model without those encoders."""
    try:
        encoders = {m: model.get_layer(f"{m}_encoder") for m in fused_modalities(model)}
    except ValueError:
        return None
    dims = {m: int(e.output.shape[-1]) for m, e in encoders.items()}
    kwargs = {k: v for k, v in builder_kwargs.items() if k not in ("encoders", "labels", "name")}
    head = build_head(architecture, kwargs, dims, labels)
    untouched = transfer_weights(model, head)
    if set(untouched) - {f"{m}_encoder" for m in encoders}:
        raise ValueError(f"head layers without weights: {untouched}")
    return encoders, head
