"""Raw inputs (face crops, text, waveforms) -> model inputs. Numpy in, numpy out."""

from emozoo.preprocessing.audio import AudioPreprocessor
from emozoo.preprocessing.base import ModalityPreprocessor
from emozoo.preprocessing.face import FacePreprocessor
from emozoo.preprocessing.preprocessor import (
    MODALITY_PREPROCESSORS,
    Preprocessor,
    modality_preprocessor,
)
from emozoo.preprocessing.text import TextPreprocessor, vocabulary_path, vocabulary_size

__all__ = [
    "MODALITY_PREPROCESSORS",
    "AudioPreprocessor",
    "FacePreprocessor",
    "ModalityPreprocessor",
    "Preprocessor",
    "modality_preprocessor",
    "TextPreprocessor",
    "vocabulary_path",
    "vocabulary_size",
]
