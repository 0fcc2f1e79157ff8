"""The facial action-unit classifier: standardised OpenFace AU means, a small MLP."""

from __future__ import annotations

from collections.abc import Sequence

import keras
from keras import layers, ops

from emozoo.models.base import FACE_AU, finish_model


@keras.saving.register_keras_serializable(package="emozoo")
class AUStandardization(layers.Layer):
    """``(x - mean) / std`` per AU, with a missing value (``NaN``) read as the mean (0).

    ``mean`` and ``std`` are stored as non-trainable weights (set from the training
    data), so raw OpenFace / py-feat values go into the model.
    """

    def __init__(self, num_units: int, **kwargs):
        super().__init__(**kwargs)
        self.num_units = int(num_units)

    def build(self, input_shape):
        self.mean = self.add_weight(
            shape=(self.num_units,), initializer="zeros", trainable=False, name="mean"
        )
        self.std = self.add_weight(
            shape=(self.num_units,), initializer="ones", trainable=False, name="std"
        )

    def call(self, x):
        x = ops.cast(x, "float32")
        z = (x - self.mean) / ops.maximum(self.std, 1e-6)
        return ops.where(ops.isnan(z), ops.zeros_like(z), z)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "num_units": self.num_units}


def build_face_au(
    labels: Sequence[str] | None = None,
    num_classes: int | None = None,
    include_top: bool = True,
    num_units: int = 35,
    hidden_units: Sequence[int] = (128,),
    embedding_dim: int = 64,
    input_noise: float = 0.1,
    dropout: float = 0.3,
    name: str = "face_au",
) -> keras.Model:
    """Build the action-unit emotion classifier.

    Args:
        labels, num_classes, include_top: as for every emozoo builder.
        num_units: AU values per sample (35: OpenFace 2's 17 intensities, 18 presences).
        hidden_units: widths of the hidden layers.
        embedding_dim: width of the embedding.
        input_noise: Gaussian noise on the standardised AUs while training.
        dropout: dropout after each hidden layer and before the classifier.

    Input ``face_au``: float32 ``(batch, num_units)``, raw AU means (``NaN`` = unknown);
    the :class:`AUStandardization` layer ``au_standardization`` holds the training
    mean and standard deviation (set them with ``set_au_statistics``).

    >>> build_face_au(num_classes=3).output_shape
    (None, 3)
    """
    inputs = keras.Input((num_units,), name=FACE_AU)
    x = AUStandardization(num_units, name="au_standardization")(inputs)
    if input_noise:
        x = layers.GaussianNoise(input_noise, name="au_noise")(x)
    for i, units in enumerate(hidden_units):
        x = layers.Dense(units, activation="gelu", name=f"hidden_{i + 1}")(x)
        x = layers.Dropout(dropout, name=f"hidden_{i + 1}_dropout")(x)
    x = layers.Dense(embedding_dim, activation="gelu", name="projection")(x)
    return finish_model(
        inputs,
        x,
        name=name,
        include_top=include_top,
        labels=labels,
        num_classes=num_classes,
        dropout=dropout,
    )


def set_au_statistics(model: keras.Model, mean, std) -> None:
    """Put the training AUs' ``mean`` and ``std`` into ``model``'s standardisation layer
    (in a fused model too: the ``face_au`` encoder's)."""
    for layer in _walk(model):
        if isinstance(layer, AUStandardization):
            layer.set_weights([ops.convert_to_numpy(mean), ops.convert_to_numpy(std)])
            return
    raise ValueError(f"{model.name} has no AUStandardization layer")


def _walk(model):
    for layer in model.layers:
        yield layer
        if isinstance(layer, keras.Model):
            yield from _walk(layer)
