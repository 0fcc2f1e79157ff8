"""Multimodal models: the Transformer fusion head and the fused face+text+audio models.

All multimodal models take the three modality inputs plus one presence flag per
modality (``face_present``, ``text_present``, ``audio_present``; shape ``(batch, 1)``,
1.0 present, 0.0 missing). A missing modality is fed zeros and its flag is 0: the
Transformer masks its token out, the baselines zero its embedding or its logits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import keras
import keras_hub
from keras import layers

from emozoo.labels import resolve_labels
from emozoo.models.base import MODALITIES, finish_model, presence_input_name
from emozoo.models.family import build_encoder
from emozoo.models.layers import (
    ClassifierHead,
    ClassToken,
    MaskedModalityAverage,
    ModalityTokens,
    PresenceGate,
)

#: The default encoder families of the fused families (``{modality: family}``, in input
#: order: the keys are the modalities). ``cnn_lstm_fusion``'s are the defaults of every
#: face+text+audio builder here.
DEFAULT_ENCODERS = {"face": "face_cnn", "text": "text_bilstm", "audio": "audio_lstm"}
MINILM_ENCODERS = {**DEFAULT_ENCODERS, "text": "text_minilm"}
AU_AUDIO_ENCODERS = {"face_au": "face_au", "audio": "audio_whisper"}
AU_AUDIO_MODALITIES = tuple(AU_AUDIO_ENCODERS)


def _presence_inputs(modalities: Sequence[str]) -> dict[str, keras.KerasTensor]:
    return {m: keras.Input((1,), name=presence_input_name(m)) for m in modalities}


def _stack_presence(presence: Mapping[str, keras.KerasTensor]):
    # ``presence`` is ordered as the model's modalities.
    return layers.Concatenate(name="presence")(list(presence.values()))


def _head_inputs(embeddings: Mapping[str, keras.KerasTensor], presence: Mapping) -> dict:
    """The fusion head's inputs: ``<modality>_embedding`` and ``<modality>_present``."""
    return {
        **{f"{m}_embedding": embeddings[m] for m in presence},
        **{presence_input_name(m): presence[m] for m in presence},
    }


def _gated(embeddings: Mapping[str, keras.KerasTensor], presence: Mapping) -> list:
    """Each modality's embedding, zeroed where the modality is missing."""
    return [PresenceGate(name=f"{m}_gate")([embeddings[m], presence[m]]) for m in presence]


def fused_modalities(model: keras.Model) -> tuple[str, ...]:
    """The modalities of a fused model (or head), read off its presence-flag inputs."""
    suffix = presence_input_name("")
    return tuple(t.name[: -len(suffix)] for t in model.inputs if t.name.endswith(suffix))


def build_fusion_transformer(
    labels: Sequence[str] | None = None,
    num_classes: int | None = None,
    include_top: bool = True,
    embedding_dims: Mapping[str, int] | None = None,
    model_dim: int = 128,
    num_layers: int = 2,
    num_heads: int = 4,
    intermediate_dim: int = 256,
    dropout: float = 0.1,
    modalities: Sequence[str] = MODALITIES,
    name: str = "fusion_transformer",
) -> keras.Model:
    """Build the Transformer fusion head over per-modality embeddings.

    Each modality embedding is projected to a ``model_dim`` token; tokens get a learned
    modality-type embedding, a learned CLS token is prepended, and
    ``keras_hub.layers.TransformerEncoder`` blocks attend over the present modalities
    only (the presence flags form the padding mask). The CLS output is the embedding.

    Inputs: ``<modality>_embedding`` (float32, sizes from ``embedding_dims``) and a
    presence flag per modality; ``modalities`` defaults to face, text and audio (the
    order fixes the token order).

    >>> build_fusion_transformer(embedding_dims={"face": 8, "text": 8, "audio": 8}).output_shape
    (None, 7)
    """
    modalities = tuple(modalities)
    embedding_dims = dict(embedding_dims or {"face": 256, "text": 256, "audio": 128})
    missing = [m for m in modalities if m not in embedding_dims]
    if missing:
        raise ValueError(f"embedding_dims lacks {missing}; expected keys {list(modalities)}")
    embeddings = {m: keras.Input((embedding_dims[m],), name=f"{m}_embedding") for m in modalities}
    presence = _presence_inputs(modalities)
    tokens = [
        layers.Reshape((1, model_dim), name=f"{m}_token")(
            layers.Dense(model_dim, name=f"{m}_projection")(embeddings[m])
        )
        for m in modalities
    ]
    tokens = layers.Concatenate(axis=1, name="tokens")(tokens)
    sequence, padding_mask = ModalityTokens(name="modality_tokens")(
        [tokens, _stack_presence(presence)]
    )
    for i in range(num_layers):
        sequence = keras_hub.layers.TransformerEncoder(
            intermediate_dim=intermediate_dim,
            num_heads=num_heads,
            dropout=dropout,
            normalize_first=True,
            name=f"transformer_{i + 1}",
        )(sequence, padding_mask=padding_mask)
    x = ClassToken(name="cls")(sequence)
    x = layers.LayerNormalization(name="cls_norm")(x)
    return finish_model(
        _head_inputs(embeddings, presence),
        x,
        name=name,
        include_top=include_top,
        labels=labels,
        num_classes=num_classes,
        dropout=dropout,
    )


def _encode(
    encoder_configs: Mapping[str, Mapping] | None,
    encoder_models: Mapping[str, keras.Model] | None,
    default_encoders: Mapping[str, str],
    modalities: Sequence[str] | None = None,
):
    """Inputs and embeddings shared by all fused models: ``(inputs, embeddings, presence)``.

    Each modality's encoder (no top, named ``<modality>_encoder``) is built by the family
    its config names (``"family"``), else by ``default_encoders``' family for it.
    ``encoder_models`` (``{modality: keras.Model}``) plugs in ready encoders instead; each
    takes ``{modality: tensor}`` and returns an embedding. Identity encoders make a
    head-only model over precomputed embeddings. ``modalities`` (default: the keys of
    ``default_encoders``) are the model's inputs, in order.
    """
    modalities = tuple(modalities or default_encoders)
    encoder_configs = dict(encoder_configs or {})
    encoder_models = dict(encoder_models or {})
    unknown = (set(encoder_configs) | set(encoder_models)) - set(modalities)
    if unknown:
        raise ValueError(
            f"Unknown encoder modalities {sorted(unknown)}; expected {list(modalities)}"
        )
    encoders = {
        m: encoder_models[m]
        if m in encoder_models
        else build_encoder(m, encoder_configs.get(m, {}), default_encoders.get(m), f"{m}_encoder")
        for m in modalities
    }
    modality_inputs = {
        m: keras.Input(encoders[m].inputs[0].shape[1:], dtype=encoders[m].inputs[0].dtype, name=m)
        for m in modalities
    }
    presence = _presence_inputs(modalities)
    embeddings = {m: encoders[m]({m: modality_inputs[m]}) for m in modalities}
    inputs = {**modality_inputs, **{presence_input_name(m): presence[m] for m in modalities}}
    return inputs, embeddings, presence


def build_transformer_fusion(
    labels: Sequence[str] | None = None,
    num_classes: int | None = None,
    include_top: bool = True,
    encoders: Mapping[str, Mapping] | None = None,
    fusion: Mapping | None = None,
    encoder_models: Mapping[str, keras.Model] | None = None,
    name: str = "transformer_fusion",
    modalities: Sequence[str] | None = None,
    default_encoders: Mapping[str, str] = DEFAULT_ENCODERS,
) -> keras.Model:
    """One encoder per modality under the Transformer fusion head.

    Args:
        labels, num_classes, include_top: as for every emozoo builder.
        encoders: ``{"face": {...}, "text": {...}, "audio": {...}}``: each modality's
            encoder family (``"family"``, else ``default_encoders``') and its builder's
            keyword arguments. A card names its encoders' registered models and the
            registry fills these in from their cards.
        fusion: keyword arguments of :func:`build_fusion_transformer`.
        encoder_models: ready encoders to use instead of building them (any subset of
            modalities), for example identity models over precomputed embeddings.
        modalities: the fused modalities, in token order (default: the keys of
            ``default_encoders``: face, text, audio).
        default_encoders: encoder family of each modality where ``encoders`` names none
            (default :data:`DEFAULT_ENCODERS`: ``face_cnn``, ``text_bilstm``,
            ``audio_lstm``).

    Inputs: each modality (``face``, ``text``, ``audio`` by default) and its presence
    flag (``face_present``...). Any modality may be missing (zeros and flag 0).
    """
    inputs, embeddings, presence = _encode(encoders, encoder_models, default_encoders, modalities)
    fusion = dict(fusion or {})
    head = build_fusion_transformer(
        include_top=False,
        embedding_dims={m: embeddings[m].shape[-1] for m in presence},
        modalities=tuple(presence),
        name="fusion_head",
        **fusion,
    )
    return finish_model(
        inputs,
        head(_head_inputs(embeddings, presence)),
        name=name,
        include_top=include_top,
        labels=labels,
        num_classes=num_classes,
        dropout=fusion.get("dropout", 0.1),
    )


def build_concat_fusion(
    labels: Sequence[str] | None = None,
    num_classes: int | None = None,
    include_top: bool = True,
    encoders: Mapping[str, Mapping] | None = None,
    hidden_units: Sequence[int] = (256, 128),
    dropout: float = 0.3,
    encoder_models: Mapping[str, keras.Model] | None = None,
    name: str = "concat_fusion",
    default_encoders: Mapping[str, str] = DEFAULT_ENCODERS,
) -> keras.Model:
    """Feature-level baseline: presence-gated embeddings and flags, concatenated, then an MLP.

    ``encoders``, ``encoder_models`` and ``default_encoders`` as for
    :func:`build_transformer_fusion`.
    """
    inputs, embeddings, presence = _encode(encoders, encoder_models, default_encoders)
    x = layers.Concatenate(name="concat")(
        [*_gated(embeddings, presence), _stack_presence(presence)]
    )
    for i, units in enumerate(hidden_units):
        x = layers.Dense(units, activation="relu", name=f"mlp{i + 1}")(x)
        x = layers.Dropout(dropout, name=f"mlp{i + 1}_dropout")(x)
    return finish_model(
        inputs,
        x,
        name=name,
        include_top=include_top,
        labels=labels,
        num_classes=num_classes,
        dropout=dropout,
    )


def build_late_fusion(
    labels: Sequence[str] | None = None,
    num_classes: int | None = None,
    include_top: bool = True,
    encoders: Mapping[str, Mapping] | None = None,
    dropout: float = 0.3,
    encoder_models: Mapping[str, keras.Model] | None = None,
    name: str = "late_fusion",
    default_encoders: Mapping[str, str] = DEFAULT_ENCODERS,
) -> keras.Model:
    """Decision-level baseline: one classifier per modality, logits averaged with learned
    weights renormalised over the modalities present.

    Without the top the model returns the presence-gated embeddings, concatenated.
    ``encoders``, ``encoder_models`` and ``default_encoders`` as for
    :func:`build_transformer_fusion`.
    """
    inputs, embeddings, presence = _encode(encoders, encoder_models, default_encoders)
    if not include_top:
        embedding = layers.Concatenate(name="concat")(_gated(embeddings, presence))
        return finish_model(
            inputs,
            embedding,
            name=name,
            include_top=False,
            labels=None,
            num_classes=None,
            dropout=0.0,
        )
    labels = resolve_labels(labels, num_classes)
    logits = []
    for m in presence:
        x = layers.Dropout(dropout, name=f"{m}_head_dropout")(embeddings[m])
        x = ClassifierHead(labels, activation=None, name=f"{m}_logits")(x)
        logits.append(layers.Reshape((1, len(labels)), name=f"{m}_logits_token")(x))
    logits = layers.Concatenate(axis=1, name="modality_logits")(logits)
    fused = MaskedModalityAverage(name="weighted_average")([logits, _stack_presence(presence)])
    outputs = layers.Softmax(name="predictions")(fused)
    return keras.Model(inputs, outputs, name=name)


def projection_layers(fused: keras.Model) -> dict[str, keras.layers.Layer]:
    """The Transformer fusion head's token projections, ``{modality: Dense}``."""
    try:
        head = fused.get_layer("fusion_head")
    except ValueError:
        raise ValueError(
            f"{fused.name!r} has no Transformer fusion head ('fusion_head'): cross-modal "
            "alignment applies to cnn_lstm_fusion-style models"
        ) from None
    return {m: head.get_layer(f"{m}_projection") for m in fused_modalities(head)}


def modality_token_encoder(fused: keras.Model, modality: str) -> keras.Model:
    """Raw ``modality`` input -> its L2-normalised token in the shared space."""
    encoder = fused.get_layer(f"{modality}_encoder")
    inputs = keras.Input(encoder.inputs[0].shape[1:], dtype=encoder.inputs[0].dtype, name=modality)
    token = projection_layers(fused)[modality](encoder({modality: inputs}))
    return keras.Model(inputs, keras.layers.UnitNormalization()(token), name=f"{modality}_aligned")
