"""Emotion recognition on raw files: photos, audio files, text and videos.

>>> from emozoo import EmotionRecognizer
>>> rec = EmotionRecognizer("cnn_lstm_fusion")  # doctest: +SKIP
>>> rec.predict(image="photo.jpg", text="I can't believe this happened!", audio="clip.wav")  # doctest: +SKIP

Modules: ``faces`` (OpenCV Haar detection and eye alignment), ``media`` (reading images,
audio, text), ``engine`` (the model split into encoders and fusion head, batched),
``recognizer`` (:class:`EmotionRecognizer`), ``results``, ``saliency``, ``plots``,
``video`` (sampled frames, IoU face tracks, the audio track), ``demo`` (bundled samples).
"""

from emozoo.inference.demo import load_samples, run_demo, sample_path
from emozoo.inference.faces import Face, FaceDetector
from emozoo.inference.media import MediaError, load_audio, load_image
from emozoo.inference.plots import plot_prediction, saliency_overlay, save_saliency
from emozoo.inference.recognizer import EmotionRecognizer
from emozoo.inference.results import FacePrediction, Prediction
from emozoo.inference.saliency import occlusion_saliency
from emozoo.inference.video import IoUTracker, VideoAnalysis, analyze_video, extract_audio

__all__ = [
    "EmotionRecognizer",
    "Face",
    "FaceDetector",
    "FacePrediction",
    "IoUTracker",
    "MediaError",
    "Prediction",
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
