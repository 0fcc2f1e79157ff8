"""``face_vgg``: a VGG-style CNN for 48x48 grayscale face crops, flip-averaged.

Four stages of 3x3 convolution + batch norm + ReLU, each closed by 2x2 max pooling,
then global average pooling (a plain VGG recipe that GPU.md measured at 68.8-71.6% on
FER2013 PrivateTest at 7.8M parameters). The trunk is one nested model, so test-time
horizontal-flip averaging is part of the graph: the embedding is the mean of the trunk's
features of the crop and of its mirror image, and every export keeps it. Training
builds it with ``flip_average=False`` (the flip is an augmentation there); the weights
are the same either way.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
from keras import layers, ops

from emozoo.models.base import FACE, finish_model

TRUNK_LAYER = "trunk"


@keras.saving.register_keras_serializable(package="emozoo")
class HorizontalFlip(layers.Layer):
    """Mirror images ``(batch, height, width, channels)`` left to right, always."""

    def call(self, images):
        return ops.flip(images, axis=2)

    def compute_output_shape(self, input_shape):
        return input_shape


@keras.saving.register_keras_serializable(package="emozoo")
class Translate(layers.Layer):
    """Shift images ``(batch, height, width, channels)`` by ``(dx, dy)`` pixels, the
    uncovered border filled by mirroring (as the face crops' own surroundings would)."""

    def __init__(self, dx: int = 0, dy: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.dx, self.dy = int(dx), int(dy)

    def call(self, images):
        pad = max(abs(self.dx), abs(self.dy))
        if not pad:
            return images
        padded = ops.pad(images, [(0, 0), (pad, pad), (pad, pad), (0, 0)], mode="symmetric")
        height, width = images.shape[1], images.shape[2]
        top, left = pad - self.dy, pad - self.dx
        return padded[:, top : top + height, left : left + width, :]

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "dx": self.dx, "dy": self.dy}


def face_vgg_trunk(
    image_size: int = 48,
    widths: Sequence[int] = (48, 96, 192, 384),
    convs_per_stage: int = 2,
    name: str = TRUNK_LAYER,
) -> keras.Model:
    """Pixels in [0, 255] ``(batch, size, size, 1)`` -> pooled features ``(batch, widths[-1])``."""
    inputs = keras.Input((image_size, image_size, 1), name=FACE)
    x = layers.Rescaling(1.0 / 127.5, offset=-1.0, name="rescale")(inputs)
    for stage, width in enumerate(widths, start=1):
        for conv in range(1, convs_per_stage + 1):
            prefix = f"stage{stage}_conv{conv}"
            x = layers.Conv2D(width, 3, padding="same", use_bias=False, name=prefix)(x)
            x = layers.BatchNormalization(name=f"{prefix}_bn")(x)
            x = layers.ReLU(name=f"{prefix}_relu")(x)
        x = layers.MaxPooling2D(2, name=f"stage{stage}_pool")(x)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    return keras.Model(inputs, x, name=name)


def build_face_vgg(
    labels: Sequence[str] | None = None,
    num_classes: int | None = None,
    include_top: bool = True,
    image_size: int = 48,
    widths: Sequence[int] = (48, 96, 192, 384),
    convs_per_stage: int = 2,
    dropout: float = 0.4,
    flip_average: bool = True,
    shift_views: int = 0,
    name: str = "face_vgg",
) -> keras.Model:
    """Build the VGG-style face CNN.

    Args:
        labels: class names of the classifier (default: the canonical emotions).
        num_classes: number of classes when ``labels`` is not given.
        include_top: add the classifier; otherwise the model returns the embedding.
        image_size: side of the square grayscale input.
        widths: channels of each stage (each stage halves the spatial size).
        convs_per_stage: 3x3 convolutions per stage.
        dropout: dropout before the classifier.
        flip_average: average the trunk's features of the crop and of its mirror image.
        shift_views: with a positive value ``s``, also average the views shifted by ``s``
            pixels left, right, up and down (with their mirrors: 10 views in all).

    Input ``face``: float32 ``(batch, image_size, image_size, 1)`` in [0, 255].
    Output: class probabilities ``(batch, classes)``, or the embedding
    ``(batch, widths[-1])`` without the top.

    >>> build_face_vgg(num_classes=3, widths=(8, 16)).output_shape
    (None, 3)
    """
    if image_size % 2 ** len(widths):
        raise ValueError(
            f"image_size {image_size} must be divisible by 2**{len(widths)} (one pooling per stage)"
        )
    inputs = keras.Input((image_size, image_size, 1), name=FACE)
    trunk = face_vgg_trunk(image_size, widths, convs_per_stage)
    views = [inputs]
    if shift_views:
        s = int(shift_views)
        for i, (dx, dy) in enumerate(((s, 0), (-s, 0), (0, s), (0, -s))):
            views.append(Translate(dx, dy, name=f"shift_{i}")(inputs))
    if flip_average:
        views += [
            HorizontalFlip(name="mirror" if i == 0 else f"mirror_{i}")(v)
            for i, v in enumerate(views)
        ]
    features = [trunk(v) for v in views]
    if len(features) > 1:
        # Test-time averaging inside the graph: every export keeps it.
        features = layers.Average(name="flip_average" if len(features) == 2 else "view_average")(
            features
        )
    else:
        features = features[0]
    return finish_model(
        inputs,
        features,
        name=name,
        include_top=include_top,
        labels=labels,
        num_classes=num_classes,
        dropout=dropout,
    )
