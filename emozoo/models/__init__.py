"""Model families (Keras 3 Functional API): one folder each, registered by name.

Each ``emozoo/models/<family>/`` holds the family's builder, its cards (the zoo
configs of its registered models) and its :class:`~emozoo.models.family.FamilySpec`.
This layer knows nothing of the registry of named, pretrained models, of data,
training or export: it only builds networks and says what they are.
"""

# The families. Adding one is a new folder and a line here.
from emozoo.models import (  # noqa: F401  (importing a family registers it)
    audio_lstm,
    audio_whisper,
    face_au,
    face_cnn,
    face_vgg,
    fusion,
    text_bilstm,
    text_minilm,
    text_mpnet,
)
from emozoo.models.audio_lstm import build_audio_lstm
from emozoo.models.audio_whisper import (
    MaskedMeanStd,
    NonPaddingFrames,
    SoftmaxLayerMix,
    StackLayers,
    WhisperLogMel,
    build_audio_whisper,
    whisper_encoder_backbone,
)
from emozoo.models.base import (
    AUDIO,
    EMBEDDING_LAYER,
    FACE,
    FACE_AU,
    MODALITIES,
    PREDICTIONS_LAYER,
    TEXT,
    architecture,
    architecture_modalities,
    embedding_model,
    get_architecture,
    get_labels,
    input_specs,
    list_architectures,
    presence_input_name,
    transfer_weights,
)
from emozoo.models.face_au import AUStandardization, build_face_au, set_au_statistics
from emozoo.models.face_cnn import build_face_cnn
from emozoo.models.face_vgg import HorizontalFlip, build_face_vgg
from emozoo.models.family import (
    ExportHints,
    FamilySpec,
    get_family,
    int8_float_layer_kinds,
    list_families,
    register_family,
)
from emozoo.models.fusion import (
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
from emozoo.models.layers import (
    AttentionPooling,
    ClassifierHead,
    ClassToken,
    ClipLogMelSpectrogram,
    MaskedMeanPooling,
    MaskedModalityAverage,
    ModalityTokens,
    PresenceGate,
    SpecAugment,
    TokenPaddingMask,
)
from emozoo.models.text_bilstm import build_text_bilstm
from emozoo.models.text_minilm import ExactGeluBertBackbone, build_text_minilm
from emozoo.models.text_mpnet import (
    MPNetBackbone,
    MPNetBlock,
    MPNetPositionIds,
    RelativePositionBias,
    build_text_mpnet,
)

__all__ = [
    "AUStandardization",
    "FACE_AU",
    "build_au_audio_fusion",
    "build_face_au",
    "fused_modalities",
    "set_au_statistics",
    "ExportHints",
    "FamilySpec",
    "get_family",
    "int8_float_layer_kinds",
    "list_families",
    "register_family",
    "AUDIO",
    "EMBEDDING_LAYER",
    "FACE",
    "MODALITIES",
    "PREDICTIONS_LAYER",
    "TEXT",
    "AttentionPooling",
    "ClipLogMelSpectrogram",
    "MaskedMeanStd",
    "NonPaddingFrames",
    "SoftmaxLayerMix",
    "StackLayers",
    "WhisperLogMel",
    "build_audio_whisper",
    "whisper_encoder_backbone",
    "ClassToken",
    "ClassifierHead",
    "ExactGeluBertBackbone",
    "MaskedMeanPooling",
    "MaskedModalityAverage",
    "ModalityTokens",
    "PresenceGate",
    "SpecAugment",
    "TokenPaddingMask",
    "architecture",
    "architecture_modalities",
    "build_audio_lstm",
    "build_cnn_lstm_fusion",
    "build_concat_fusion",
    "build_face_cnn",
    "build_face_vgg",
    "HorizontalFlip",
    "build_fusion_transformer",
    "build_late_fusion",
    "build_minilm_cnn_lstm_fusion",
    "build_text_bilstm",
    "build_text_minilm",
    "build_text_mpnet",
    "MPNetBackbone",
    "MPNetBlock",
    "MPNetPositionIds",
    "RelativePositionBias",
    "embedding_model",
    "get_architecture",
    "get_labels",
    "input_specs",
    "list_architectures",
    "modality_token_encoder",
    "presence_input_name",
    "projection_layers",
    "transfer_weights",
]
