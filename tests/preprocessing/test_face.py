"""Face preprocessing: gray, colour, batches and lists of crops into model inputs."""

from __future__ import annotations

import numpy as np
import pytest

from emozoo.preprocessing import FacePreprocessor


def test_face_accepts_gray_color_batches_and_lists():
    pre = FacePreprocessor(48)
    rng = np.random.default_rng(0)
    gray = rng.integers(0, 256, (100, 80), dtype=np.uint8)
    assert pre(gray).shape == (1, 48, 48, 1)
    color = np.stack([gray] * 3, axis=-1)
    np.testing.assert_allclose(pre(color), pre(gray), atol=1.0)  # equal channels -> same gray
    assert pre(np.stack([color, color])).shape == (2, 48, 48, 1)
    assert pre(rng.integers(0, 256, (5, 48, 48), dtype=np.uint8)).shape == (5, 48, 48, 1)
    assert pre([gray, color[:60, :50]]).shape == (2, 48, 48, 1)
    same_size = rng.integers(0, 256, (48, 48), dtype=np.uint8)
    np.testing.assert_array_equal(pre(same_size)[0, :, :, 0], same_size.astype(np.float32))


def test_face_channel_order():
    red = np.zeros((48, 48, 3), np.uint8)
    red[..., 0] = 255
    rgb = FacePreprocessor(48, channel_order="rgb")(red).mean()
    bgr = FacePreprocessor(48, channel_order="bgr")(red).mean()
    assert rgb == pytest.approx(0.299 * 255, abs=1) and bgr == pytest.approx(0.114 * 255, abs=1)


@pytest.mark.parametrize(
    "bad, error",
    [
        (np.zeros((0, 0), np.uint8), ValueError),
        (np.zeros((4, 4, 4, 4, 4), np.uint8), ValueError),
        (np.zeros((2, 10, 10, 5), np.uint8), ValueError),
        (np.full((10, 10), 0.5, np.float32), ValueError),
        ("photo.jpg", TypeError),
        ([], ValueError),
    ],
)
def test_face_bad_input(bad, error):
    with pytest.raises(error):
        FacePreprocessor(48)(bad)
