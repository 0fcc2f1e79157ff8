"""A stream's sound in windows: a file's audio track, a stream URL's, or a microphone's.

Each source answers :meth:`window(end_time)`: the model's window (3 s for the shipped
models) of mono samples ending at ``end_time`` seconds of stream time (what was heard
up to then; zero-padded at the start, from a third of a window on), or ``None`` when
there is not enough sound yet or it is silent. Windows are cut and checked by the same function as
:func:`emozoo.inference.video.analyze_video`'s (:func:`~emozoo.inference.media.audio_window`).

- :class:`TrackAudio`: a video file's track, decoded once with the ffmpeg binary of
  ``imageio-ffmpeg`` (:func:`~emozoo.inference.video_io.extract_audio`).
- :class:`StreamAudio`: a URL's track, decoded as it arrives by the same binary.
- :class:`MicrophoneAudio`: the default input device, with ``sounddevice`` (optional:
  ``pip install sounddevice``).
"""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

import numpy as np

from emozoo.inference.media import audio_window
from emozoo.inference.video_io import extract_audio, ffmpeg_audio_command
from emozoo.preprocessing.audio import LAST_WINDOW_FRACTION

#: The least share of a window a stream must have heard before its sound is used (the
#: share a recording's last partial window needs).
MIN_FRACTION = LAST_WINDOW_FRACTION
#: Seconds of sound a live source keeps.
BUFFER_SECONDS = 30.0
#: A URL's audio is read at most this many seconds ahead of the frames asked for.
AHEAD_SECONDS = 5.0


def trailing_window(samples: np.ndarray, sample_rate: int, window: int) -> np.ndarray | None:
    """The last ``window`` samples (zero-padded when fewer), or ``None`` when they are
    silent or fewer than a third of a window (the share
    :func:`~emozoo.inference.media.audio_windows` keeps of a last partial window)."""
    if len(samples) < window * MIN_FRACTION:
        return None
    return audio_window(samples, (len(samples) - window / 2) / sample_rate, sample_rate, window)


class RingBuffer:
    """The last ``capacity`` samples of a stream, and how many arrived in all (thread-safe)."""

    def __init__(self, capacity: int):
        self._data = np.zeros(int(capacity), np.float32)
        self.total = 0
        self._lock = threading.Lock()

    def extend(self, samples: np.ndarray) -> None:
        samples = np.asarray(samples, np.float32).ravel()[-len(self._data) :]
        with self._lock:
            at = self.total % len(self._data)
            first = min(len(samples), len(self._data) - at)
            self._data[at : at + first] = samples[:first]
            self._data[: len(samples) - first] = samples[first:]
            self.total += len(samples)

    def last(self, count: int, end: int | None = None) -> np.ndarray:
        """The ``count`` samples before sample ``end`` (default: all that arrived), fewer
        when the stream is shorter or they have left the buffer."""
        with self._lock:
            end = self.total if end is None else max(0, min(int(end), self.total))
            start = max(0, end - count, self.total - len(self._data))
            index = np.arange(start, end) % len(self._data)
            return self._data[index].copy()


class AudioSource:
    """The interface: ``window(end_time)``, ``notice`` (what is used, or why not), ``close()``."""

    notice = ""

    def __init__(self, sample_rate: int, window: int):
        self.sample_rate = int(sample_rate)
        self.length = int(window)

    def window(self, end_time: float) -> np.ndarray | None:
        raise NotImplementedError

    def close(self) -> None:
        """Stop reading."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class TrackAudio(AudioSource):
    """The audio track of a video file (decoded once)."""

    def __init__(self, path: str | Path, sample_rate: int, window: int):
        super().__init__(sample_rate, window)
        self.waveform, self.notice = extract_audio(path, self.sample_rate)

    def window(self, end_time: float) -> np.ndarray | None:
        if self.waveform is None:
            return None
        end = int(round(end_time * self.sample_rate))
        return trailing_window(self.waveform[: max(0, end)], self.sample_rate, self.length)


class _BufferedAudio(AudioSource):
    """A live source: samples arrive in a :class:`RingBuffer`; sample ``n`` is at
    ``n / sample_rate`` seconds of stream time."""

    def __init__(self, sample_rate: int, window: int):
        super().__init__(sample_rate, window)
        self.buffer = RingBuffer(int(BUFFER_SECONDS * sample_rate))
        self._asked = threading.Condition()
        self._asked_until = 0

    def window(self, end_time: float) -> np.ndarray | None:
        end = int(round(end_time * self.sample_rate))
        with self._asked:
            self._asked_until = max(self._asked_until, end)
            self._asked.notify_all()
        samples = self.buffer.last(self.length, end)
        return trailing_window(samples, self.sample_rate, self.length)


class StreamAudio(_BufferedAudio):
    """The audio track of a stream URL, decoded by ffmpeg as it arrives (at most
    :data:`AHEAD_SECONDS` ahead of the frames, so that a recording served over HTTP
    stays in step)."""

    def __init__(self, url: str, sample_rate: int, window: int):
        super().__init__(sample_rate, window)
        try:
            import imageio_ffmpeg
        except ImportError:
            self.notice = (
                "audio not used: install the video extra (pip install 'emozoo[video]', "
                "which adds imageio-ffmpeg) to read a stream's audio"
            )
            self._process = None
            return
        command = ffmpeg_audio_command(imageio_ffmpeg.get_ffmpeg_exe(), url, self.sample_rate)
        self._process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL
        )
        self._closed = threading.Event()
        self.notice = "audio: the stream's audio track (ffmpeg)"
        self._reader = threading.Thread(target=self._read, name="emozoo-audio", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self._process is not None and self._process.stdout is not None  # started
        ahead = int(AHEAD_SECONDS * self.sample_rate)
        pending = b""
        while not self._closed.is_set():
            with self._asked:
                while self.buffer.total > self._asked_until + ahead and not self._closed.is_set():
                    self._asked.wait(0.5)
            chunk = self._process.stdout.read(16384)
            if not chunk:
                break
            pending += chunk
            usable = len(pending) - len(pending) % 4
            self.buffer.extend(np.frombuffer(pending[:usable], "<f4"))
            pending = pending[usable:]
        if self.buffer.total == 0:
            self.notice = "audio not used: no audio track in the stream"

    def close(self) -> None:
        if self._process is None:
            return
        self._closed.set()
        with self._asked:
            self._asked.notify_all()
        self._process.kill()
        self._process.wait(timeout=5)
        self._reader.join(timeout=2)
        assert self._process.stdout is not None  # a pipe
        self._process.stdout.close()


class MicrophoneAudio(_BufferedAudio):
    """The default input device (or ``device``), with ``sounddevice``."""

    def __init__(self, sample_rate: int, window: int, device=None):
        super().__init__(sample_rate, window)
        try:
            import sounddevice
        except (ImportError, OSError) as error:  # OSError: the PortAudio library is missing
            raise RuntimeError(
                f"--mic needs the sounddevice package and PortAudio ({error}); "
                "pip install sounddevice (Debian/Ubuntu: apt install libportaudio2)"
            ) from None

        def heard(samples, frames, timing, status) -> None:
            self.buffer.extend(samples[:, 0])

        self._stream = sounddevice.InputStream(
            samplerate=self.sample_rate,
            channels=1,
            dtype="float32",
            device=device,
            callback=heard,
        )
        self._stream.start()
        self.notice = f"audio: microphone ({device if device is not None else 'default input'})"

    def close(self) -> None:
        self._stream.stop()
        self._stream.close()
