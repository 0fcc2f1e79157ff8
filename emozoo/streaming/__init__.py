"""Real-time emotion analysis of a camera, a stream URL or a video file: ``emozoo live``.

Modules: ``sources`` (frames from OpenCV), ``audio`` (a file's or stream's audio track,
or a microphone, in windows), ``tracking`` (faces followed between detections),
``window`` (each face's sliding window of estimates), ``live`` (the per-frame
analysis), ``overlay`` (drawing and the window), ``session`` (all of it, with outputs).

>>> from emozoo import EmotionRecognizer
>>> from emozoo.streaming import VideoSource, run_live
>>> stats = run_live(EmotionRecognizer(), VideoSource(path="talk.mp4"),
...                  csv_path="timeline.csv")  # doctest: +SKIP
>>> stats.rtf  # doctest: +SKIP
0.31
"""

from emozoo.streaming.audio import AudioSource, MicrophoneAudio, StreamAudio, TrackAudio
from emozoo.streaming.live import FrameResult, LiveAnalyzer, LiveSettings, LiveStats
from emozoo.streaming.session import run_live
from emozoo.streaming.sources import Frame, VideoSource
from emozoo.streaming.tracking import FaceTracker, TrackedFace
from emozoo.streaming.window import Estimate, SlidingWindow

__all__ = [
    "AudioSource",
    "Estimate",
    "FaceTracker",
    "Frame",
    "FrameResult",
    "LiveAnalyzer",
    "LiveSettings",
    "LiveStats",
    "MicrophoneAudio",
    "SlidingWindow",
    "StreamAudio",
    "TrackAudio",
    "TrackedFace",
    "VideoSource",
    "run_live",
]
