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
    with pytest.raises(ValueError, match=r"speaker 'cy': 2 usable face_au item\(s\) of 2"):
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


def test_with_on_error_skip_a_short_speaker_is_left_unused_not_fatal(recognizer, tmp_path):
    aus = [row for row in _aus()]
    aus[3] = str(tmp_path / "missing.csv")  # ann keeps 7 readable items of 8
    results = recognizer.predict_batch(face_aus=aus, speakers=SPEAKERS, on_error="skip")
    assert all(r.top is None for r in results[:8])
    assert "speaker 'ann': 7 usable face_au item(s) of 8" in results[0].not_used["face_au"]
    assert results[3].not_used["face_au"].startswith("unreadable")
    assert all(r.top is not None for r in results[8:])  # bob is unaffected


def test_speech_embeddings_are_standardised_within_each_speaker_only():
    """au_lstm_fusion_per_speaker standardises the voice embeddings per speaker: one
    speaker's answers depend on that speaker's other clips, not on anyone else's; a long
    clip (several windows) counts as one item."""
    from emozoo.inference.media import load_audio

    rec = emozoo.EmotionRecognizer("au_lstm_fusion_per_speaker")
    base = [
        load_audio(f"emozoo/assets/samples/{n}.wav", target_rate=16000).waveform
        for n in ("happy", "angry", "sad")
    ]

    def clips(seed: int, n: int = 8) -> list:
        r = np.random.default_rng(seed)
        out = []
        for i in range(n):
            wave = np.roll(base[i % 3], int(r.integers(0, 4000))) * r.uniform(0.5, 1.0)
            out.append((wave + r.normal(0, 0.002, wave.shape)).astype(np.float32))
        return out

    ann, bob = clips(1), clips(2)
    first = rec.predict_batch(audios=[(w, 16000) for w in ann + bob], speakers=SPEAKERS)
    other_bob = rec.predict_batch(audios=[(w, 16000) for w in ann + clips(3)], speakers=SPEAKERS)
    for a, b in zip(first[:8], other_bob[:8], strict=True):
        assert a.probabilities == pytest.approx(b.probabilities, abs=1e-5)
    changed_ann = rec.predict_batch(
        audios=[(w, 16000) for w in [ann[0], *clips(4, 7)] + bob], speakers=SPEAKERS
    )
    assert first[0].probabilities != pytest.approx(changed_ann[0].probabilities, abs=1e-4)
    long_clip = np.concatenate(ann)  # ~8 windows, one item
    with pytest.raises(ValueError, match="1 usable audio item"):
        rec.predict_batch(
            audios=[(long_clip, 16000)] + [(w, 16000) for w in bob], speakers=["cy"] + SPEAKERS[8:]
        )


def test_videos_streams_servers_and_exports_refuse_per_speaker_models(recognizer, tmp_path):
    from emozoo.export import to_tflite
    from emozoo.serving.app import create_app
    from emozoo.streaming.live import LiveAnalyzer

    with pytest.raises(ValueError, match="a video's windows"):
        recognizer.analyze_video(tmp_path / "clip.mp4")
    with pytest.raises(ValueError, match="a live stream"):
        LiveAnalyzer(recognizer)
    with pytest.raises(ValueError, match="one request does not carry"):
        create_app(recognizer)
    with pytest.raises(ValueError, match="exported one-sample graph"):
        to_tflite("face_au_per_speaker", tmp_path / "x.tflite")
