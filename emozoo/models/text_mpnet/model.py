"""``text_mpnet``: a pretrained MPNet encoder, mean pooling and a classifier.

MPNet (Song et al., 2020) is a BERT-shaped Transformer (post-layer-norm blocks, exact
GELU) with two differences that keras-hub's BERT cannot express: learned absolute
positions counted from 2 (Hugging Face's ``padding_idx + 1``) over the real tokens
only, and a T5-style relative position bias (32 buckets, one learned scalar per head)
added to every block's attention scores. :class:`MPNetBackbone` builds it from Keras
layers; ``emozoo.convert.mpnet`` maps sentence-transformers' all-mpnet-base-v2 into it.

The model takes one int32 input, ``text``: ids ``<s> ... </s>`` padded with 0. emozoo's
copy of the vocabulary swaps MPNet's first two entries so that ``<pad>`` is id 0, as
everywhere else in emozoo (the converter swaps the two embedding rows to match).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import keras
from keras import layers, ops

from emozoo.models.base import TEXT, finish_model
from emozoo.models.layers import MaskedMeanPooling, TokenPaddingMask

_PACKAGE = "emozoo"

#: The all-mpnet-base-v2 shape (its ``config.json``).
MPNET_BASE = {
    "vocabulary_size": 30527,
    "num_layers": 12,
    "num_heads": 12,
    "hidden_dim": 768,
    "intermediate_dim": 3072,
    "max_positions": 514,
    "relative_buckets": 32,
}
BACKBONE_LAYER = "backbone"
LAYER_NORM_EPSILON = 1e-5


def relative_position_buckets(
    query_length, key_length, num_buckets: int = 32, max_distance: int = 128
):
    """T5/MPNet bucket of every (query, key) offset: ``(query_length, key_length)`` int32.

    Half the buckets for keys before the query, half after; within each half, exact
    offsets below a quarter of the buckets, then logarithmic bins up to ``max_distance``.
    """
    context = ops.arange(query_length)[:, None]
    memory = ops.arange(key_length)[None, :]
    n = -(memory - context)
    half = num_buckets // 2
    bucket = ops.where(n < 0, half, 0)
    n = ops.abs(n)
    max_exact = half // 2
    safe = ops.cast(ops.maximum(n, 1), "float32")
    large = max_exact + ops.cast(
        ops.log(safe / max_exact) / math.log(max_distance / max_exact) * (half - max_exact),
        "int32",
    )
    large = ops.minimum(large, half - 1)
    return ops.cast(bucket + ops.where(n < max_exact, n, large), "int32")


@keras.saving.register_keras_serializable(package=_PACKAGE)
class MPNetPositionIds(layers.Layer):
    """Position ids from a padding mask: 2, 3, ... over real tokens, 1 on padding."""

    def call(self, padding_mask):
        mask = ops.cast(padding_mask, "int32")
        return ops.cumsum(mask, axis=1) * mask + 1

    def compute_output_shape(self, input_shape):
        return input_shape


@keras.saving.register_keras_serializable(package=_PACKAGE)
class RelativePositionBias(layers.Layer):
    """``token states (batch, length, hidden) -> bias (1, heads, length, length)``."""

    def __init__(self, num_heads: int, num_buckets: int = 32, max_distance: int = 128, **kwargs):
        super().__init__(**kwargs)
        self.num_heads = int(num_heads)
        self.num_buckets = int(num_buckets)
        self.max_distance = int(max_distance)
        self.bias = layers.Embedding(
            num_buckets, num_heads, name="embeddings", dtype=self.dtype_policy
        )

    def build(self, input_shape):
        self.bias.build((None, None))
        self.built = True

    def call(self, states):
        length = ops.shape(states)[1]
        buckets = relative_position_buckets(length, length, self.num_buckets, self.max_distance)
        values = self.bias(buckets)  # (length, length, heads)
        return ops.expand_dims(ops.transpose(values, (2, 0, 1)), 0)

    def compute_output_shape(self, input_shape):
        return (1, self.num_heads, input_shape[1], input_shape[1])

    def get_config(self):
        return {
            **super().get_config(),
            "num_heads": self.num_heads,
            "num_buckets": self.num_buckets,
            "max_distance": self.max_distance,
        }


@keras.saving.register_keras_serializable(package=_PACKAGE)
class MPNetBlock(layers.Layer):
    """One post-layer-norm Transformer block whose attention scores get an additive bias.

    ``call(states, position_bias, padding_mask)``: self-attention (query, key, value and
    output projections, scaled dot products + ``position_bias``, padding keys masked),
    dropout, residual, layer norm; then a GELU (exact) feed-forward, dropout, residual,
    layer norm.
    """

    def __init__(
        self,
        num_heads: int,
        hidden_dim: int,
        intermediate_dim: int,
        dropout: float = 0.1,
        layer_norm_epsilon: float = LAYER_NORM_EPSILON,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if hidden_dim % num_heads:
            raise ValueError(f"hidden_dim {hidden_dim} is not divisible by num_heads {num_heads}")
        self.num_heads = int(num_heads)
        self.hidden_dim = int(hidden_dim)
        self.intermediate_dim = int(intermediate_dim)
        self.dropout = float(dropout)
        self.layer_norm_epsilon = float(layer_norm_epsilon)
        head_dim = hidden_dim // num_heads
        policy = self.dtype_policy

        def projection(name):
            return layers.EinsumDense(
                "btd,dnh->btnh",
                (None, num_heads, head_dim),
                bias_axes="nh",
                name=name,
                dtype=policy,
            )

        self.query, self.key, self.value = (
            projection("query"),
            projection("key"),
            projection("value"),
        )
        self.attention_output = layers.EinsumDense(
            "btnh,nhd->btd",
            (None, hidden_dim),
            bias_axes="d",
            name="attention_output",
            dtype=policy,
        )
        self.attention_norm = layers.LayerNormalization(
            epsilon=layer_norm_epsilon, name="attention_norm", dtype=policy
        )
        self.intermediate = layers.Dense(
            intermediate_dim, activation="gelu", name="intermediate", dtype=policy
        )
        self.output_dense = layers.Dense(hidden_dim, name="output", dtype=policy)
        self.output_norm = layers.LayerNormalization(
            epsilon=layer_norm_epsilon, name="output_norm", dtype=policy
        )
        self.attention_dropout = layers.Dropout(dropout)
        self.hidden_dropout = layers.Dropout(dropout)

    def build(self, input_shape):
        hidden = (None, None, self.hidden_dim)
        heads = (None, None, self.num_heads, self.hidden_dim // self.num_heads)
        for layer in (self.query, self.key, self.value):
            layer.build(hidden)
        self.attention_output.build(heads)
        self.attention_norm.build(hidden)
        self.intermediate.build(hidden)
        self.output_dense.build((None, None, self.intermediate_dim))
        self.output_norm.build(hidden)
        self.built = True

    def call(self, states, position_bias, padding_mask, training=None):
        query = self.query(states) / math.sqrt(self.hidden_dim // self.num_heads)
        key, value = self.key(states), self.value(states)
        scores = ops.einsum("bqnh,bknh->bnqk", query, key) + ops.cast(position_bias, query.dtype)
        keep = ops.cast(padding_mask, "bool")[:, None, None, :]
        # A large negative score for padding keys, within float16's range where needed.
        low = -6e4 if keras.backend.standardize_dtype(scores.dtype) == "float16" else -1e9
        scores = ops.where(keep, scores, ops.cast(low, scores.dtype))
        weights = self.attention_dropout(ops.softmax(scores, axis=-1), training=training)
        context = ops.einsum("bnqk,bknh->bqnh", weights, value)
        attended = self.attention_output(context)
        states = self.attention_norm(states + self.hidden_dropout(attended, training=training))
        hidden = self.output_dense(self.intermediate(states))
        return self.output_norm(states + self.hidden_dropout(hidden, training=training))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "num_heads": self.num_heads,
            "hidden_dim": self.hidden_dim,
            "intermediate_dim": self.intermediate_dim,
            "dropout": self.dropout,
            "layer_norm_epsilon": self.layer_norm_epsilon,
        }


@keras.saving.register_keras_serializable(package=_PACKAGE)
class MPNetBackbone(keras.Model):
    """MPNet's encoder: ``{"token_ids", "padding_mask"} -> token states (batch, length, hidden)``.

    >>> backbone = MPNetBackbone(vocabulary_size=10, num_layers=1, num_heads=2,
    ...                          hidden_dim=8, intermediate_dim=16, max_positions=20)
    >>> backbone.count_params() > 0
    True
    """

    def __init__(
        self,
        vocabulary_size: int = MPNET_BASE["vocabulary_size"],
        num_layers: int = MPNET_BASE["num_layers"],
        num_heads: int = MPNET_BASE["num_heads"],
        hidden_dim: int = MPNET_BASE["hidden_dim"],
        intermediate_dim: int = MPNET_BASE["intermediate_dim"],
        max_positions: int = MPNET_BASE["max_positions"],
        relative_buckets: int = MPNET_BASE["relative_buckets"],
        dropout: float = 0.1,
        **kwargs,
    ):
        token_ids = keras.Input((None,), dtype="int32", name="token_ids")
        padding_mask = keras.Input((None,), dtype="int32", name="padding_mask")
        positions = MPNetPositionIds(name="position_ids")(padding_mask)
        x = layers.Embedding(vocabulary_size, hidden_dim, name="token_embedding")(token_ids)
        x = layers.Add(name="embeddings_add")(
            [x, layers.Embedding(max_positions, hidden_dim, name="position_embedding")(positions)]
        )
        x = layers.LayerNormalization(epsilon=LAYER_NORM_EPSILON, name="embeddings_norm")(x)
        x = layers.Dropout(dropout, name="embeddings_dropout")(x)
        bias = RelativePositionBias(num_heads, relative_buckets, name="relative_position_bias")(x)
        for i in range(num_layers):
            x = MPNetBlock(num_heads, hidden_dim, intermediate_dim, dropout, name=f"block_{i}")(
                x, bias, padding_mask
            )
        super().__init__(
            inputs={"token_ids": token_ids, "padding_mask": padding_mask}, outputs=x, **kwargs
        )
        self.vocabulary_size = int(vocabulary_size)
        self.num_layers = int(num_layers)
        self.num_heads = int(num_heads)
        self.hidden_dim = int(hidden_dim)
        self.intermediate_dim = int(intermediate_dim)
        self.max_positions = int(max_positions)
        self.relative_buckets = int(relative_buckets)
        self.dropout = float(dropout)

    def lower_blocks(self, count: int) -> keras.Model:
        """The backbone up to block ``count - 1``: ``{"token_ids", "padding_mask"} -> states``.

        Shares weights with the backbone; with :meth:`call_top_blocks` it splits the
        encoder so the lower blocks' states can be computed once and only the top trained.
        """
        if not 0 < count < self.num_layers:
            raise ValueError(f"count must be in 1..{self.num_layers - 1}, got {count}")
        return keras.Model(self.inputs, self.get_layer(f"block_{count - 1}").output)

    def call_top_blocks(self, states, padding_mask, first: int):
        """Blocks ``first`` to the last on ``states`` (block ``first - 1``'s output).

        Calls this backbone's own layers (shared weights). The relative position bias is
        recomputed from the states' length by the shared bias layer.
        """
        bias = self.get_layer("relative_position_bias")(states)
        for i in range(first, self.num_layers):
            states = self.get_layer(f"block_{i}")(states, bias, padding_mask)
        return states

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "vocabulary_size": self.vocabulary_size,
            "num_layers": self.num_layers,
            "num_heads": self.num_heads,
            "hidden_dim": self.hidden_dim,
            "intermediate_dim": self.intermediate_dim,
            "max_positions": self.max_positions,
            "relative_buckets": self.relative_buckets,
            "dropout": self.dropout,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def build_text_mpnet(
    labels: Sequence[str] | None = None,
    num_classes: int | None = None,
    include_top: bool = True,
    vocabulary_size: int = MPNET_BASE["vocabulary_size"],
    sequence_length: int | None = 64,
    num_layers: int = MPNET_BASE["num_layers"],
    num_heads: int = MPNET_BASE["num_heads"],
    hidden_dim: int = MPNET_BASE["hidden_dim"],
    intermediate_dim: int = MPNET_BASE["intermediate_dim"],
    max_positions: int = MPNET_BASE["max_positions"],
    relative_buckets: int = MPNET_BASE["relative_buckets"],
    backbone_dropout: float = 0.1,
    dropout: float = 0.1,
    name: str = "text_mpnet",
) -> keras.Model:
    """Build the MPNet text encoder/classifier.

    Args:
        labels, num_classes, include_top: as for every emozoo builder.
        vocabulary_size, num_layers, num_heads, hidden_dim, intermediate_dim,
            max_positions, relative_buckets: the backbone's shape (defaults:
            all-mpnet-base-v2).
        sequence_length: fixed number of token ids per text, or ``None`` for any length
            (the weights do not depend on it; training uses ``None`` to skip padding).
        backbone_dropout: dropout inside the backbone (MPNet's 0.1).
        dropout: dropout before the classifier.

    Input ``text``: int32 ids ``(batch, sequence_length)``, ``<s> ... </s>`` then 0s.
    The embedding is the mean of the backbone's token states over the real tokens
    (``hidden_dim`` wide), as sentence-transformers pools (without its L2 normalisation).

    >>> build_text_mpnet(num_classes=3, vocabulary_size=50, num_layers=1, num_heads=2,
    ...                  hidden_dim=8, intermediate_dim=16).output_shape
    (None, 3)
    """
    inputs = keras.Input((sequence_length,), dtype="int32", name=TEXT)
    padding_mask, _ = TokenPaddingMask(name="padding_mask")(inputs)
    backbone = MPNetBackbone(
        vocabulary_size=vocabulary_size,
        num_layers=num_layers,
        num_heads=num_heads,
        hidden_dim=hidden_dim,
        intermediate_dim=intermediate_dim,
        max_positions=max_positions,
        relative_buckets=relative_buckets,
        dropout=backbone_dropout,
        name=BACKBONE_LAYER,
    )
    states = backbone({"token_ids": inputs, "padding_mask": padding_mask})
    x = MaskedMeanPooling(name="mean_pool")([states, padding_mask])
    return finish_model(
        inputs,
        x,
        name=name,
        include_top=include_top,
        labels=labels,
        num_classes=num_classes,
        dropout=dropout,
    )
