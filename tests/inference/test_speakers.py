"""The recognizer on a model with per-speaker normalisation (``face_au_per_speaker``)."""

from __future__ import annotations

import numpy as np
import pytest

import emozoo
from emozoo.preprocessing.speakers import standardise_by_speaker

SPEAKERS = ["ann"] * 8 + ["bob"] * 8


@pytest.fixture(scope="module")
def recognizer():
    return emozoo.EmotionRecognizer("face_au_per_speaker")


def _aus(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = np.where(np.arange(16)[:, None] < 8, 0.5, 2.0)  # bob's face is more expressive
    return (base + rng.random((16, 35))).astype(np.float32)


def test_each_speakers_aus_are_standardised_before_the_model(recognizer):
    aus = _aus()
    results = recognizer.predict_batch(face_aus=aus, speakers=SPEAKERS)
    got = np.array([[r.probabilities[label] for label in recognizer.labels] for r in results])
    model = emozoo.load("face_au_per_speaker")
    standardised = standardise_by_speaker(aus, SPEAKERS)
    expected = np.asarray(model.predict({"face_au": standardised}, verbose=0))
    np.testing.assert_allclose(got, expected, atol=1e-5)
    raw = np.asarray(model.predict({"face_au": aus}, verbose=0))
    assert np.abs(raw - expected).max() > 1e-2  # the standardisation changed the answer
    # A speaker's offset is removed: shifting all of bob's AUs changes nothing.
    shifted = aus.copy()
    shifted[8:] += 1.5
    again = recognizer.predict_batch(face_aus=shifted, speakers=SPEAKERS)
    assert [r.top for r in again] == [r.top for r in results]


def test_one_item_or_no_speakers_is_a_clear_error(recognizer):
    with pytest.raises(ValueError, match=r"predict_batch\(\.\.\., speakers="):
        recognizer.predict(face_au=np.zeros(35, np.float32))
    with pytest.raises(ValueError, match="at least 8 items per speaker"):
        recognizer.predict_batch(face_aus=_aus())
    with pytest.raises(ValueError, match=r"at least 8 items of each speaker.*'cy': 2"):
        recognizer.predict_batch(face_aus=_aus()[:10], speakers=SPEAKERS[:8] + ["cy", "cy"])
    with pytest.raises(ValueError, match="have no speaker"):
        recognizer.predict_batch(face_aus=_aus(), speakers=[None] + SPEAKERS[1:])
    with pytest.raises(ValueError, match="15 speakers for 16 items"):
        recognizer.predict_batch(face_aus=_aus(), speakers=SPEAKERS[1:])


def test_models_without_it_ignore_speakers_with_a_warning():
    rec = emozoo.EmotionRecognizer("face_au")
    with pytest.warns(UserWarning, match="speakers= is ignored"):
        plain = rec.predict_batch(face_aus=_aus()[:2], speakers=["a", "b"])
    assert [r.top for r in plain] == [r.top for r in rec.predict_batch(face_aus=_aus()[:2])]
