"""fer's face classifier, the reference every speed benchmark times beside emozoo.

Speeds differ from machine to machine (AVX-512 or only AVX2, other jobs), so a speed
goal is a ratio measured in one run on one core: emozoo's file against fer's
(``../shared/reference/fer_mini_xception_quantized.tflite``, mini-Xception, LiteRT).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from emozoo.paths import data_dir

#: fer 25.10.3's classifier (MIT), float32 in and out, one 64x64 grayscale face.
FER_CLASSIFIER = "fer_mini_xception_quantized.tflite"


def fer_classifier_path() -> Path:
    """Where the reference file lies: ``reference/`` beside the datasets' folder."""
    return data_dir().parent / "reference" / FER_CLASSIFIER


def fer_classifier_call(path: str | Path | None = None) -> Callable[[], object]:
    """One call of fer's classifier on a face in [-1, 1] (as fer feeds it), one thread.

    Raises:
        FileNotFoundError: the reference file is absent.
    """
    import numpy as np
    from ai_edge_litert.interpreter import Interpreter

    path = Path(path) if path is not None else fer_classifier_path()
    if not path.is_file():
        raise FileNotFoundError(f"fer's classifier not found at {path}")
    interpreter = Interpreter(model_path=str(path), num_threads=1)
    interpreter.allocate_tensors()
    detail = interpreter.get_input_details()[0]
    output = interpreter.get_output_details()[0]["index"]
    face = np.random.default_rng(0).uniform(-1, 1, detail["shape"]).astype(detail["dtype"])

    def call() -> object:
        interpreter.set_tensor(detail["index"], face)
        interpreter.invoke()
        return interpreter.get_tensor(output)

    return call
