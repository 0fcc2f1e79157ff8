"""``text_minilm``: a pretrained MiniLM (BERT) encoder, mean pooling and a classifier.

The backbone has the shape of sentence-transformers' all-MiniLM-L6-v2 (6 layers,
hidden 384, 12 heads); ``tools/convert_minilm.py`` maps that checkpoint into it. The
model takes one int32 input, ``text``: WordPiece ids ``[CLS] ... [SEP]`` padded with
0 (``[PAD]``); the padding mask and the (all-zero) segment ids are derived inside
the model, so exports keep a single input.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import keras_hub

from emozoo.models.base import TEXT, finish_model
from emozoo.models.layers import MaskedMeanPooling, TokenPaddingMask

#: The all-MiniLM-L6-v2 shape (its ``config.json``).
MINILM_L6 = {
    "vocabulary_size": 30522,
    "num_layers": 6,
    "num_heads": 12,
    "hidden_dim": 384,
    "intermediate_dim": 1536,
    "max_sequence_length": 512,
    "num_segments": 2,
}
BACKBONE_LAYER = "backbone"


@keras.saving.register_keras_serializable(package="emozoo")
class ExactGeluBertBackbone(keras_hub.models.BertBackbone):
    """``keras_hub.models.BertBackbone`` with the exact (erf) GELU of Hugging Face BERT.

    keras-hub's BERT uses the tanh approximation of GELU (as the original TensorFlow
    BERT did); checkpoints trained with ``hidden_act: "gelu"`` (every Hugging Face BERT,
    MiniLM included) need the exact one: with the approximation all-MiniLM-L6-v2's
    sentence embeddings move by about 1e-3, with the exact one by under 1e-6.

    >>> backbone = ExactGeluBertBackbone(vocabulary_size=10, num_layers=1, num_heads=2,
    ...                                  hidden_dim=8, intermediate_dim=16)
    >>> backbone.count_params() > 0
    True
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        gelu = keras.activations.get("gelu")  # approximate=False
        for layer in self.transformer_layers:
            layer.activation = gelu
            layer._feedforward_intermediate_dense.activation = gelu


def build_text_minilm(
    labels: Sequence[str] | None = None,
    num_classes: int | None = None,
    include_top: bool = True,
    vocabulary_size: int = MINILM_L6["vocabulary_size"],
    sequence_length: int | None = 64,
    num_layers: int = MINILM_L6["num_layers"],
    num_heads: int = MINILM_L6["num_heads"],
    hidden_dim: int = MINILM_L6["hidden_dim"],
    intermediate_dim: int = MINILM_L6["intermediate_dim"],
    max_sequence_length: int = MINILM_L6["max_sequence_length"],
    num_segments: int = MINILM_L6["num_segments"],
    backbone_dropout: float = 0.1,
    dropout: float = 0.1,
    name: str = "text_minilm",
) -> keras.Model:
    """Build the MiniLM text encoder/classifier.

    Args:
        labels, num_classes, include_top: as for every emozoo builder.
        vocabulary_size, num_layers, num_heads, hidden_dim, intermediate_dim,
            max_sequence_length, num_segments: the BERT backbone's shape (defaults:
            all-MiniLM-L6-v2).
        sequence_length: fixed number of token ids per text, or ``None`` for any length
            (the weights do not depend on it; training uses ``None`` to skip padding).
        backbone_dropout: dropout inside the backbone (BERT's 0.1).
        dropout: dropout before the classifier.

    Input ``text``: int32 ids ``(batch, sequence_length)``, ``[CLS] ... [SEP]`` then 0s.
    The embedding is the mean of the backbone's token outputs over the real tokens
    (``hidden_dim`` wide), as in sentence-transformers (without its L2 normalisation).

    >>> build_text_minilm(num_classes=3, vocabulary_size=50, num_layers=1, num_heads=2,
    ...                   hidden_dim=8, intermediate_dim=16).output_shape
    (None, 3)
    """
    inputs = keras.Input((sequence_length,), dtype="int32", name=TEXT)
    padding_mask, segment_ids = TokenPaddingMask(name="padding_mask")(inputs)
    backbone = ExactGeluBertBackbone(
        vocabulary_size=vocabulary_size,
        num_layers=num_layers,
        num_heads=num_heads,
        hidden_dim=hidden_dim,
        intermediate_dim=intermediate_dim,
        dropout=backbone_dropout,
        max_sequence_length=max_sequence_length,
        num_segments=num_segments,
        name=BACKBONE_LAYER,
    )
    # The CLS pooler is not used (mean pooling is); frozen, it keeps its pretrained values.
    backbone.get_layer("pooled_dense").trainable = False
    outputs = backbone(
        {"token_ids": inputs, "segment_ids": segment_ids, "padding_mask": padding_mask}
    )
    x = MaskedMeanPooling(name="mean_pool")([outputs["sequence_output"], padding_mask])
    return finish_model(
        inputs,
        x,
        name=name,
        include_top=include_top,
        labels=labels,
        num_classes=num_classes,
        dropout=dropout,
    )
