"""Reading raw media: images, audio files (or arrays), text; windows and silence checks.

Everything here is numpy and OpenCV/libsndfile; no TensorFlow. Unreadable inputs raise
:class:`MediaError` (a ``ValueError``) or ``FileNotFoundError`` naming the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from emozoo.inference.speech import SpeechFrames, sample_warnings
from emozoo.preprocessing.audio import (
    LAST_WINDOW_FRACTION,
    MIN_DURATION_S,
    AudioReadError,
    cut_window,
    read_audio,
    resample,
    to_mono,
    window_starts,
)
from emozoo.preprocessing.text import visible_text

#: Extensions :func:`load_image` reads (OpenCV decoders shipped in the wheel).
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".pgm", ".ppm")

#: A window whose RMS level is below this (dB relative to full scale) counts as silent.
SILENCE_DBFS = -50.0


class MediaError(ValueError):
    """A media file or array cannot be used (corrupt, wrong shape, unsupported); names it."""


def existing_file(path: str | Path, what: str) -> Path:
    """``path`` (``~`` expanded) if it is a file; ``FileNotFoundError`` or
    :class:`MediaError` naming it as ``what`` (``"Image"``, ``"Video"``, ...) if not."""
    path = Path(path).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"{what} {path} does not exist")
    if not path.is_file():
        raise MediaError(f"{what} {path} is not a file")
    return path


def load_image(image: str | Path | np.ndarray) -> tuple[np.ndarray, str]:
    """An RGB uint8 ``HxWx3`` image and a name for messages, from a path or an array.

    Arrays may be ``HxW`` (grayscale), ``HxWx3`` (RGB) or ``HxWx4`` (RGBA), uint8.
    EXIF orientation is applied (OpenCV's default).

    >>> rgb, name = load_image(np.zeros((20, 30), np.uint8))
    >>> rgb.shape, name
    ((20, 30, 3), 'image array')
    """
    array: np.ndarray | None
    if isinstance(image, np.ndarray):
        array, name = image, "image array"
    elif isinstance(image, (str, Path)):
        path = existing_file(image, "Image")
        data = np.fromfile(str(path), dtype=np.uint8)  # works with non-ASCII paths
        array = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
        if array is None:
            raise MediaError(
                f"Image {path} could not be decoded (corrupt, empty or not an image; "
                f"readable formats: {', '.join(IMAGE_EXTENSIONS)})"
            )
        if min(array.shape[:2]) < 8:
            raise MediaError(f"Image {path} is too small ({array.shape[1]}x{array.shape[0]})")
        return cv2.cvtColor(array, cv2.COLOR_BGR2RGB), str(path)
    else:
        raise TypeError(f"image must be a path or a numpy array, not {type(image).__name__}")
    if array.dtype != np.uint8:
        raise MediaError(f"The image array must be uint8 in [0, 255], got {array.dtype}")
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim == 2:
        array = cv2.cvtColor(array, cv2.COLOR_GRAY2RGB)
    elif array.ndim == 3 and array.shape[-1] == 4:
        array = cv2.cvtColor(array, cv2.COLOR_RGBA2RGB)
    elif not (array.ndim == 3 and array.shape[-1] == 3):
        raise MediaError(f"An image array must be HxW, HxWx3 or HxWx4, got shape {array.shape}")
    if min(array.shape[:2]) < 8:
        raise MediaError(f"The image array is too small ({array.shape[1]}x{array.shape[0]})")
    return np.ascontiguousarray(array), name


@dataclass
class Audio:
    """A mono float32 waveform at ``sample_rate`` and where it came from."""

    waveform: np.ndarray
    sample_rate: int
    source: str
    warnings: list[str] = field(default_factory=list)

    @property
    def duration_s(self) -> float:
        return len(self.waveform) / self.sample_rate


def load_audio(
    audio: str | Path | np.ndarray | tuple, sample_rate: int | None = None, target_rate: int = 16000
) -> Audio:
    """Read an audio file (WAV, FLAC, OGG; any rate and channel count) or take an array.

    Args:
        audio: a path, a waveform array (mono or ``(samples, channels)``, float in
            [-1, 1] or integer PCM), or a ``(waveform, sample_rate)`` tuple.
        sample_rate: the array's rate (required for arrays unless in the tuple).
        target_rate: the rate the result is resampled to (the model's, 16 kHz).

    Raises:
        FileNotFoundError: the path does not exist.
        MediaError: the file cannot be decoded, or the array is unusable or too short.

    >>> load_audio(np.zeros(8000, np.float32), sample_rate=8000).duration_s
    1.0
    """
    if isinstance(audio, tuple):
        if len(audio) != 2:
            raise TypeError("An audio tuple must be (waveform, sample_rate)")
        audio, sample_rate = audio
    if isinstance(audio, (str, Path)):
        path = existing_file(audio, "Audio file")
        try:
            waveform, rate = read_audio(path)
        except AudioReadError as error:
            raise MediaError(str(error)) from None
        source = str(path)
    elif isinstance(audio, np.ndarray):
        if sample_rate is None:
            raise ValueError("An audio array needs its sample_rate (audio=(waveform, rate))")
        waveform, rate, source = audio, int(sample_rate), "audio array"
        if np.issubdtype(waveform.dtype, np.integer):
            waveform = waveform.astype(np.float32) / float(np.iinfo(waveform.dtype).max)
        try:
            waveform = to_mono(waveform)
        except ValueError as error:
            raise MediaError(str(error)) from None
    else:
        raise TypeError(f"audio must be a path, an array or a tuple, not {type(audio).__name__}")
    if rate <= 0:
        raise MediaError(f"{source}: sample rate must be positive, got {rate}")
    if not np.all(np.isfinite(waveform)):
        raise MediaError(f"{source} contains NaN or infinite samples")
    if len(waveform) < MIN_DURATION_S * rate:
        raise MediaError(
            f"{source} lasts {len(waveform) / rate:.3f} s; at least {MIN_DURATION_S} s is needed"
        )
    notes = sample_warnings(waveform, source)
    waveform = np.clip(resample(waveform, rate, target_rate), -1.0, 1.0)
    return Audio(waveform, target_rate, source, notes)


def level_dbfs(waveform: np.ndarray) -> float:
    """RMS level in dB relative to full scale (``-inf`` for digital silence)."""
    rms = float(np.sqrt(np.mean(np.square(waveform, dtype=np.float64)))) if len(waveform) else 0.0
    return 20.0 * np.log10(rms) if rms > 0 else float("-inf")


def audio_windows(
    waveform: np.ndarray,
    window: int,
    hop: int | None = None,
    min_fraction: float = LAST_WINDOW_FRACTION,
    silence_dbfs: float = SILENCE_DBFS,
    speech: SpeechFrames | None = None,
    min_speech_s: float = 0.25,
) -> tuple[np.ndarray, np.ndarray]:
    """Cut a long waveform into ``window``-sample windows and drop those without a voice.

    Windows start every ``hop`` samples (default: ``window``, no overlap); a last partial
    window is kept (zero-padded) when it holds at least ``min_fraction`` of a window
    (:func:`~emozoo.preprocessing.audio.window_starts`).
    With ``speech`` (a :class:`~emozoo.inference.speech.SpeechDetector`'s frames), a
    window is kept when it holds at least ``min_speech_s`` of speech; without it, when
    its level is at least ``silence_dbfs``.
    Returns ``(windows (n, window), start sample of each)``; ``n`` is 0 when no window
    is kept.

    >>> w, starts = audio_windows(np.ones(250, np.float32), window=100)
    >>> w.shape, starts.tolist()
    ((3, 100), [0, 100, 200])
    """
    kept, kept_starts = [], []
    for start in window_starts(len(waveform), window, hop, min_fraction):
        cut = cut_window(waveform, start, window)
        heard = cut[: max(0, min(window, len(waveform) - start))]  # the samples, not the padding
        if speech is not None:
            seconds = speech.fraction(start, start + len(heard)) * len(heard) / speech.sample_rate
            if seconds < min_speech_s:
                continue
        elif level_dbfs(heard) < silence_dbfs:
            continue
        kept.append(cut)
        kept_starts.append(start)
    if not kept:
        return np.zeros((0, window), np.float32), np.zeros((0,), np.int64)
    return np.stack(kept).astype(np.float32), np.asarray(kept_starts)


def audio_window(
    waveform: np.ndarray, centre_s: float, rate: int, window: int
) -> np.ndarray | None:
    """The ``window`` samples of ``waveform`` centred on ``centre_s`` seconds (moved to
    stay inside it; zero-padded when it is shorter), or ``None`` when that stretch is
    silent or shorter than 0.1 s. A video's step and a stream's latest sound are cut here.

    >>> audio_window(np.ones(16000, np.float32), 0.5, 16000, 8000).shape
    (8000,)
    """
    start = int(round(centre_s * rate)) - window // 2
    start = max(0, min(start, len(waveform) - window))
    cut = cut_window(waveform, start, window)
    heard = cut[: max(0, min(window, len(waveform) - start))]
    if len(heard) < rate * 0.1 or level_dbfs(heard) < SILENCE_DBFS:
        return None
    return cut


def clean_text(text) -> str:
    """The readable text: control and format characters dropped, whitespace collapsed
    (``TypeError`` for non-strings, with a hint for bytes)."""
    if isinstance(text, (bytes, bytearray)):
        raise TypeError("text is bytes, not a string; decode it first, e.g. text.decode('utf-8')")
    if not isinstance(text, str):
        raise TypeError(f"text must be a string, not {type(text).__name__}")
    return visible_text(text)
