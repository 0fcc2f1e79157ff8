"""Raw inputs (face crops, text, waveforms) -> model inputs. Numpy in, numpy out."""

from emozoo.preprocessing.audio import AudioPreprocessor
from emozoo.preprocessing.face import FacePreprocessor
from emozoo.preprocessing.preprocessor import Preprocessor
from emozoo.preprocessing.text import TextPreprocessor, vocabulary_path, vocabulary_size

__all__ = [
    "AudioPreprocessor",
    "FacePreprocessor",
    "Preprocessor",
    "TextPreprocessor",
    "vocabulary_path",
    "vocabulary_size",
]
