"""``audio_whisper``: the pretrained Whisper-base encoder (frozen), layer statistics, MLP."""

import keras
import keras_hub

from emozoo.models.audio_whisper.model import (
    BACKBONE_LAYER,
    STATISTICS_LAYER,
    WHISPER_BASE,
    MaskedMeanStd,
    NonPaddingFrames,
    SoftmaxLayerMix,
    SpeechLevelNormalization,
    StackLayers,
    WhisperLogMel,
    build_audio_whisper,
    statistics_head,
    whisper_encoder_backbone,
    whisper_mel_filters,
)
from emozoo.models.family import ExportHints, FamilySpec, register_family

SPEC = register_family(
    FamilySpec(
        name="audio_whisper",
        builder=build_audio_whisper,
        modalities=("audio",),
        preprocessing={"audio": {"sample_rate": 16000, "duration_s": 4.0}},
        export=ExportHints(
            float_layers=(
                WhisperLogMel,
                keras.layers.LayerNormalization,
                keras_hub.layers.TransformerEncoder,
                MaskedMeanStd,
            )
        ),
        test_config={
            "duration_s": 0.5,
            "num_layers": 1,
            "num_heads": 2,
            "hidden_dim": 16,
            "intermediate_dim": 32,
            "num_mels": 16,
            "max_frames": 32,
            "embedding_dim": 8,
        },
    )
)

__all__ = [
    "BACKBONE_LAYER",
    "SPEC",
    "STATISTICS_LAYER",
    "WHISPER_BASE",
    "MaskedMeanStd",
    "NonPaddingFrames",
    "SoftmaxLayerMix",
    "SpeechLevelNormalization",
    "StackLayers",
    "WhisperLogMel",
    "build_audio_whisper",
    "statistics_head",
    "whisper_encoder_backbone",
    "whisper_mel_filters",
]
