"""``text_minilm``: all-MiniLM-L6-v2 (BERT, 6 layers) fine-tuned, mean pooling."""

import keras
import keras_hub

from emozoo.models.family import ExportHints, FamilySpec, register_family
from emozoo.models.text_minilm.model import (
    BACKBONE_LAYER,
    MINILM_L6,
    ExactGeluBertBackbone,
    build_text_minilm,
)

SPEC = register_family(
    FamilySpec(
        name="text_minilm",
        builder=build_text_minilm,
        modalities=("text",),
        preprocessing={
            "text": {
                "vocabulary": "minilm_vocab.txt",
                "sequence_length": 64,
                "lowercase": True,
                "strip_accents": True,
                "start_token": "[CLS]",
                "end_token": "[SEP]",
                "truncation_side": "left",
            }
        },
        export=ExportHints(
            float_layers=(
                keras.layers.LayerNormalization,
                keras.layers.MultiHeadAttention,
                keras_hub.layers.TransformerEncoder,
            )
        ),
        test_config={
            "vocabulary_size": 50,
            "sequence_length": 12,
            "num_layers": 1,
            "num_heads": 2,
            "hidden_dim": 8,
            "intermediate_dim": 16,
            "max_sequence_length": 16,
        },
    )
)

__all__ = ["BACKBONE_LAYER", "MINILM_L6", "SPEC", "ExactGeluBertBackbone", "build_text_minilm"]
