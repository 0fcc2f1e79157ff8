"""What every modality's preprocessor tells the rest of the package.

Data pipelines, exports, the registry and inference ask a model's preprocessor for its
modality (``preprocessor.for_modality(name)``) instead of switching on the names
``"face"``, ``"text"`` and ``"audio"``: how to feed a missing input, how to turn stored
items into inputs, which builder arguments the input size fixes, what an export's
metadata says. :class:`~emozoo.preprocessing.FacePreprocessor`,
:class:`~emozoo.preprocessing.TextPreprocessor` and
:class:`~emozoo.preprocessing.AudioPreprocessor` implement it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

#: ``skip(item description, reason)``: called for a sample a dataset leaves out.
SkipCallback = Callable[[str, str], None]


def length_bucket(used: int, full: int, shortest: int = 8) -> int:
    """The length a ``variable_length`` input of ``used`` positions runs at: the shortest
    of ``shortest``, twice that, four times that... that holds it, and at most ``full``.

    A few lengths, not every one, so that a runtime keeps one prepared interpreter per
    length (preparing one per call would cost more than the shorter input saves).

    >>> [length_bucket(n, 64) for n in (1, 8, 9, 33, 64)]
    [8, 8, 16, 64, 64]
    """
    if used < 1 or full < 1:
        raise ValueError(f"lengths must be positive, got used={used}, full={full}")
    length = shortest
    while length < used:
        length *= 2
    return min(length, full)


class ModalityPreprocessor:
    """Base of the per-modality preprocessors: raw inputs -> one model input array."""

    #: The model input this preprocessor feeds (``"face"``, ``"text"`` or ``"audio"``).
    modality: ClassVar[str]
    #: dtype of the model input.
    input_dtype: ClassVar[str] = "float32"
    #: What the model input holds, for export metadata.
    input_note: ClassVar[str] = ""
    #: Whether models of this modality can be built for inputs of any length
    #: (``sequence_length=None``) and fed batches cut to their longest item.
    variable_length: ClassVar[bool] = False

    # `raw` is positional-only: each modality names its own input (images, texts,
    # waveforms) and may add keywords of its own (the audio's sample_rate).
    def __call__(self, raw: Any, /) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def input_shape(self) -> tuple[int, ...]:
        """The model input's shape without the batch axis."""
        raise NotImplementedError

    def zeros(self, batch: int) -> np.ndarray:
        """The input of ``batch`` samples where this modality is missing."""
        return np.zeros((batch, *self.input_shape), self.input_dtype)

    def used_length(self, row: np.ndarray) -> int:
        """How many leading positions of one ``variable_length`` input carry content; the
        rest is padding, so a model built for any length gives the same output on
        ``row[:n]`` for every ``n`` of at least this."""
        raise ValueError(f"{self.modality} inputs have a fixed length")

    def run_length(self, row: np.ndarray) -> int:
        """The length one ``variable_length`` input runs at: the :func:`length_bucket` of
        its :meth:`used_length`, at most its own length."""
        return length_bucket(self.used_length(row), len(row))

    def model_kwargs(self) -> dict[str, Any]:
        """Builder arguments fixed by this preprocessing (input sizes live in one place)."""
        raise NotImplementedError

    def from_items(self, items: Sequence) -> np.ndarray:
        """Model inputs of stored items (:class:`~emozoo.data.Records` ``items``)."""
        return self(items)

    def dataset(
        self,
        items: Sequence,
        labels: np.ndarray,
        skip: SkipCallback | None = None,
        where: str = "",
    ):
        """Unbatched ``tf.data.Dataset`` of ``(input, int32 label)`` of stored items.

        ``skip`` is called for an unusable item, which is then left out; without it an
        unusable item is an error naming it. ``where`` names the source in messages.
        """
        raise NotImplementedError

    def finish_batch(self, batch: Any) -> Any:
        """A batch of :meth:`dataset` elements as the model takes it (a tensor op)."""
        return batch

    def synthetic(self, n: int, rng: np.random.Generator, token_rows: int | None = None):
        """``n`` made-up inputs of the right shape and range (for export checks only)."""
        raise NotImplementedError

    def metadata(self) -> dict[str, Any]:
        """Extra facts an export's metadata records about this input."""
        return {}

    def asset_files(self) -> dict[str, Path]:
        """Files an export ships beside the model (``{name: path}``), e.g. a vocabulary."""
        return {}

    def check_fits(self, model) -> None:
        """Raise ``ValueError`` if the shared datasets cannot feed ``model`` this input."""

    @staticmethod
    def params_from_input_shape(shape: tuple[int, ...], params: dict) -> dict:
        """``params`` with the input size read off a model input of ``shape``."""
        raise NotImplementedError
