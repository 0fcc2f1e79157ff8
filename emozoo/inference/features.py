"""The check both model runners (Keras and LiteRT) make on the features they classify."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np


def present_features(
    features: Mapping[str, np.ndarray | None], modalities: Sequence[str], model_name: str
) -> tuple[dict[str, np.ndarray], int]:
    """``({modality: array}, n)``: the given (not ``None``) features and their common length.

    Raises:
        ValueError: no modality given, one the model does not take, or arrays of
            different lengths.
    """
    present = {m: np.asarray(v) for m, v in features.items() if v is not None}
    if not present:
        raise ValueError("At least one modality is needed to classify")
    unknown = set(present) - set(modalities)
    if unknown:
        raise ValueError(f"{model_name} takes {', '.join(modalities)}, not {unknown}")
    sizes = {len(v) for v in present.values()}
    if len(sizes) != 1:
        raise ValueError(
            f"Features have different lengths: { {m: len(v) for m, v in present.items()} }"
        )
    return present, sizes.pop()
