"""Recording conditions a speech model is judged under: noise, phone-band audio, level.

An evaluation set may name one in its source kwargs, ``{"condition": "phone_band"}``;
each test clip then goes through it before the model hears it. Every condition is
deterministic (noise is seeded per clip), so a card's figure can be re-checked.

- ``noise_snr20`` / ``noise_snr10`` / ``noise_snr5``: white noise at that signal-to-noise
  ratio (dB) over the clip's speech (its non-zero samples).
- ``babble_snr10``: four other test clips mixed in at 10 dB (overlapping talkers).
- ``phone_band``: a telephone channel: 300-3400 Hz band-pass at 8 kHz sampling, 8-bit
  mu-law (G.711) companding, back to the model's rate.
- ``quiet``: 30 dB softer (a distant or badly set microphone).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.signal import butter, resample_poly, sosfilt

_SEED = 20261204


def _active(clip: np.ndarray) -> np.ndarray:
    """The samples of ``clip`` before its zero padding (all of it if none)."""
    nonzero = np.flatnonzero(clip)
    return clip[: nonzero[-1] + 1] if len(nonzero) else clip


def _at_snr(clip: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    speech = _active(clip)
    power = float(np.mean(speech.astype(np.float64) ** 2)) or 1e-10
    noise = noise[: len(speech)]
    scale = np.sqrt(
        power / (10 ** (snr_db / 10)) / (np.mean(noise.astype(np.float64) ** 2) + 1e-20)
    )
    out = clip.copy()
    out[: len(speech)] = speech + scale * noise
    return np.clip(out, -1.0, 1.0)


def white_noise(snr_db: float) -> Callable[[np.ndarray, int, int], np.ndarray]:
    def apply(clips: np.ndarray, sample_rate: int, seed: int = _SEED) -> np.ndarray:
        rng = np.random.default_rng(seed)
        return np.stack([_at_snr(c, rng.standard_normal(len(c)), snr_db) for c in clips])

    return apply


def babble(snr_db: float, talkers: int = 4):
    def apply(clips: np.ndarray, sample_rate: int, seed: int = _SEED) -> np.ndarray:
        rng = np.random.default_rng(seed)
        out = []
        for i, clip in enumerate(clips):
            others = rng.choice([j for j in range(len(clips)) if j != i], size=talkers)
            mixture = np.sum([np.roll(clips[j], rng.integers(len(clip))) for j in others], axis=0)
            out.append(_at_snr(clip, mixture, snr_db))
        return np.stack(out)

    return apply


def phone_band(clips: np.ndarray, sample_rate: int, seed: int = _SEED) -> np.ndarray:
    """300-3400 Hz at 8 kHz with 8-bit mu-law, returned at ``sample_rate``."""
    narrow = resample_poly(clips, 8000, sample_rate, axis=1)
    band = sosfilt(butter(4, [300, 3400], btype="bandpass", fs=8000, output="sos"), narrow, axis=1)
    mu = 255.0
    band = np.clip(band, -1.0, 1.0)
    companded = np.sign(band) * np.log1p(mu * np.abs(band)) / np.log1p(mu)
    quantized = np.round((companded + 1) / 2 * mu) / mu * 2 - 1
    expanded = np.sign(quantized) * ((1 + mu) ** np.abs(quantized) - 1) / mu
    wide = resample_poly(expanded, sample_rate, 8000, axis=1)[:, : clips.shape[1]]
    return np.clip(wide, -1.0, 1.0).astype(np.float32)


def quiet(clips: np.ndarray, sample_rate: int, seed: int = _SEED) -> np.ndarray:
    return (clips * 10 ** (-30 / 20)).astype(np.float32)


CONDITIONS: dict[str, Callable[..., np.ndarray]] = {
    "noise_snr20": white_noise(20),
    "noise_snr10": white_noise(10),
    "noise_snr5": white_noise(5),
    "babble_snr10": babble(10),
    "phone_band": phone_band,
    "quiet": quiet,
}


def apply_condition(name: str, clips: np.ndarray, sample_rate: int) -> np.ndarray:
    """``clips`` ``(n, samples)`` as heard under condition ``name``."""
    try:
        condition = CONDITIONS[name]
    except KeyError:
        raise ValueError(f"Unknown condition {name!r}; known: {', '.join(CONDITIONS)}") from None
    return condition(np.asarray(clips, np.float32), sample_rate).astype(np.float32)


__all__ = ["CONDITIONS", "apply_condition"]
