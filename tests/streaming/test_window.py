"""The sliding window of estimates, and the live audio buffer and its windows."""

from __future__ import annotations

import numpy as np
import pytest

from emozoo.streaming.audio import RingBuffer, trailing_window
from emozoo.streaming.window import SlidingWindow

A, B, C = np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0]), np.array([0.0, 0.0, 1.0])


def test_the_window_averages_the_last_seconds():
    window = SlidingWindow(1.0)
    assert window.estimate(0.0) is None
    window.add(0.0, A, ("face",))
    window.add(0.5, B, ("face", "audio"))
    window.add(1.2, C, ("face",))
    # Only what was known at each time: the entry at 1.2 is not in the estimate at 0.6.
    assert window.estimate(0.6).probabilities.tolist() == [0.5, 0.5, 0.0]
    assert window.estimate(0.6).modalities == ("face", "audio")
    assert window.estimate(0.9).count == 2
    # At 1.0 the entry at 0.0 is exactly a window old: it has left.
    later = window.estimate(1.0)
    assert later.count == 1 and later.probabilities.tolist() == [0.0, 1.0, 0.0]
    assert window.estimate(1.3).probabilities.tolist() == [0.0, 0.5, 0.5]
    assert window.estimate(3.0) is None and len(window) == 0


def test_a_face_estimated_every_third_frame_has_an_estimate_in_every_frame():
    window, fps = SlidingWindow(1.0), 30
    counts = []
    for frame in range(90):
        if frame % 3 == 0:
            window.add(frame / fps, A if frame < 45 else B)
        counts.append(window.estimate(frame / fps).count)
    assert min(counts) >= 1 and max(counts) == 10
    # The estimate follows the change within a window's length.
    assert window.estimate(89 / fps).probabilities.tolist() == B.tolist()


def test_the_window_checks_its_arguments():
    with pytest.raises(ValueError, match="positive"):
        SlidingWindow(0)
    window = SlidingWindow(1.0)
    window.add(1.0, A)
    with pytest.raises(ValueError, match="time order"):
        window.add(0.5, B)


def test_the_ring_buffer_keeps_the_last_samples():
    buffer = RingBuffer(10)
    buffer.extend(np.arange(7))
    assert buffer.last(3).tolist() == [4, 5, 6] and buffer.last(3, end=5).tolist() == [2, 3, 4]
    buffer.extend(np.arange(7, 15))  # wraps around; samples 0-4 have left
    assert buffer.total == 15 and buffer.last(20).tolist() == list(range(5, 15))
    assert buffer.last(4, end=8).tolist() == [5, 6, 7]
    buffer.extend(np.arange(100, 125))  # more than the buffer holds at once
    assert buffer.last(10).tolist() == list(range(115, 125))


def test_trailing_windows_are_the_sound_before_a_time():
    rate, window = 100, 300
    tone = 0.3 * np.sin(np.arange(1000) / 3).astype(np.float32)
    last = trailing_window(tone[:500], rate, window)
    assert last.shape == (300,) and np.allclose(last, tone[200:500])
    short = trailing_window(tone[:120], rate, window)  # the start: zero-padded
    assert np.allclose(short[:120], tone[:120]) and not short[120:].any()
    assert trailing_window(np.zeros(500, np.float32), rate, window) is None  # silence
    assert trailing_window(tone[:90], rate, window) is None  # under a third of a window
