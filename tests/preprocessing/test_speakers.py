"""Per-speaker standardisation: each speaker's values by that speaker's own statistics."""

from __future__ import annotations

import numpy as np
import pytest

from emozoo.preprocessing.speakers import (
    SpeakerNormalisation,
    speaker_statistics,
    standardise_by_speaker,
)


def test_each_speaker_is_centred_and_scaled_by_their_own_statistics():
    rng = np.random.default_rng(0)
    a = rng.normal(5.0, 2.0, (10, 3))
    b = rng.normal(-3.0, 0.5, (6, 3))
    values = np.concatenate([a, b])
    speakers = ["a"] * 10 + ["b"] * 6
    out = standardise_by_speaker(values, speakers)
    assert out.dtype == np.float32
    for rows in (slice(0, 10), slice(10, 16)):
        np.testing.assert_allclose(out[rows].mean(0), 0.0, atol=1e-5)
        np.testing.assert_allclose(out[rows].std(0), 1.0, atol=1e-5)
    # Interleaved ids give each row its own speaker's statistics.
    order = rng.permutation(16)
    shuffled = standardise_by_speaker(values[order], [speakers[i] for i in order])
    np.testing.assert_allclose(shuffled, out[order], atol=1e-6)


def test_unknown_values_stay_unknown_and_constant_columns_stay_finite():
    values = np.array([[1.0, np.nan, 2.0], [3.0, np.nan, 2.0], [5.0, 1.0, 2.0]])
    out = standardise_by_speaker(values, [7, 7, 7])
    assert np.isnan(out[:2, 1]).all() and out[2, 1] == 0.0
    np.testing.assert_array_equal(out[:, 2], 0.0)  # never varies: 0, not inf
    assert np.isfinite(out[:, 0]).all()


def test_too_few_items_of_a_speaker_and_mismatched_ids_are_errors():
    values = np.zeros((5, 2))
    with pytest.raises(ValueError, match=r"at least 3 items of each speaker.*'b': 2"):
        standardise_by_speaker(values, ["a", "a", "a", "b", "b"], min_clips=3)
    with pytest.raises(ValueError, match="4 speaker ids for 5 items"):
        standardise_by_speaker(values, ["a"] * 4)


def test_given_statistics_standardise_other_rows():
    """Statistics of clean copies applied to augmented ones (training)."""
    clean = np.array([[0.0], [2.0], [10.0], [14.0]])
    stats = speaker_statistics(clean, ["x", "x", "y", "y"])
    out = standardise_by_speaker(np.array([[4.0], [12.0]]), ["x", "y"], statistics=stats)
    np.testing.assert_allclose(out.ravel(), [3.0, 0.0])
    with pytest.raises(ValueError, match="no statistics for speaker 'z'"):
        standardise_by_speaker(np.zeros((1, 1)), ["z"], statistics=stats)


def test_card_field_round_trips_and_rejects_unknown_keys():
    norm = SpeakerNormalisation.from_dict({"inputs": ["face_au"], "embeddings": ["audio"]})
    assert norm.min_clips == 8 and norm.modalities == ("face_au", "audio")
    assert SpeakerNormalisation.from_dict(norm.to_dict()) == norm
    with pytest.raises(ValueError, match="unknown keys"):
        SpeakerNormalisation.from_dict({"input": ["face_au"]})
