"""Tiny models and samples for fast export tests."""

from __future__ import annotations

import keras

from emozoo.models import build_cnn_lstm_fusion, build_face_cnn
from tests.models.helpers import SMALL_ENCODERS, SMALL_FACE, SMALL_FUSION


def decisive(model, scale: float = 30.0):
    """Scale the classifier so the untrained model has clear winners: top-1 agreement
    is meaningless between near-uniform probability vectors."""
    head = model.get_layer("predictions")
    kernel, *rest = head.get_weights()
    head.set_weights([kernel * scale, *rest])
    return model


def tiny_face():
    keras.utils.set_random_seed(0)  # same weights whatever ran before: parity is fixed
    return decisive(build_face_cnn(**SMALL_FACE, name="tiny_face"))


def tiny_fusion():
    keras.utils.set_random_seed(0)
    return decisive(
        build_cnn_lstm_fusion(encoders=SMALL_ENCODERS, fusion=SMALL_FUSION, name="tiny_fusion")
    )


def samples_for(model, n: int = 12, **kwargs):
    from emozoo.export import synthetic_samples

    return synthetic_samples(model, n, **kwargs)
