"""Run a model's LiteRT parts build: one file per modality encoder, one for the head.

``tools/build_lite.py NAME --parts`` writes such a build (:mod:`emozoo.export.lite_parts`)
and records it in the card (``"lite": {"format": "parts", ...}``). A fused model whose
encoders are registered models of their own shares their encoder files. At inference:

- an encoder file is opened (and sha256-checked) the first time its modality is given,
  so ``--text`` alone never reads the Whisper or VGG files;
- encoders run once per input and the head once per row, as the Keras runner's split
  does (:class:`~emozoo.inference.engine.ModelRunner`): the planner reuses embeddings;
- an encoder file of free input length (text: its sequence axis) runs each row cut to
  the shortest of a few lengths that holds its content
  (:func:`~emozoo.preprocessing.length_bucket`), with one interpreter per length: a
  recurrent or attention encoder's time grows with the length, and padding changes
  nothing in its output (``tools/build_lite.py`` checks this on real texts).

No TensorFlow or Keras is imported. Interpreters are not thread-safe: each thread gets
its own.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from emozoo.inference.features import present_features
from emozoo.inference.lite import shipped_file
from emozoo.registry import get_entry, load_preprocessor
from emozoo.registry.weights import WeightsError

#: Signature and output names of the parts (``emozoo.export.lite_parts``).
SIGNATURE, EMBEDDING, PROBABILITIES = "serving_default", "embedding", "probabilities"
#: A part's LiteRT signature runner, its input dtypes and its input shapes.
_Signature = tuple[Any, dict[str, np.dtype[Any]], dict[str, tuple[int, ...]]]


def is_parts_build(name: str) -> bool:
    """Whether registered model ``name``'s card lists a LiteRT parts build."""
    lite = get_entry(name).lite
    return bool(lite) and lite.get("format") == "parts"


def _checked_path(name: str, part: Mapping[str, Any]) -> Path:
    """The file of ``part``, after checking it was built from the weights its model
    ships now and that its bytes are the recorded ones."""
    owner = get_entry(part["model"])
    if owner.weights is None or owner.weights.sha256 != part["weights_sha256"]:
        raise WeightsError(
            f"{name}: its LiteRT part {part['file']} was built from other {part['model']} "
            "weights; rebuild it with tools/build_lite.py --parts (or use backend='keras')"
        )
    return shipped_file(name, str(part["file"]), str(part["sha256"]))


class LitePartsRunner:
    """A :class:`~emozoo.inference.runner.Runner` over a LiteRT parts build.

    Args:
        name: a registered model whose card lists a parts build.
        num_threads: interpreter threads (``None``: LiteRT's default).
    """

    split = True
    #: Row by row either way: LiteRT files are built for batch 1.
    prefers_batching = False

    def __init__(self, name: str, num_threads: int | None = None):
        entry = get_entry(name)
        lite = entry.lite or {}
        if lite.get("format") != "parts":
            raise ValueError(f"{name!r} has no LiteRT parts build")
        if entry.weights is None or lite.get("weights_sha256") != entry.weights.sha256:
            raise WeightsError(
                f"{name}: its LiteRT build was made from other weights; rebuild it with "
                "tools/build_lite.py --parts (or use backend='keras')"
            )
        self.name = name
        self.labels = tuple(entry.labels)
        self.modalities = tuple(entry.modalities)
        self.multimodal = len(self.modalities) > 1
        self.preprocessor = load_preprocessor(name)
        self.num_threads = num_threads
        self._parts = {m: dict(lite["parts"][m]) for m in self.modalities}
        self._paths: dict[str, Path] = {}
        self._paths_lock = threading.Lock()
        self._per_thread = threading.local()
        self._free: dict[str, bool] = {}
        self._paths["head"] = _checked_path(name, lite["head"])
        self._signature("head")  # a broken head file fails here, not at the first call

    def _path(self, part: str) -> Path:
        if part not in self._paths:
            with self._paths_lock:
                if part not in self._paths:
                    self._paths[part] = _checked_path(self.name, self._parts[part])
        return self._paths[part]

    def _signature(self, part: str, length: int | None = None) -> _Signature:
        """``(runner, input dtypes, input shapes)`` of ``part`` (a modality or
        ``"head"``) for this thread; ``length``: an encoder of free input length, with
        its input sized to ``length`` positions."""
        cache: dict[tuple[str, int | None], _Signature] | None
        cache = getattr(self._per_thread, "signatures", None)
        if cache is None:
            cache = self._per_thread.signatures = {}
        key = (part, length)
        if key not in cache:
            from ai_edge_litert.interpreter import Interpreter

            interpreter = Interpreter(
                model_path=str(self._path(part)), num_threads=self.num_threads
            )
            if length is not None:
                (detail,) = interpreter.get_input_details()
                interpreter.resize_tensor_input(detail["index"], [1, length], strict=True)
            interpreter.allocate_tensors()
            runner = interpreter.get_signature_runner(SIGNATURE)
            details = runner.get_input_details()
            cache[key] = (
                runner,
                {k: np.dtype(d["dtype"]) for k, d in details.items()},
                {k: tuple(d["shape"]) for k, d in details.items()},
            )
        return cache[key]

    def _free_length(self, modality: str) -> bool:
        """Whether ``modality``'s encoder file takes inputs of any length."""
        if modality not in self._free:
            runner = self._signature(modality)[0]
            signature = runner.get_input_details()[modality]["shape_signature"]
            self._free[modality] = len(signature) > 1 and int(signature[1]) == -1
        return self._free[modality]

    def encode(self, modality: str, inputs: np.ndarray) -> np.ndarray:
        """Embeddings ``(n, dim)`` of preprocessed ``inputs`` of one modality."""
        if modality not in self.modalities:
            raise ValueError(f"{self.name} takes {', '.join(self.modalities)}, not {modality}")
        inputs = np.asarray(inputs)
        if len(inputs) == 0:  # nothing to embed: the encoder file stays unopened
            head_shape = self._signature("head")[2][modality]
            return np.zeros((0, *head_shape[1:]), np.float32)
        runner, dtypes, _ = self._signature(modality)
        dtype = dtypes[modality]
        pre = self.preprocessor.for_modality(modality)
        free = self._free_length(modality)
        rows = []
        for row in inputs:
            if free:
                length = pre.run_length(row)
                runner, row = self._signature(modality, length)[0], row[:length]
            rows.append(runner(**{modality: np.asarray(row[None], dtype)})[EMBEDDING][0])
        return np.stack(rows).astype(np.float32)

    def classify(self, features: Mapping[str, np.ndarray]) -> np.ndarray:
        """Class probabilities ``(n, labels)`` from the present modalities' embeddings;
        absent ones get zeros and a presence flag of 0."""
        present, n = present_features(features, self.modalities, self.name)
        runner, dtypes, shapes = self._signature("head")
        out = np.zeros((n, len(self.labels)), np.float32)
        for i in range(n):
            feed = {}
            for m in self.modalities:
                if m in present:
                    feed[m] = present[m][i : i + 1]
                else:
                    feed[m] = np.zeros(shapes[m], dtypes[m])
                if self.multimodal:
                    feed[f"{m}_present"] = np.full((1, 1), float(m in present))
            out[i] = runner(**{k: np.asarray(v, dtypes[k]) for k, v in feed.items()})[
                PROBABILITIES
            ][0]
        return out


__all__ = ["LitePartsRunner", "is_parts_build"]
