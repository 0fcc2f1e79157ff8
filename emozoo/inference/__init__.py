"""Emotion recognition on raw files: photos, audio files, text and videos.

>>> from emozoo import EmotionRecognizer
>>> rec = EmotionRecognizer("cnn_lstm_fusion")  # doctest: +SKIP
>>> rec.predict(image="photo.jpg", text="I can't believe this happened!", audio="clip.wav")  # doctest: +SKIP

Modules: ``faces`` (face detection, eye alignment, grayscale crops), ``media`` (reading
images, audio, text; audio windows), ``runner`` (the :class:`Runner` protocol and the
choice of runner), ``engine`` (the Keras runner: the model split into encoders and
fusion head, batched), ``lite`` (the LiteRT runner), ``batching`` (the planner: head
rows over embedding banks, run in batches), ``recognizer`` (:class:`EmotionRecognizer`),
``results`` (predictions and video timelines), ``saliency``, ``plots``, ``tracking``
(IoU face tracks), ``video_io`` (frames and the ffmpeg audio track), ``video`` (the
video analysis loop), ``demo`` (bundled samples).
"""

from emozoo.inference.demo import load_samples, run_demo, sample_path
from emozoo.inference.faces import Face, FaceDetector
from emozoo.inference.media import MediaError, load_audio, load_image
from emozoo.inference.plots import plot_prediction, saliency_overlay, save_saliency
from emozoo.inference.recognizer import EmotionRecognizer
from emozoo.inference.results import FacePrediction, Prediction, VideoAnalysis
from emozoo.inference.runner import Runner
from emozoo.inference.saliency import occlusion_saliency
from emozoo.inference.tracking import IoUTracker
from emozoo.inference.video import analyze_video
from emozoo.inference.video_io import extract_audio

__all__ = [
    "EmotionRecognizer",
    "Face",
    "FaceDetector",
    "FacePrediction",
    "IoUTracker",
    "MediaError",
    "Prediction",
    "Runner",
    "VideoAnalysis",
    "analyze_video",
    "extract_audio",
    "load_audio",
    "load_image",
    "load_samples",
    "occlusion_saliency",
    "plot_prediction",
    "run_demo",
    "saliency_overlay",
    "sample_path",
    "save_saliency",
]
