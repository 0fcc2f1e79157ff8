"""``face_cnn``: a mini-Xception style CNN for 48x48 grayscale face crops.

Residual blocks of depthwise-separable convolutions (Arriaga et al., 2017), wider
than the original so that it has room to learn from FER2013. Input is raw pixel
intensity in [0, 255]; the model rescales it itself.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
from keras import layers

from emozoo.models.base import FACE, finish_model


def _conv_bn_relu(x, filters: int, name: str):
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def _residual_separable_block(x, filters: int, name: str):
    shortcut = layers.Conv2D(
        filters, 1, strides=2, padding="same", use_bias=False, name=f"{name}_shortcut"
    )(x)
    shortcut = layers.BatchNormalization(name=f"{name}_shortcut_bn")(shortcut)
    for i in (1, 2):
        x = layers.SeparableConv2D(
            filters, 3, padding="same", use_bias=False, name=f"{name}_sep{i}"
        )(x)
        x = layers.BatchNormalization(name=f"{name}_sep{i}_bn")(x)
        if i == 1:
            x = layers.ReLU(name=f"{name}_sep{i}_relu")(x)
    x = layers.MaxPooling2D(3, strides=2, padding="same", name=f"{name}_pool")(x)
    return layers.Add(name=f"{name}_add")([x, shortcut])


def build_face_cnn(
    labels: Sequence[str] | None = None,
    num_classes: int | None = None,
    include_top: bool = True,
    image_size: int = 48,
    stem_filters: int = 16,
    block_filters: Sequence[int] = (32, 64, 128, 256),
    dropout: float = 0.3,
    name: str = "face_cnn",
) -> keras.Model:
    """Build the face CNN.

    Args:
        labels: class names of the classifier (default: the canonical emotions).
        num_classes: number of classes when ``labels`` is not given.
        include_top: add the classifier; otherwise the model returns the embedding.
        image_size: side of the square grayscale input.
        stem_filters: width of the two plain convolutions at the stem.
        block_filters: width of each residual separable block (each halves the size).
        dropout: dropout before the classifier.

    Input ``face``: float32 ``(batch, image_size, image_size, 1)`` in [0, 255].
    Output: class probabilities ``(batch, classes)``, or the embedding
    ``(batch, block_filters[-1])`` without the top.

    >>> model = build_face_cnn(num_classes=3)
    >>> model.output_shape
    (None, 3)
    """
    inputs = keras.Input((image_size, image_size, 1), name=FACE)
    x = layers.Rescaling(1.0 / 255.0, name="rescale")(inputs)
    x = _conv_bn_relu(x, stem_filters, "stem1")
    x = _conv_bn_relu(x, stem_filters, "stem2")
    for i, filters in enumerate(block_filters):
        x = _residual_separable_block(x, filters, f"block{i + 1}")
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    return finish_model(
        inputs,
        x,
        name=name,
        include_top=include_top,
        labels=labels,
        num_classes=num_classes,
        dropout=dropout,
    )
