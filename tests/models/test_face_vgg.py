"""``face_vgg``'s own property: horizontal-flip averaging is part of the graph.

Runs on the TensorFlow backend and, in CI, again with ``KERAS_BACKEND=jax``.
"""

from __future__ import annotations

import keras
import numpy as np

from emozoo.models import build_face_vgg, get_family

SMALL = dict(get_family("face_vgg").test_config)


def test_predictions_ignore_a_horizontal_flip():
    model = build_face_vgg(**SMALL)
    faces = np.random.default_rng(0).uniform(0, 255, (3, 32, 32, 1)).astype("float32")
    np.testing.assert_allclose(
        model.predict({"face": faces}, verbose=0),
        model.predict({"face": faces[:, :, ::-1]}, verbose=0),
        atol=1e-5,
    )


def test_training_twin_shares_the_weights():
    """The twin trained without flip averaging holds the same weights, in the same order."""
    plain = build_face_vgg(**SMALL, flip_average=False)
    averaged = build_face_vgg(**SMALL)
    assert [w.shape for w in plain.weights] == [w.shape for w in averaged.weights]
    averaged.set_weights(plain.get_weights())
    faces = np.random.default_rng(1).uniform(0, 255, (2, 32, 32, 1)).astype("float32")
    mirrored = faces[:, :, ::-1]
    trunk = averaged.get_layer("trunk")
    expected = (np.asarray(trunk(faces)) + np.asarray(trunk(mirrored))) / 2
    embedding = averaged.get_layer("embedding").output
    features = keras.Model(averaged.inputs, embedding)
    np.testing.assert_allclose(features.predict({"face": faces}, verbose=0), expected, atol=1e-5)


def test_shifted_views_share_the_weights_and_stay_flip_invariant():
    from emozoo.models.face_vgg import Translate

    x = np.arange(36, dtype="float32").reshape(1, 6, 6, 1)
    shifted = np.asarray(Translate(2, -1)(x))[0, ..., 0]
    np.testing.assert_array_equal(shifted[1:5, 2:], x[0, 2:6, :4, 0])  # content moved
    plain = build_face_vgg(**SMALL)
    views = build_face_vgg(**SMALL, shift_views=2)
    views.set_weights(plain.get_weights())
    faces = np.random.default_rng(3).uniform(0, 255, (2, 32, 32, 1)).astype("float32")
    np.testing.assert_allclose(
        views.predict({"face": faces}, verbose=0),
        views.predict({"face": faces[:, :, ::-1]}, verbose=0),
        atol=1e-5,
    )
