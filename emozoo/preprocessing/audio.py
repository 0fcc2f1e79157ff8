"""Waveforms -> the audio models' input: mono, 16 kHz, fixed length, float32."""

from __future__ import annotations

from collections.abc import Sequence
from math import gcd
from pathlib import Path

import numpy as np
import soundfile as sf

from emozoo.preprocessing.base import ModalityPreprocessor, SkipCallback

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
    from scipy.signal import resample_poly  # lazy: scipy.signal takes over a second to import

    factor = gcd(int(from_rate), int(to_rate))
    return resample_poly(waveform, int(to_rate) // factor, int(from_rate) // factor).astype(
        np.float32
    )


#: A last partial window is kept when it holds at least this share of a window.
LAST_WINDOW_FRACTION = 1 / 3


def cut_window(waveform: np.ndarray, start: int, length: int) -> np.ndarray:
    """The ``length`` samples of ``waveform`` from sample ``start``, zero-padded at the end
    where the waveform ends first (a new array, never a view).

    The one place audio windows are cut: the model's input clip (:func:`fit_length`), a
    long recording's windows (:func:`emozoo.inference.media.audio_windows`), a video's
    and a stream's windows (:func:`emozoo.inference.media.audio_window`).

    >>> cut_window(np.arange(5, dtype=np.float32), 3, 4).tolist()
    [3.0, 4.0, 0.0, 0.0]
    """
    if start < 0 or length < 0:
        raise ValueError(f"start and length must not be negative, got {start} and {length}")
    piece = waveform[start : start + length]
    return np.pad(piece, (0, length - len(piece)))


def window_starts(
    num_samples: int,
    length: int,
    hop: int | None = None,
    min_fraction: float = LAST_WINDOW_FRACTION,
) -> list[int]:
    """Start samples of ``length``-sample windows over ``num_samples`` samples.

    Windows start every ``hop`` samples (default: ``length``, no overlap) from 0; after
    the last whole window, one more starts where it ends when the samples left hold at
    least ``min_fraction`` of a window (it is zero-padded when cut). A waveform shorter
    than a window has one window, at 0.

    >>> window_starts(250, 100), window_starts(220, 100)
    ([0, 100, 200], [0, 100])
    """
    hop = hop or length
    starts = list(range(0, max(num_samples - length, 0) + 1, hop))
    last_end = starts[-1] + length
    if num_samples - last_end >= min_fraction * length:
        starts.append(last_end)
    return starts


def fit_length(waveform: np.ndarray, num_samples: int) -> np.ndarray:
    """Crop the end off, or zero-pad at the end, to exactly ``num_samples``."""
    return cut_window(waveform, 0, num_samples)


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


class AudioPreprocessor(ModalityPreprocessor):
    """Turn float waveforms into a ``(batch, sample_rate * duration_s)`` float32 array.

    Each waveform is made mono, resampled to ``sample_rate`` and cropped or
    zero-padded to ``duration_s``. Integer PCM is scaled to [-1, 1].
    """

    modality = "audio"
    input_note = (
        "float32 mono waveform in [-1, 1] at the sample rate, cropped or zero-padded "
        "at the end to the duration (the log-mel front end is inside the model)"
    )

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

    @property
    def input_shape(self) -> tuple[int, ...]:
        return (self.num_samples,)

    def model_kwargs(self) -> dict:
        return {"sample_rate": self.sample_rate, "duration_s": self.duration_s}

    def from_items(self, items) -> np.ndarray:
        """Clips of audio files (``items`` are paths), resampled and cropped or padded."""
        out = np.zeros((len(items), self.num_samples), np.float32)
        for i, path in enumerate(items):
            out[i] = load_clip(path, self.sample_rate, self.num_samples)
        return out

    def dataset(self, items, labels, skip: SkipCallback | None = None, where: str = ""):
        import tensorflow as tf  # lazy: TensorFlow start-up only where a pipeline is built

        rate, num_samples = self.sample_rate, self.num_samples

        def read(encoded: bytes) -> np.ndarray:
            path = encoded.decode()
            try:
                return load_clip(path, rate, num_samples)
            except AudioReadError as error:
                if skip is None:
                    raise
                skip(path, str(error))
                return np.zeros((0,), np.float32)

        def decode(path, label):
            audio = tf.numpy_function(read, [path], tf.float32, stateful=False)
            audio.set_shape([None])
            return audio, label

        ds = tf.data.Dataset.from_tensor_slices((list(items), np.asarray(labels, np.int32)))
        ds = ds.map(decode, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        ds = ds.filter(lambda audio, label: tf.shape(audio)[0] > 0)
        return ds.map(lambda audio, label: (tf.ensure_shape(audio, [num_samples]), label))

    def synthetic(self, n, rng, token_rows=None):
        """Tones of random pitch and level in noise."""
        t = np.arange(self.num_samples) / self.sample_rate
        tone = np.sin(2 * np.pi * rng.uniform(100, 1000, (n, 1)) * t[None])
        noise = rng.normal(0, 1, (n, self.num_samples))
        level = rng.uniform(0.02, 0.5, (n, 1))
        return (level * (0.7 * tone + 0.3 * noise)).astype(np.float32)

    def metadata(self) -> dict:
        return {"num_samples": self.num_samples}

    @staticmethod
    def params_from_input_shape(shape, params):
        return {**params, "duration_s": int(shape[0]) / float(params["sample_rate"])}
