"""The preprocessor a registered model is loaded with: raw inputs -> the model's input dict."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from emozoo.preprocessing.audio import AudioPreprocessor
from emozoo.preprocessing.base import ModalityPreprocessor
from emozoo.preprocessing.face import FacePreprocessor
from emozoo.preprocessing.face_au import FaceAUPreprocessor
from emozoo.preprocessing.text import TextPreprocessor

if TYPE_CHECKING:
    import numpy.typing as npt

#: The preprocessor class of each modality, by the model input it feeds. A new modality
#: is a new :class:`ModalityPreprocessor` added here (see :func:`register_modality`).
MODALITY_PREPROCESSORS: dict[str, type[ModalityPreprocessor]] = {}


def register_modality(cls: type[ModalityPreprocessor]) -> type[ModalityPreprocessor]:
    """Make ``cls.modality`` a known modality fed by ``cls`` (cards, preprocessors,
    ``Preprocessor(**{modality: value})``); returns ``cls``."""
    known = MODALITY_PREPROCESSORS.get(cls.modality)
    if known is not None and known is not cls:
        raise ValueError(f"Modality {cls.modality!r} is already fed by {known.__name__}")
    MODALITY_PREPROCESSORS[cls.modality] = cls
    return cls


for _cls in (FacePreprocessor, TextPreprocessor, AudioPreprocessor, FaceAUPreprocessor):
    register_modality(_cls)


def modality_preprocessor(
    modality: str, params: Mapping[str, Any] | None = None
) -> ModalityPreprocessor:
    """The preprocessor of ``modality`` configured by ``params`` (a zoo config block)."""
    try:
        cls = MODALITY_PREPROCESSORS[modality]
    except KeyError:
        raise ValueError(
            f"Unknown modality {modality!r}; known: {', '.join(MODALITY_PREPROCESSORS)}"
        ) from None
    return cls(**dict(params or {}))


class Preprocessor:
    """Turn raw face crops, texts and waveforms into a model's batched input dict.

    A unimodal model's preprocessor takes its one modality. A multimodal model's takes
    any subset; each missing modality is fed zeros and its ``<modality>_present`` flag
    is 0, so the model ignores it.

    >>> import emozoo, numpy as np
    >>> pre = emozoo.load_preprocessor("cnn_lstm_fusion")
    >>> batch = pre(face=np.zeros((48, 48), np.uint8), text="What a day!")
    >>> batch["audio_present"].tolist()
    [[0.0]]
    """

    def __init__(
        self,
        modalities: Sequence[str],
        params: Mapping[str, Mapping[str, Any]],
        labels: Sequence[str],
    ):
        self.modalities = tuple(modalities)
        self.labels = tuple(labels)
        self.params = {m: dict(params.get(m, {})) for m in self.modalities}
        self._preprocessors = {m: modality_preprocessor(m, self.params[m]) for m in self.modalities}
        self.multimodal = len(self.modalities) > 1

    @property
    def face(self) -> FacePreprocessor | None:
        return cast("FacePreprocessor | None", self._preprocessors.get("face"))

    @property
    def text(self) -> TextPreprocessor | None:
        return cast("TextPreprocessor | None", self._preprocessors.get("text"))

    @property
    def audio(self) -> AudioPreprocessor | None:
        return cast("AudioPreprocessor | None", self._preprocessors.get("audio"))

    @property
    def face_au(self) -> FaceAUPreprocessor | None:
        return cast("FaceAUPreprocessor | None", self._preprocessors.get("face_au"))

    def for_modality(self, modality: str) -> ModalityPreprocessor:
        """The preprocessor of one of this model's modalities."""
        try:
            return self._preprocessors[modality]
        except KeyError:
            raise ValueError(
                f"This model takes {', '.join(self.modalities) or 'embeddings'}, not {modality}"
            ) from None

    def __call__(
        self,
        face: Any = None,
        text: Any = None,
        audio: Any = None,
        sample_rate: int | None = None,
        face_au: Any = None,
        **others: Any,
    ) -> dict[str, np.ndarray]:
        """Preprocess any subset of modalities into the model's input dict.

        Args:
            face: uint8 face crop(s): ``HxW``, ``HxWx3`` (RGB), a batch, or a list.
            text: a string or a list of strings.
            audio: a float waveform (mono, or ``(samples, channels)``) or a list of them.
            sample_rate: sampling rate of ``audio`` (default: the model's, 16 kHz).
            face_au: facial action units: 35 OpenFace values, a dict of AU names, an
                OpenFace 2 / py-feat CSV path, or a list of them.
            others: any other registered modality, by name.
        """
        unknown = [m for m in others if m not in MODALITY_PREPROCESSORS]
        if unknown:
            raise TypeError(
                f"Unknown input {', '.join(unknown)}; modalities: {', '.join(MODALITY_PREPROCESSORS)}"
            )
        given = {"face": face, "text": text, "audio": audio, "face_au": face_au, **others}
        given = {m: v for m, v in given.items() if v is not None}
        unexpected = [m for m in given if m not in self.modalities]
        if unexpected:
            raise ValueError(
                f"This model takes {', '.join(self.modalities) or 'embeddings'}, not {', '.join(unexpected)}"
            )
        if not given:
            raise ValueError(f"Give at least one of: {', '.join(self.modalities)}")
        arrays = {}
        for modality, value in given.items():
            if modality == "audio":
                audio_pre = self.audio
                assert audio_pre is not None  # "audio" is one of self.modalities
                arrays[modality] = audio_pre(value, sample_rate=sample_rate)
            else:
                arrays[modality] = self._preprocessors[modality](value)
        sizes = {m: len(a) for m, a in arrays.items()}
        if len(set(sizes.values())) > 1:
            raise ValueError(f"Modalities have different batch sizes: {sizes}")
        if not self.multimodal:
            return arrays
        batch = next(iter(sizes.values()))
        inputs = {}
        for modality in self.modalities:
            present = modality in arrays
            inputs[modality] = (
                arrays[modality] if present else self._preprocessors[modality].zeros(batch)
            )
            inputs[f"{modality}_present"] = np.full((batch, 1), float(present), np.float32)
        return inputs

    def decode(
        self, probabilities: npt.ArrayLike, top_k: int | None = None
    ) -> list[list[tuple[str, float]]]:
        """``[(label, probability), ...]`` per sample, most likely first."""
        probabilities = np.asarray(probabilities)
        if probabilities.ndim == 1:
            probabilities = probabilities[None]
        if probabilities.shape[-1] != len(self.labels):
            raise ValueError(
                f"Expected {len(self.labels)} probabilities per sample, got {probabilities.shape[-1]}"
            )
        k = top_k or len(self.labels)
        order = np.argsort(-probabilities, axis=-1)[:, :k]
        return [
            [(self.labels[j], float(p[j])) for j in row]
            for p, row in zip(probabilities, order, strict=True)
        ]
