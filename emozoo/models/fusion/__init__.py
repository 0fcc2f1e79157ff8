"""The fusion families: the Transformer fusion head, the fused models built on it and
the late / concatenation baselines. Fused families compose their encoders through the
encoders' family specs (``config.encoders.<modality>.family``)."""

import keras
import keras_hub

from emozoo.models import (  # noqa: F401  (encoders)
    audio_lstm,
    audio_whisper,
    face_au,
    face_cnn,
    text_bilstm,
    text_minilm,
)
from emozoo.models.family import ExportHints, FamilySpec, get_family, register_family
from emozoo.models.fusion.model import (
    AU_AUDIO_ENCODERS,
    AU_AUDIO_MODALITIES,
    DEFAULT_ENCODERS,
    build_au_audio_fusion,
    build_cnn_lstm_fusion,
    build_concat_fusion,
    build_fusion_transformer,
    build_late_fusion,
    build_minilm_cnn_lstm_fusion,
    fused_modalities,
    modality_token_encoder,
    projection_layers,
)

_MODALITIES = ("face", "text", "audio")
#: Small instances for fast tests: the default encoder families' own test configs.
_SMALL_ENCODERS = {m: dict(get_family(f).test_config) for m, f in DEFAULT_ENCODERS.items()}
_SMALL_HEAD = {"model_dim": 16, "num_layers": 1, "num_heads": 2, "intermediate_dim": 32}
_HEAD_HINTS = ExportHints(
    float_layers=(
        keras.layers.LayerNormalization,
        keras.layers.MultiHeadAttention,
        keras_hub.layers.TransformerEncoder,
    )
)

FUSION_TRANSFORMER = register_family(
    FamilySpec(
        name="fusion_transformer",
        builder=build_fusion_transformer,
        modalities=(),
        export=_HEAD_HINTS,
        description="Transformer fusion head over per-modality embeddings",
        test_config={"embedding_dims": {"face": 6, "text": 5, "audio": 4}, **_SMALL_HEAD},
    )
)
CNN_LSTM_FUSION = register_family(
    FamilySpec(
        name="cnn_lstm_fusion",
        builder=build_cnn_lstm_fusion,
        modalities=_MODALITIES,
        export=_HEAD_HINTS,
        encoders=DEFAULT_ENCODERS,
        description="three encoders under the Transformer fusion head",
        test_config={"encoders": _SMALL_ENCODERS, "fusion": _SMALL_HEAD},
    )
)
MINILM_CNN_LSTM_FUSION = register_family(
    FamilySpec(
        name="minilm_cnn_lstm_fusion",
        builder=build_minilm_cnn_lstm_fusion,
        modalities=_MODALITIES,
        export=_HEAD_HINTS,
        encoders={**DEFAULT_ENCODERS, "text": "text_minilm"},
        description="cnn_lstm_fusion with the MiniLM text encoder",
        test_config={
            "encoders": {**_SMALL_ENCODERS, "text": dict(get_family("text_minilm").test_config)},
            "fusion": _SMALL_HEAD,
        },
    )
)
CONCAT_FUSION = register_family(
    FamilySpec(
        name="concat_fusion",
        builder=build_concat_fusion,
        modalities=_MODALITIES,
        encoders=DEFAULT_ENCODERS,
        description="baseline: presence-gated embeddings concatenated, then an MLP",
        test_config={"encoders": _SMALL_ENCODERS, "hidden_units": (16,)},
    )
)
LATE_FUSION = register_family(
    FamilySpec(
        name="late_fusion",
        builder=build_late_fusion,
        modalities=_MODALITIES,
        encoders=DEFAULT_ENCODERS,
        description="baseline: per-modality classifiers, logits averaged over those present",
        test_config={"encoders": _SMALL_ENCODERS},
    )
)
AU_AUDIO_FUSION = register_family(
    FamilySpec(
        name="au_audio_fusion",
        builder=build_au_audio_fusion,
        modalities=AU_AUDIO_MODALITIES,
        export=_HEAD_HINTS,
        encoders=AU_AUDIO_ENCODERS,
        description="facial action units + speech under the Transformer fusion head",
        test_config={
            "encoders": {m: dict(get_family(f).test_config) for m, f in AU_AUDIO_ENCODERS.items()},
            "fusion": _SMALL_HEAD,
        },
    )
)

__all__ = [
    "AU_AUDIO_FUSION",
    "build_au_audio_fusion",
    "fused_modalities",
    "CNN_LSTM_FUSION",
    "CONCAT_FUSION",
    "DEFAULT_ENCODERS",
    "FUSION_TRANSFORMER",
    "LATE_FUSION",
    "MINILM_CNN_LSTM_FUSION",
    "build_cnn_lstm_fusion",
    "build_concat_fusion",
    "build_fusion_transformer",
    "build_late_fusion",
    "build_minilm_cnn_lstm_fusion",
    "modality_token_encoder",
    "projection_layers",
]
