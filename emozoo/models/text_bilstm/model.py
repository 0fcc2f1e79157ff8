"""``text_bilstm``: WordPiece token ids -> embedding -> BiLSTM -> attention pooling.

Tokenization happens outside the model (see ``emozoo.preprocessing.text``) so the
model itself is plain Keras and exports to TFLite; id 0 is padding and is masked.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
from keras import layers

from emozoo.models.base import TEXT, finish_model
from emozoo.models.layers import AttentionPooling


def build_text_bilstm(
    labels: Sequence[str] | None = None,
    num_classes: int | None = None,
    include_top: bool = True,
    vocabulary_size: int = 8000,
    sequence_length: int = 64,
    embedding_dim: int = 128,
    lstm_units: int = 128,
    attention_units: int = 64,
    dropout: float = 0.3,
    unroll: bool = False,
    name: str = "text_bilstm",
) -> keras.Model:
    """Build the BiLSTM text encoder/classifier.

    Args:
        labels, num_classes, include_top: as for every emozoo builder.
        vocabulary_size: size of the WordPiece vocabulary (ids ``0..size-1``, 0 = pad).
        sequence_length: fixed number of token ids per text.
        embedding_dim: token embedding width.
        lstm_units: units of each LSTM direction (the embedding is ``2 * lstm_units``).
        attention_units: hidden width of the attention pooling.
        dropout: dropout on token embeddings and before the classifier.
        unroll: unroll the LSTM (fixed length; what TFLite int8 export needs).

    Input ``text``: int32 token ids ``(batch, sequence_length)``.

    >>> build_text_bilstm(num_classes=6, vocabulary_size=100).output_shape
    (None, 6)
    """
    inputs = keras.Input((sequence_length,), dtype="int32", name=TEXT)
    x = layers.Embedding(vocabulary_size, embedding_dim, mask_zero=True, name="token_embedding")(
        inputs
    )
    x = layers.Dropout(dropout, name="embedding_dropout")(x)
    x = layers.Bidirectional(
        layers.LSTM(lstm_units, return_sequences=True, unroll=unroll, name="lstm"), name="bilstm"
    )(x)
    x = AttentionPooling(attention_units, name="attention_pool")(x)
    return finish_model(
        inputs,
        x,
        name=name,
        include_top=include_top,
        labels=labels,
        num_classes=num_classes,
        dropout=dropout,
    )
