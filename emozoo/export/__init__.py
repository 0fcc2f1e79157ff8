"""Export for serving and mobile: SavedModel and TFLite (float32, float16, dynamic, int8).

Every export carries its labels, input names and preprocessing constants, is checked
against its Keras model on real test samples (a JSON parity report beside it) and, for
TFLite, uses builtin operators only.

>>> from emozoo.export import to_saved_model, to_tflite, read_labels
>>> to_saved_model("cnn_lstm_fusion", "exported/fusion_sm")  # doctest: +SKIP
>>> to_tflite("face_cnn", "exported/face_int8.tflite", quantize="int8",
...           representative_data="auto")  # doctest: +SKIP
>>> read_labels("exported/face_int8.tflite")  # doctest: +SKIP
['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral']
"""

from emozoo.export.common import ExportResult
from emozoo.export.flatbuffer import float_operator_counts, non_builtin_operators, operator_counts
from emozoo.export.metadata import read_labels, read_metadata, read_vocabulary
from emozoo.export.parity import ParityError, ParityReport, Tolerance
from emozoo.export.runtime import SavedModelRunner, TFLiteModel
from emozoo.export.samples import Samples, real_samples, synthetic_samples
from emozoo.export.savedmodel import to_saved_model
from emozoo.export.tflite import QUANTIZE_MODES, ConverterError, to_tflite

__all__ = [
    "QUANTIZE_MODES",
    "ConverterError",
    "ExportResult",
    "ParityError",
    "ParityReport",
    "Samples",
    "SavedModelRunner",
    "TFLiteModel",
    "Tolerance",
    "float_operator_counts",
    "non_builtin_operators",
    "operator_counts",
    "read_labels",
    "read_metadata",
    "read_vocabulary",
    "real_samples",
    "synthetic_samples",
    "to_saved_model",
    "to_tflite",
]
