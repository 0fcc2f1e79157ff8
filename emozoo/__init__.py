"""emozoo: a Keras 3 model zoo for multimodal (face, text, audio) emotion recognition.

>>> import emozoo
>>> "cnn_lstm_fusion" in emozoo.list_models()
True
>>> model = emozoo.load("cnn_lstm_fusion", weights=None)  # doctest: +SKIP
"""

import os as _os
from typing import Any as _Any

# TensorFlow's C++ start-up chatter hides real messages; users can still override.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from emozoo.labels import EMOTIONS  # noqa: E402
from emozoo.registry import (  # noqa: E402
    NoPretrainedWeightsError,
    UnknownModelError,
    WeightsError,
    list_models,
    load,
    load_preprocessor,
    model_info,
    model_versions,
    recommended_encoders,
    register_model,
)

__version__ = "0.1.0"

_SUBPACKAGES = ("data", "export", "inference", "models", "preprocessing", "registry", "training")
#: Short public names of subpackages: ``emozoo.train.fit(...)`` is ``emozoo.training.fit``.
_ALIASES = {"train": "training"}
#: Names re-exported from subpackages, imported on first use.
_LAZY = {"EmotionRecognizer": "emozoo.inference"}


def __getattr__(name: str) -> _Any:
    # Subpackages load on first use (`emozoo.data.from_manifest(...)`), keeping
    # `import emozoo` and `emozoo list` free of TensorFlow start-up.
    import importlib

    name = _ALIASES.get(name, name)

    if name in _SUBPACKAGES:
        return importlib.import_module(f"emozoo.{name}")
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'emozoo' has no attribute {name!r}")


__all__ = [
    "EMOTIONS",
    "EmotionRecognizer",
    "NoPretrainedWeightsError",
    "UnknownModelError",
    "WeightsError",
    "__version__",
    "list_models",
    "load",
    "load_preprocessor",
    "model_info",
    "model_versions",
    "recommended_encoders",
    "register_model",
]
