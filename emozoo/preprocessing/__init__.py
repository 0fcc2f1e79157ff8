"""Raw inputs (face crops, text, waveforms) -> model inputs. Numpy in, numpy out."""

from emozoo.preprocessing.audio import AudioPreprocessor
from emozoo.preprocessing.base import ModalityPreprocessor, length_bucket
from emozoo.preprocessing.face import FacePreprocessor
from emozoo.preprocessing.face_au import AU_NAMES, FaceAUPreprocessor, read_au_csv
from emozoo.preprocessing.preprocessor import (
    MODALITY_PREPROCESSORS,
    Preprocessor,
    modality_preprocessor,
    register_modality,
)
from emozoo.preprocessing.text import TextPreprocessor, vocabulary_path, vocabulary_size

__all__ = [
    "AU_NAMES",
    "FaceAUPreprocessor",
    "read_au_csv",
    "register_modality",
    "MODALITY_PREPROCESSORS",
    "AudioPreprocessor",
    "FacePreprocessor",
    "ModalityPreprocessor",
    "length_bucket",
    "Preprocessor",
    "modality_preprocessor",
    "TextPreprocessor",
    "vocabulary_path",
    "vocabulary_size",
]
