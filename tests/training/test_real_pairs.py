"""Real-pair training arrays: per-speaker standardisation of clean and augmented copies."""

from __future__ import annotations

import numpy as np
import pytest

from emozoo.training.real_pairs import real_pair_embeddings, standardise_copies_by_speaker


def test_copies_are_standardised_with_the_clean_copys_statistics():
    rng = np.random.default_rng(0)
    values = rng.normal(3.0, 2.0, (12, 3, 4))  # 12 items, clean + 2 augmented copies
    values[6:] += 10.0  # the second speaker sits elsewhere
    speakers = np.array(["a"] * 6 + ["b"] * 6)
    out = standardise_copies_by_speaker(values, speakers)
    assert out.shape == values.shape
    for rows in (slice(0, 6), slice(6, 12)):
        np.testing.assert_allclose(out[rows, 0].mean(0), 0.0, atol=1e-5)
        np.testing.assert_allclose(out[rows, 0].std(0), 1.0, atol=1e-5)
        clean = values[rows, 0]
        expected = (values[rows, 2] - clean.mean(0)) / clean.std(0)
        np.testing.assert_allclose(out[rows, 2], expected, atol=1e-5)
    with pytest.raises(ValueError, match="at least 7 items"):
        standardise_copies_by_speaker(values, speakers, min_clips=7)


@pytest.mark.slow
def test_per_speaker_real_pair_embeddings(data_root, tmp_path):
    """The per-speaker card's arrays: each actor's speech embeddings standardised."""
    from emozoo.data.datasets.face_au_sources import trial_actors
    from emozoo.registry import get_entry

    entry = get_entry("au_whisper_fusion_per_speaker")
    data = real_pair_embeddings(entry, {"val": 0}, cache_dir=tmp_path)
    embeddings, labels = data["val"]
    assert embeddings["face_au"].shape[:2] == (120, 1) and labels.shape == (120,)
    audio = embeddings["audio"][:, 0]
    actors = trial_actors("val")
    assert sorted(set(actors.tolist())) == [19, 20]
    for actor in (19, 20):
        own = audio[actors == actor]
        np.testing.assert_allclose(own.mean(0), 0.0, atol=1e-4)
        spread = own.std(0)
        np.testing.assert_allclose(spread[spread > 1e-3], 1.0, atol=1e-3)
