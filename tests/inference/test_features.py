"""The features check shared by the Keras and LiteRT runners: each wrong input is named."""

from __future__ import annotations

import numpy as np
import pytest

from emozoo.inference.features import present_features

MODALITIES = ("face", "text", "audio")


def test_present_features_keeps_the_given_modalities_and_their_length():
    present, n = present_features(
        {"face": np.zeros((3, 4)), "text": None, "audio": [[0.0], [1.0], [2.0]]},
        MODALITIES,
        "toy",
    )
    assert sorted(present) == ["audio", "face"] and n == 3
    assert isinstance(present["audio"], np.ndarray)


@pytest.mark.parametrize(
    "features,message",
    [
        ({}, "At least one modality"),
        ({"face": None, "text": None}, "At least one modality"),
        ({"video": np.zeros((2, 1))}, r"toy takes face, text, audio, not \{'video'\}"),
        ({"face": np.zeros((2, 1)), "text": np.zeros((3, 1))}, "different lengths"),
    ],
)
def test_wrong_features_are_refused_with_the_reason(features, message):
    with pytest.raises(ValueError, match=message):
        present_features(features, MODALITIES, "toy")
