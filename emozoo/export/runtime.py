"""Run exports and their Keras originals on samples, one sample at a time (batch 1).

``.tflite`` files run on the stock interpreter of ``ai_edge_litert`` (the LiteRT
package; ``tf.lite.Interpreter`` is deprecated in TensorFlow 2.21), falling back to
``tf.lite`` where it is absent. Batch 1 is also how the Keras reference is computed:
``audio_lstm``'s log-mel clips at 80 dB below the loudest bin of the whole batch, so
only single-sample calls compare exactly with the batch-1 exports.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

OUTPUT_NAME = "probabilities"
SERVING_SIGNATURE = "serving_default"


def interpreter_class() -> tuple[Any, str]:
    """``(Interpreter class, runtime name)``: LiteRT's, else TensorFlow's."""
    try:
        from ai_edge_litert.interpreter import Interpreter

        return Interpreter, "ai_edge_litert"
    except ImportError:  # pragma: no cover - depends on the installed extras
        import tensorflow as tf

        return tf.lite.Interpreter, "tf.lite"


class TFLiteModel:
    """A ``.tflite`` file behind its ``serving_default`` signature.

    >>> model = TFLiteModel("exported/face_int8.tflite", num_threads=1)  # doctest: +SKIP
    >>> model({"face": face_batch_of_one})  # doctest: +SKIP
    array([[0.01, ...]], dtype=float32)
    """

    def __init__(self, path: str | Path, num_threads: int | None = None):
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"TFLite file {path} does not exist")
        interpreter, self.runtime = interpreter_class()
        try:
            self.interpreter = interpreter(model_path=str(path), num_threads=num_threads)
            self.interpreter.allocate_tensors()
            self.runner = self.interpreter.get_signature_runner(SERVING_SIGNATURE)
        except (ValueError, RuntimeError) as error:
            raise ValueError(f"{path} cannot be loaded by {self.runtime}: {error}") from None
        if OUTPUT_NAME not in self.runner.get_output_details():
            raise ValueError(f"{path} has no {OUTPUT_NAME!r} output: not an emozoo export")
        self.inputs = {
            name: (tuple(d["shape"]), np.dtype(d["dtype"]))
            for name, d in self.runner.get_input_details().items()
        }

    def __call__(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        feed = {name: np.asarray(inputs[name], dtype) for name, (_, dtype) in self.inputs.items()}
        return self.runner(**feed)[OUTPUT_NAME]

    def predict(self, inputs: dict[str, np.ndarray], progress: bool = False) -> np.ndarray:
        """Probabilities for every row of ``inputs``, one interpreter call per row."""
        n = len(next(iter(inputs.values())))
        rows = []
        bar = _progress(n, progress)
        for i in range(n):
            rows.append(self({k: v[i : i + 1] for k, v in inputs.items()})[0])
            if bar is not None and (i % 50 == 0 or i == n - 1):
                bar.update(i + 1)
        return np.stack(rows)


class SavedModelRunner:
    """A SavedModel's ``serving_default`` signature.

    >>> runner = SavedModelRunner("exported/fusion_sm")  # doctest: +SKIP
    >>> runner.predict(batch, batch_size=1).shape  # doctest: +SKIP
    (1, 7)
    """

    def __init__(self, path: str | Path):
        import tensorflow as tf

        path = Path(path)
        if not (path / "saved_model.pb").is_file():
            raise FileNotFoundError(f"{path} is not a SavedModel folder (no saved_model.pb)")
        self.loaded = tf.saved_model.load(str(path))
        if SERVING_SIGNATURE not in self.loaded.signatures:
            raise ValueError(f"SavedModel {path} has no {SERVING_SIGNATURE!r} signature")
        self.function = self.loaded.signatures[SERVING_SIGNATURE]
        self.inputs = {
            name: spec.dtype.as_numpy_dtype
            for name, spec in self.function.structured_input_signature[1].items()
        }

    def __call__(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        import tensorflow as tf

        feed = {k: tf.constant(np.asarray(inputs[k], dtype)) for k, dtype in self.inputs.items()}
        return self.function(**feed)[OUTPUT_NAME].numpy()

    def predict(self, inputs, batch_size: int = 1, progress: bool = False) -> np.ndarray:
        return _batched(self, inputs, batch_size, progress)


def keras_predict(model, inputs, batch_size: int = 1, progress: bool = False) -> np.ndarray:
    """``model``'s probabilities for every row of ``inputs`` (inference mode)."""
    return _batched(lambda x: np.asarray(model.predict_on_batch(x)), inputs, batch_size, progress)


def _batched(call, inputs, batch_size: int, progress: bool) -> np.ndarray:
    n = len(next(iter(inputs.values())))
    out = []
    bar = _progress(n, progress)
    for start in range(0, n, batch_size):
        out.append(call({k: v[start : start + batch_size] for k, v in inputs.items()}))
        if bar is not None:
            bar.update(min(n, start + batch_size))
    return np.concatenate(out)


def _progress(n: int, enabled: bool):
    if not enabled:
        return None
    import keras

    return keras.utils.Progbar(n, unit_name="sample")


__all__ = ["SavedModelRunner", "TFLiteModel", "interpreter_class", "keras_predict"]
