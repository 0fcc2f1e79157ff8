"""The fusion families: the Transformer fusion head, the fused models built on it and
the late / concatenation baselines. A fused family names its default encoder family per
modality once (its spec's ``encoders``); a card names its encoders' registered models
(``"encoders"``), whose config and preprocessing the registry gives it."""

import keras
import keras_hub

from emozoo.models.family import (
    ExportHints,
    FamilySpec,
    fused_family,
    register_family,
)
from emozoo.models.fusion.model import (
    AU_AUDIO_ENCODERS,
    AU_AUDIO_MODALITIES,
    DEFAULT_ENCODERS,
    MINILM_ENCODERS,
    build_concat_fusion,
    build_fusion_transformer,
    build_late_fusion,
    build_transformer_fusion,
    fused_modalities,
    modality_token_encoder,
    projection_layers,
)

#: Small instances for fast tests (with the default encoder families' own test configs).
_SMALL_HEAD = {"model_dim": 16, "num_layers": 1, "num_heads": 2, "intermediate_dim": 32}
_HEAD_HINTS = ExportHints(
    float_layers=(
        keras.layers.LayerNormalization,
        keras.layers.MultiHeadAttention,
        keras_hub.layers.TransformerEncoder,
    )
)


def _transformer_family(name: str, encoders: dict[str, str], alias_of: str = "") -> FamilySpec:
    return register_family(
        fused_family(
            name,
            build_transformer_fusion,
            encoders,
            export=_HEAD_HINTS,
            test_config={"fusion": _SMALL_HEAD},
            alias_of=alias_of,
        )
    )


FUSION_TRANSFORMER = register_family(
    FamilySpec(
        name="fusion_transformer",
        builder=build_fusion_transformer,
        modalities=(),
        export=_HEAD_HINTS,
        test_config={"embedding_dims": {"face": 6, "text": 5, "audio": 4}, **_SMALL_HEAD},
    )
)
#: Encoders under the Transformer fusion head: the cards name their encoders.
TRANSFORMER_FUSION = _transformer_family("transformer_fusion", DEFAULT_ENCODERS)
#: Older names of ``transformer_fusion``, kept so that saved configs load: the same
#: builder with their own default encoder families.
CNN_LSTM_FUSION = _transformer_family("cnn_lstm_fusion", DEFAULT_ENCODERS, "transformer_fusion")
MINILM_CNN_LSTM_FUSION = _transformer_family(
    "minilm_cnn_lstm_fusion", MINILM_ENCODERS, "transformer_fusion"
)
#: Facial action units and speech under the Transformer fusion head.
AU_AUDIO_FUSION = _transformer_family("au_audio_fusion", AU_AUDIO_ENCODERS)
CONCAT_FUSION = register_family(
    fused_family(
        "concat_fusion", build_concat_fusion, DEFAULT_ENCODERS, test_config={"hidden_units": (16,)}
    )
)
LATE_FUSION = register_family(fused_family("late_fusion", build_late_fusion, DEFAULT_ENCODERS))

# The builders under their family names (each with its family's default encoders).
build_cnn_lstm_fusion = CNN_LSTM_FUSION.builder
build_minilm_cnn_lstm_fusion = MINILM_CNN_LSTM_FUSION.builder
build_au_audio_fusion = AU_AUDIO_FUSION.builder

__all__ = [
    "AU_AUDIO_ENCODERS",
    "AU_AUDIO_FUSION",
    "AU_AUDIO_MODALITIES",
    "CNN_LSTM_FUSION",
    "CONCAT_FUSION",
    "DEFAULT_ENCODERS",
    "FUSION_TRANSFORMER",
    "LATE_FUSION",
    "MINILM_CNN_LSTM_FUSION",
    "MINILM_ENCODERS",
    "TRANSFORMER_FUSION",
    "build_au_audio_fusion",
    "build_cnn_lstm_fusion",
    "build_concat_fusion",
    "build_fusion_transformer",
    "build_late_fusion",
    "build_minilm_cnn_lstm_fusion",
    "build_transformer_fusion",
    "fused_modalities",
    "modality_token_encoder",
    "projection_layers",
]
