"""Waveforms -> the audio models' input: mono, 16 kHz, fixed length, float32."""

from __future__ import annotations

from collections.abc import Sequence
from math import gcd

import numpy as np
from scipy.signal import resample_poly

#: Clips shorter than this carry no usable prosody; they are an error.
MIN_DURATION_S = 0.1


def to_mono(waveform: np.ndarray) -> np.ndarray:
    """Average channels of a ``(samples,)`` or ``(samples, channels)`` waveform."""
    waveform = np.asarray(waveform, dtype=np.float32)
    if waveform.ndim == 2:
        # soundfile gives (samples, channels); a (channels, samples) array is transposed.
        if waveform.shape[0] < waveform.shape[1] and waveform.shape[0] <= 8:
            waveform = waveform.T
        waveform = waveform.mean(axis=1)
    if waveform.ndim != 1:
        raise ValueError(
            f"A waveform must be 1-D or (samples, channels); got shape {waveform.shape}"
        )
    return waveform


def resample(waveform: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """Polyphase resampling (``scipy.signal.resample_poly``, anti-aliased)."""
    if from_rate == to_rate:
        return waveform.astype(np.float32, copy=False)
    factor = gcd(int(from_rate), int(to_rate))
    return resample_poly(waveform, int(to_rate) // factor, int(from_rate) // factor).astype(
        np.float32
    )


def fit_length(waveform: np.ndarray, num_samples: int) -> np.ndarray:
    """Crop the end off, or zero-pad at the end, to exactly ``num_samples``."""
    if len(waveform) >= num_samples:
        return waveform[:num_samples]
    return np.pad(waveform, (0, num_samples - len(waveform)))


class AudioPreprocessor:
    """Turn float waveforms into a ``(batch, sample_rate * duration_s)`` float32 array.

    Each waveform is made mono, resampled to ``sample_rate`` and cropped or
    zero-padded to ``duration_s``. Integer PCM is scaled to [-1, 1].
    """

    def __init__(self, sample_rate: int = 16000, duration_s: float = 3.0, **_ignored):
        self.sample_rate = int(sample_rate)
        self.duration_s = float(duration_s)
        self.num_samples = int(round(self.sample_rate * self.duration_s))

    def _one(self, waveform, rate: int, index: int) -> np.ndarray:
        waveform = np.asarray(waveform)
        if np.issubdtype(waveform.dtype, np.integer):
            waveform = waveform.astype(np.float32) / float(np.iinfo(waveform.dtype).max)
        waveform = to_mono(waveform)
        if not np.all(np.isfinite(waveform)):
            raise ValueError(f"Audio {index} contains NaN or infinite samples")
        if len(waveform) < MIN_DURATION_S * rate:
            raise ValueError(
                f"Audio {index} lasts {len(waveform) / rate:.3f} s; at least {MIN_DURATION_S} s is needed"
            )
        return fit_length(resample(waveform, rate, self.sample_rate), self.num_samples)

    def __call__(self, waveforms, sample_rate: int | None = None) -> np.ndarray:
        rate = int(sample_rate or self.sample_rate)
        if rate <= 0:
            raise ValueError(f"sample_rate must be positive, got {sample_rate}")
        if isinstance(waveforms, np.ndarray) and waveforms.ndim == 1:
            waveforms = [waveforms]
        elif isinstance(waveforms, np.ndarray) and waveforms.ndim == 2 and waveforms.shape[1] > 8:
            waveforms = list(waveforms)  # a batch of mono clips
        elif isinstance(waveforms, np.ndarray):
            waveforms = [waveforms]
        if not isinstance(waveforms, Sequence) or len(waveforms) == 0:
            raise ValueError("No audio given")
        return np.stack([self._one(w, rate, i) for i, w in enumerate(waveforms)])
