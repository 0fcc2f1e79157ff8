"""Reading audio files (kept for old imports: the code lives in :mod:`emozoo.preprocessing.audio`)."""

from emozoo.preprocessing.audio import AudioReadError, load_clip, read_audio

__all__ = ["AudioReadError", "load_clip", "read_audio"]
