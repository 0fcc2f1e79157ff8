"""What runs a model for inference: the :class:`Runner` protocol, and the runner a
recognizer gets (:func:`make_runner`).

Three runners implement it: :class:`~emozoo.inference.engine.ModelRunner` (Keras; a fused
model split into per-modality encoders and a batched head),
:class:`~emozoo.inference.lite.LiteRunner` (the shipped whole-model ``.tflite`` build on
the LiteRT interpreter, no TensorFlow) and
:class:`~emozoo.inference.lite_parts.LitePartsRunner` (a LiteRT build in parts: one file
per encoder, shared between models, and one for the head). Everything above them (the recognizer, the planner in
:mod:`emozoo.inference.batching`, video, streaming, serving) uses only this interface.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from emozoo.preprocessing.preprocessor import Preprocessor

#: The backends :func:`make_runner` (and :class:`~emozoo.EmotionRecognizer`) accept.
BACKENDS = ("auto", "keras", "lite")


@runtime_checkable
class Runner(Protocol):
    """A registered model, ready for inference on preprocessed inputs.

    Attributes:
        name: the registered model name.
        labels: the labels, in the order of the model's outputs.
        modalities: the modalities the model takes, in its order.
        multimodal: whether it takes more than one modality.
        preprocessor: the model's :class:`~emozoo.preprocessing.Preprocessor`.
        split: whether :meth:`encode` returns embeddings the head reuses (encoders run
            once per input, however many head rows use it).
        prefers_batching: whether a batch of rows costs less than the same rows one by
            one (the network runs a batch in one call). Where it does not, callers that
            could wait for company (a server's micro-batcher) answer each request alone.
    """

    name: str
    labels: tuple[str, ...]
    modalities: tuple[str, ...]
    multimodal: bool
    preprocessor: Preprocessor

    @property
    def split(self) -> bool: ...

    @property
    def prefers_batching(self) -> bool: ...

    def encode(self, modality: str, inputs: np.ndarray) -> np.ndarray:
        """What :meth:`classify` takes for ``modality``, from its preprocessed ``inputs``
        (embeddings when :attr:`split`, else the inputs themselves)."""
        ...

    def classify(self, features: Mapping[str, np.ndarray]) -> np.ndarray:
        """Class probabilities ``(n, len(labels))`` from the present modalities'
        :meth:`encode` outputs (all of length ``n``); absent modalities count as missing."""
        ...


def make_runner(
    model: str, weights: str | Path | None, batch_size: int, backend: str = "auto"
) -> Runner:
    """The runner ``backend`` asks for (see :class:`~emozoo.EmotionRecognizer`).

    ``"auto"`` runs the shipped weights on LiteRT when the model has a LiteRT build
    (no TensorFlow start-up), else on Keras; ``"keras"`` and ``"lite"`` choose
    (``"lite"`` only for the shipped weights).
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    shipped = isinstance(weights, str) and weights == "default"
    if backend == "lite" and not shipped:
        raise ValueError("backend='lite' runs the shipped weights; use 'keras' for a weights file")
    if backend in ("auto", "lite") and shipped:
        from emozoo.inference.lite import LiteRunner, lite_path
        from emozoo.inference.lite_parts import LitePartsRunner, is_parts_build

        if is_parts_build(model):
            return LitePartsRunner(model)
        if lite_path(model) is not None:
            return LiteRunner(model)
        if backend == "lite":
            raise ValueError(f"{model!r} has no LiteRT build; use backend='keras'")
    from emozoo.inference.engine import ModelRunner  # lazy: starts TensorFlow

    return ModelRunner(model, weights=weights, batch_size=batch_size)


__all__ = ["BACKENDS", "Runner", "make_runner"]
