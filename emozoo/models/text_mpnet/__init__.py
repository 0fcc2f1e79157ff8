"""``text_mpnet``: all-mpnet-base-v2 (MPNet, 12 layers) fine-tuned, mean pooling."""

import keras

from emozoo.models.family import ExportHints, FamilySpec, register_family
from emozoo.models.text_mpnet.model import (
    BACKBONE_LAYER,
    MPNET_BASE,
    MPNetBackbone,
    MPNetBlock,
    MPNetPositionIds,
    RelativePositionBias,
    build_text_mpnet,
    relative_position_buckets,
)

SPEC = register_family(
    FamilySpec(
        name="text_mpnet",
        builder=build_text_mpnet,
        modalities=("text",),
        preprocessing={
            "text": {
                "vocabulary": "mpnet_vocab.txt",
                "sequence_length": 64,
                "lowercase": True,
                "strip_accents": True,
                "start_token": "<s>",
                "end_token": "</s>",
                "padding_token": "<pad>",
                "truncation_side": "right",
            }
        },
        export=ExportHints(float_layers=(keras.layers.LayerNormalization, MPNetBlock)),
        test_config={
            "vocabulary_size": 50,
            "sequence_length": 12,
            "num_layers": 2,
            "num_heads": 2,
            "hidden_dim": 8,
            "intermediate_dim": 16,
            "max_positions": 16,
        },
    )
)

__all__ = [
    "BACKBONE_LAYER",
    "MPNET_BASE",
    "SPEC",
    "MPNetBackbone",
    "MPNetBlock",
    "MPNetPositionIds",
    "RelativePositionBias",
    "build_text_mpnet",
    "relative_position_buckets",
]
