"""``audio_whisper``'s own layers: Whisper's log-mel front end and the padding-aware statistics.

Runs on the TensorFlow backend and, in CI, again with ``KERAS_BACKEND=jax``.
"""

from __future__ import annotations

import numpy as np
import pytest

from emozoo.models import MaskedMeanStd, NonPaddingFrames, SoftmaxLayerMix, WhisperLogMel
from emozoo.models.audio_whisper import whisper_mel_filters


def numpy_whisper_log_mel(waveform: np.ndarray, num_mels: int = 80) -> np.ndarray:
    """OpenAI Whisper's ``log_mel_spectrogram`` written with ``np.fft`` (no emozoo code)."""
    n_fft, hop = 400, 160
    padded = np.pad(waveform.astype(np.float64), n_fft // 2, mode="reflect")
    count = 1 + (len(padded) - n_fft) // hop
    frames = np.stack([padded[i * hop : i * hop + n_fft] for i in range(count)])
    window = np.hanning(n_fft + 1)[:-1]  # periodic Hann, as torch.hann_window
    power = np.abs(np.fft.rfft(frames * window, axis=-1)) ** 2
    mel = power[:-1] @ whisper_mel_filters(num_mels).astype(np.float64)  # last frame dropped
    log_spec = np.log10(np.maximum(mel, 1e-10))
    log_spec = np.maximum(log_spec, log_spec.max() - 8.0)
    return (log_spec + 4.0) / 4.0


def test_log_mel_matches_whisper():
    rate = 16000
    t = np.arange(2 * rate) / rate
    rng = np.random.default_rng(1)
    speechlike = 0.2 * np.sin(2 * np.pi * (150 + 300 * t) * t) * (1 + np.sin(2 * np.pi * 3 * t))
    waves = np.stack([speechlike, 0.05 * rng.standard_normal(len(t))]).astype(np.float32)
    ours = np.asarray(WhisperLogMel()(waves))
    assert ours.shape == (2, 200, 80)
    for wave, features in zip(waves, ours, strict=True):
        np.testing.assert_allclose(features, numpy_whisper_log_mel(wave), atol=2e-4)


def test_log_mel_rejects_a_window_longer_than_three_hops():
    with pytest.raises(ValueError, match="fft_length"):
        WhisperLogMel(fft_length=500, hop_length=160)


def test_zero_padding_does_not_change_the_statistics():
    """A clip padded with zeros gives the statistics of its non-padding frames only."""
    rng = np.random.default_rng(0)
    wave = np.zeros((1, 320 * 10), np.float32)
    wave[0, : 320 * 4] = rng.normal(size=320 * 4)
    wave[0, 320 * 4 + 5] = 0.1  # one non-zero sample keeps its frame
    mask = np.asarray(NonPaddingFrames(320)(wave))
    np.testing.assert_array_equal(mask, [[1, 1, 1, 1, 1, 0, 0, 0, 0, 0]])

    frames = rng.normal(size=(1, 10, 3)).astype(np.float32)
    stats = np.asarray(MaskedMeanStd()([frames, mask]))
    kept = frames[0, :5]
    np.testing.assert_allclose(stats[0, :3], kept.mean(0), atol=1e-5)
    np.testing.assert_allclose(stats[0, 3:], np.sqrt(kept.var(0) + 1e-6), atol=1e-5)
    # All padding (silence): zeros, not NaN.
    empty = np.asarray(MaskedMeanStd()([frames, np.zeros((1, 10), np.float32)]))
    assert np.isfinite(empty).all()


def test_layer_mix_starts_as_the_average():
    stacked = np.random.default_rng(0).normal(size=(2, 4, 3)).astype(np.float32)
    mixed = np.asarray(SoftmaxLayerMix()(stacked))
    np.testing.assert_allclose(mixed, stacked.mean(axis=1), atol=1e-6)


@pytest.mark.parametrize("duration_s", [0.51, 31.0])
def test_bad_durations_are_errors(duration_s):
    from emozoo.models import build_audio_whisper

    with pytest.raises(ValueError, match="duration_s"):
        build_audio_whisper(duration_s=duration_s, num_layers=1, hidden_dim=8, num_heads=2)


def test_speech_level_normalisation_ignores_gain_and_padding():
    from emozoo.models.audio_whisper import SpeechLevelNormalization

    rng = np.random.default_rng(2)
    speech = (0.2 * rng.standard_normal(800)).astype(np.float32)
    clips = np.zeros((3, 1200), np.float32)
    clips[0, :800], clips[1, :800] = speech, speech * 10 ** (-30 / 20)  # 30 dB quieter
    out = np.asarray(SpeechLevelNormalization(target_rms=0.05)(clips))
    np.testing.assert_allclose(out[0], out[1], atol=1e-5)
    np.testing.assert_allclose(np.sqrt(np.mean(out[0, :800] ** 2)), 0.05, rtol=1e-3)
    assert not out[0, 800:].any() and not out[2].any()  # padding and silence stay zero
