"""Audio preprocessing: resampling, down-mixing, fitting the length, bad waveforms."""

from __future__ import annotations

import numpy as np
import pytest

from emozoo.preprocessing import AudioPreprocessor


def test_audio_resamples_downmixes_and_fits_length():
    pre = AudioPreprocessor(16000, 1.0)
    t = np.arange(44100) / 44100
    tone = np.sin(2 * np.pi * 440 * t).astype(np.float32)
    out = pre(np.stack([tone, tone], axis=1), sample_rate=44100)
    assert out.shape == (1, 16000) and out.dtype == np.float32
    spectrum = np.abs(np.fft.rfft(out[0]))
    assert abs(int(np.argmax(spectrum)) - 440) <= 1  # 1 s at 16 kHz: bin = Hz
    short = pre(np.ones(8000, np.float32))
    assert short.shape == (1, 16000) and (short[0, 8000:] == 0).all()
    pcm = pre(np.full(16000, 16384, np.int16))
    assert pcm.max() == pytest.approx(0.5, abs=1e-3)
    assert pre([np.zeros(16000), np.zeros(20000)]).shape == (2, 16000)


@pytest.mark.parametrize(
    "bad, rate",
    [
        (np.zeros(100, np.float32), 16000),  # shorter than 0.1 s
        (np.full(16000, np.nan, np.float32), 16000),
        (np.zeros((2, 2, 2), np.float32), 16000),
        (np.zeros(16000, np.float32), -1),
        ([], 16000),
    ],
)
def test_audio_bad_input(bad, rate):
    with pytest.raises(ValueError):
        AudioPreprocessor()(bad, sample_rate=rate)
