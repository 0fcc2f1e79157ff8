"""Length bucketing of text batches (``emozoo.data.pipeline``)."""

from __future__ import annotations

import numpy as np
import pytest

import emozoo
from emozoo.data import Records
from emozoo.data.pipeline import length_batches, make_dataset


def test_length_batches_sort_and_trim():
    import tensorflow as tf

    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 20, size=100)
    ids = np.zeros((100, 24), np.int32)
    for row, n in zip(ids, lengths, strict=True):
        row[:n] = rng.integers(1, 50, size=n)
    ds = tf.data.Dataset.from_tensor_slices((ids, np.arange(100)))
    seen = []
    for x, y in length_batches(ds, 8, shuffle=False, chunk_batches=4):
        x, y = x.numpy(), y.numpy()
        assert x.shape[1] == (x != 0).sum(axis=1).max()  # cut to the longest text
        np.testing.assert_array_equal(x, ids[y, : x.shape[1]])  # labels follow their texts
        seen.extend(y.tolist())
    assert sorted(seen) == list(range(100))
    with pytest.raises(ValueError):
        length_batches(ds, 0)


def test_bucketing_is_for_text_only():
    faces = Records(
        "toy", "train", "face", np.zeros((4, 48, 48), np.uint8), np.zeros(4), ("a", "b")
    )
    with pytest.raises(ValueError, match="text"):
        make_dataset(faces, emozoo.load_preprocessor("face_cnn"), bucket_by_length=True)
