"""Audio without speech is not used ("no speech found"), as a photo without a face is;
speech under noise still is; clipped or out-of-range samples are warned about."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from emozoo.inference.demo import sample_path
from emozoo.inference.media import audio_windows, load_audio
from emozoo.inference.speech import SpeechDetector, SpeechFrames, sample_warnings

RATE = 16000


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    wave, rate = sf.read(str(sample_path("happy.wav")), dtype="float32")
    assert rate == RATE
    return wave


def _noise(seconds=3.0, dbfs=-20.0, seed=0):
    x = np.random.default_rng(seed).normal(size=int(seconds * RATE))
    return (x / np.sqrt(np.mean(x**2)) * 10 ** (dbfs / 20)).astype(np.float32)


def _tone(freq=440.0, seconds=3.0):
    t = np.arange(int(seconds * RATE)) / RATE
    return (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _music(seconds=3.0):
    t = np.arange(int(seconds * RATE)) / RATE
    chord = sum(np.sin(2 * np.pi * f * k * t) / k for f in (220, 277.2, 329.6) for k in (1, 2, 3))
    beat = (np.sin(2 * np.pi * 2 * t) > 0.95) * np.random.default_rng(1).normal(size=len(t))
    return (0.1 * chord * np.exp(-(t % 0.5) * 3) + 0.2 * beat).astype(np.float32)


@pytest.mark.parametrize(
    "kind,make",
    [
        ("white noise", _noise),
        ("a tone", _tone),
        ("music", _music),
        ("a quiet noise floor", lambda: _noise(dbfs=-45)),
    ],
)
def test_audio_without_speech_is_not_used(rec, kind, make):
    result = rec.predict(audio=(make(), RATE))
    assert not result.ok, kind
    assert result.not_used["audio"] == "no speech found in audio array"
    with_text = rec.predict(text="I am so happy", audio=(make(), RATE))
    assert with_text.modalities_used == ["text"] and "audio" in with_text.not_used


def test_digital_silence_is_still_called_silent(rec):
    result = rec.predict(audio=(np.zeros(3 * RATE, np.float32), RATE))
    assert result.not_used["audio"].startswith("silent")


def test_speech_is_used_clean_and_under_noise(rec, speech):
    assert rec.predict(audio=(speech, RATE)).modalities_used == ["audio"]
    power = np.mean(speech**2)
    noise = _noise(len(speech) / RATE, dbfs=10 * np.log10(power / 10 ** (5 / 10)))
    noisy = np.clip(speech + noise[: len(speech)], -1, 1)
    result = rec.predict(audio=(noisy, RATE))
    assert result.modalities_used == ["audio"], result.not_used
    assert result.sources["speech_seconds"] > 0.5


def test_long_recordings_are_read_where_someone_speaks(rec, speech):
    # 3 s of noise, the speech, 6 s of noise: only the windows with the voice are read.
    long = np.concatenate([_noise(3.0, -30), speech, _noise(6.0, -30, seed=2)])
    result = rec.predict(audio=(long, RATE))
    assert result.ok
    level_only = audio_windows(long, 3 * RATE)[0]
    assert result.sources["audio_windows"] < len(level_only)


def test_clipped_and_out_of_range_samples_are_warned_about(rec, speech):
    clipped = np.clip(speech * 20, -1, 1)
    with pytest.warns(UserWarning, match="full scale"):
        result = rec.predict(audio=(clipped, RATE))
    assert any("clipped" in w for w in result.warnings) and result.ok
    with pytest.warns(UserWarning, match="outside"):
        result = rec.predict(audio=(speech * 3, RATE))
    assert any("outside [-1, 1]" in w for w in result.warnings)
    assert sample_warnings(speech, "x") == []


def test_speech_detection_can_be_turned_off():
    from emozoo import EmotionRecognizer

    rec = EmotionRecognizer(speech_detection=None)
    assert rec.predict(audio=(_noise(), RATE)).ok  # the old behaviour: any non-silent audio


def test_detector_frames_and_bad_arguments(speech):
    detector = SpeechDetector()
    frames = detector.frames(speech)
    assert isinstance(frames, SpeechFrames) and frames.frame == 512
    assert 0.5 < frames.seconds <= len(speech) / RATE
    assert detector.has_speech(speech) and not detector.has_speech(_tone())
    assert frames.fraction(0, len(speech)) == pytest.approx(frames.speech.mean())
    with pytest.raises(ValueError, match="method"):
        SpeechDetector("nope")
    with pytest.raises(ValueError, match="threshold"):
        SpeechDetector(threshold=1.5)


def test_load_audio_reports_clipping_before_resampling(tmp_path, speech):
    path = tmp_path / "loud.wav"
    sf.write(str(path), np.clip(speech * 20, -1, 1), RATE)
    assert any("full scale" in w for w in load_audio(path).warnings)
