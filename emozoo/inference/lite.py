"""Run a registered model from its shipped ``.tflite`` file on the LiteRT interpreter.

``emozoo predict`` and :class:`~emozoo.EmotionRecognizer` use this path when a model's
card lists a LiteRT build (``"lite"``): no TensorFlow or Keras is imported, so a first
prediction takes a fraction of a second instead of TensorFlow's start-up. The file is
built at release time from the shipped weights by ``tools/build_lite.py`` (which records
its parity with the Keras model in the card) and sha256-checked at load. The Keras path
(:class:`~emozoo.inference.engine.ModelRunner`) stays for fine-tuned weights and for
models without a LiteRT build.

An interpreter is not thread-safe: each thread gets its own (a few ms to create), so
threads never wait on each other.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from emozoo.inference.features import present_features
from emozoo.registry import get_entry, load_preprocessor
from emozoo.registry.weights import WeightsError, sha256_file

#: The exporter's signature and output names (``emozoo.export``).
SIGNATURE, OUTPUT = "serving_default", "probabilities"


def lite_path(name: str) -> Path | None:
    """The checked ``.tflite`` file of registered model ``name``, or ``None`` if its card
    lists none. ``WeightsError`` if the file is missing or its sha256 differs."""
    entry = get_entry(name)
    lite = entry.lite
    if not lite or lite.get("format") == "parts":  # parts: inference/lite_parts.py
        return None
    if entry.weights is None or lite.get("weights_sha256") != entry.weights.sha256:
        raise WeightsError(
            f"{name}: its LiteRT file was built from other weights; rebuild it with "
            "tools/build_lite.py (or use backend='keras')"
        )
    return shipped_file(name, str(lite["file"]), str(lite["sha256"]))


def shipped_file(name: str, file: str, sha256: str) -> Path:
    """``emozoo/weights/<file>`` of model ``name``, after checking that it is there and
    that its bytes are the ``sha256`` its card records (``WeightsError`` otherwise)."""
    from emozoo.paths import WEIGHTS_DIR

    path = WEIGHTS_DIR / file
    if not path.is_file():
        raise WeightsError(f"{name}: LiteRT file {path} is missing (reinstall emozoo)")
    if sha256_file(path) != sha256:
        raise WeightsError(f"{name}: LiteRT file {path} does not match its sha256")
    return path


class LiteRunner:
    """A :class:`~emozoo.inference.runner.Runner` over a ``.tflite`` file: ``encode``
    passes preprocessed inputs through, ``classify`` runs the whole model once per row
    (missing modalities get zeros and a presence flag of 0)."""

    #: The whole model runs per row: there are no embeddings to reuse.
    split = False
    #: One interpreter call per row whatever the batch (measured: the same samples per
    #: second batched or not), so waiting for company only delays the first request.
    prefers_batching = False

    def __init__(self, name: str, num_threads: int | None = None, path: Path | None = None):
        path = path or lite_path(name)
        if path is None:
            raise ValueError(f"{name!r} has no LiteRT build; use the Keras path")
        entry = get_entry(name)
        self.name = name
        self.path = path
        self.preprocessor = load_preprocessor(name)
        self.labels = tuple(entry.labels)
        self.modalities = tuple(entry.modalities)
        self.multimodal = len(self.modalities) > 1
        self.num_threads = num_threads
        self._per_thread = threading.local()
        self._signature()  # load once here, so that a broken file fails at construction

    def _signature(self) -> Any:
        # This thread's signature runner (LiteRT interpreters are not thread-safe).
        runner = getattr(self._per_thread, "runner", None)
        if runner is None:
            from ai_edge_litert.interpreter import Interpreter

            interpreter = Interpreter(model_path=str(self.path), num_threads=self.num_threads)
            interpreter.allocate_tensors()
            runner = interpreter.get_signature_runner(SIGNATURE)
            details = runner.get_input_details()
            self._per_thread.dtypes = {k: np.dtype(d["dtype"]) for k, d in details.items()}
            self._per_thread.runner = runner
        return runner

    def encode(self, modality: str, inputs: np.ndarray) -> np.ndarray:
        """The preprocessed inputs themselves: the whole model runs in :meth:`classify`."""
        if modality not in self.modalities:
            raise ValueError(f"{self.name} takes {', '.join(self.modalities)}, not {modality}")
        return np.asarray(inputs)

    def classify(self, features: Mapping[str, np.ndarray]) -> np.ndarray:
        """Class probabilities ``(n, labels)`` of the present modalities' inputs."""
        present, n = present_features(features, self.modalities, self.name)
        runner, dtypes = self._signature(), self._per_thread.dtypes
        out = np.zeros((n, len(self.labels)), np.float32)
        for i in range(n):
            feed = {}
            for m in self.modalities:
                if m in present:
                    feed[m] = present[m][i : i + 1]
                else:
                    feed[m] = self.preprocessor.for_modality(m).zeros(1)
                if self.multimodal:
                    feed[f"{m}_present"] = np.full((1, 1), float(m in present), np.float32)
            feed = {k: np.asarray(v, dtypes[k]) for k, v in feed.items()}
            out[i] = runner(**feed)[OUTPUT][0]
        return out


__all__ = ["LiteRunner", "lite_path", "shipped_file"]
