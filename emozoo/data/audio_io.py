"""Reading audio files: any sample rate and channel count -> mono float32 at a target rate."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from emozoo.preprocessing.audio import MIN_DURATION_S, fit_length, resample, to_mono


class AudioReadError(ValueError):
    """An audio file is missing, unreadable, corrupt or too short; the message names it."""


def read_audio(path: str | Path) -> tuple[np.ndarray, int]:
    """``(mono float32 waveform, sample rate)`` of a WAV, FLAC or OGG file (libsndfile)."""
    path = Path(path)
    if not path.is_file():
        raise AudioReadError(f"Audio file {path} does not exist")
    try:
        waveform, rate = sf.read(str(path), dtype="float32", always_2d=False)
    except (sf.LibsndfileError, RuntimeError, TypeError) as error:
        raise AudioReadError(f"Audio file {path} could not be decoded: {error}") from None
    if waveform.size == 0:
        raise AudioReadError(f"Audio file {path} holds no samples")
    return to_mono(waveform), int(rate)


def load_clip(path: str | Path, sample_rate: int, num_samples: int) -> np.ndarray:
    """Read ``path``, resample to ``sample_rate`` and crop/pad to ``num_samples``."""
    waveform, rate = read_audio(path)
    if len(waveform) < MIN_DURATION_S * rate:
        raise AudioReadError(
            f"Audio file {path} lasts {len(waveform) / rate:.3f} s; at least {MIN_DURATION_S} s is needed"
        )
    return fit_length(resample(waveform, rate, sample_rate), num_samples)
