"""Each face's emotion over a sliding window of stream time."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

EPSILON = 1e-6


@dataclass
class Estimate:
    """A window's estimate: the mean ``probabilities`` of its ``count`` entries, and the
    modalities any of them used (in order of first use)."""

    probabilities: np.ndarray
    count: int
    modalities: tuple[str, ...]


class SlidingWindow:
    """The mean of the probability vectors of the last ``seconds`` of stream time.

    :meth:`estimate` at time ``t`` averages the entries with ``t - seconds < time <= t``:
    only what was known at ``t``, even when later entries were added already (frames
    whose faces went through the network in the same batch). Queries come in time
    order; older entries are dropped as the window moves on.

    >>> window = SlidingWindow(1.0)
    >>> window.add(0.0, np.array([1.0, 0.0]), ("face",))
    >>> window.add(0.5, np.array([0.0, 1.0]), ("face", "audio"))
    >>> window.estimate(0.4).probabilities.tolist(), window.estimate(0.5).probabilities.tolist()
    ([1.0, 0.0], [0.5, 0.5])
    >>> window.estimate(1.2).count  # the entry at 0.0 has left the window
    1
    """

    def __init__(self, seconds: float):
        if not seconds > 0:
            raise ValueError(f"the window must be positive (seconds), got {seconds}")
        self.seconds = float(seconds)
        self._entries: deque[tuple[float, np.ndarray, tuple[str, ...]]] = deque()

    def __len__(self) -> int:
        return len(self._entries)

    def add(self, time: float, probabilities: np.ndarray, modalities: tuple[str, ...] = ()) -> None:
        """Add the probabilities estimated at ``time`` (not earlier than the last entry)."""
        if self._entries and time < self._entries[-1][0]:
            raise ValueError(f"entries come in time order: {time} after {self._entries[-1][0]}")
        self._entries.append((float(time), np.asarray(probabilities, np.float64), modalities))

    def estimate(self, at: float) -> Estimate | None:
        """The mean of the entries in ``(at - seconds, at]``, or ``None`` if there is none."""
        # A microsecond of slack: frame times (index / fps) are not exact in binary.
        while self._entries and self._entries[0][0] <= at - self.seconds + EPSILON:
            self._entries.popleft()
        inside = [entry for entry in self._entries if entry[0] <= at + EPSILON]
        if not inside:
            return None
        used: list[str] = []
        for _, _, modalities in inside:
            used += [m for m in modalities if m not in used]
        mean = np.mean([probabilities for _, probabilities, _ in inside], axis=0)
        return Estimate(mean, len(inside), tuple(used))
