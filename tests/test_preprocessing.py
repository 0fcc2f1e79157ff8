"""Preprocessors: raw face crops, texts and waveforms into model inputs."""

from __future__ import annotations

import numpy as np
import pytest

import emozoo
from emozoo.preprocessing import AudioPreprocessor, FacePreprocessor


@pytest.fixture(scope="module")
def fusion_pre():
    return emozoo.load_preprocessor("cnn_lstm_fusion")


def test_face_accepts_gray_color_batches_and_lists():
    pre = FacePreprocessor(48)
    rng = np.random.default_rng(0)
    gray = rng.integers(0, 256, (100, 80), dtype=np.uint8)
    assert pre(gray).shape == (1, 48, 48, 1)
    color = np.stack([gray] * 3, axis=-1)
    np.testing.assert_allclose(pre(color), pre(gray), atol=1.0)  # equal channels -> same gray
    assert pre(np.stack([color, color])).shape == (2, 48, 48, 1)
    assert pre(rng.integers(0, 256, (5, 48, 48), dtype=np.uint8)).shape == (5, 48, 48, 1)
    assert pre([gray, color[:60, :50]]).shape == (2, 48, 48, 1)
    same_size = rng.integers(0, 256, (48, 48), dtype=np.uint8)
    np.testing.assert_array_equal(pre(same_size)[0, :, :, 0], same_size.astype(np.float32))


def test_face_channel_order():
    red = np.zeros((48, 48, 3), np.uint8)
    red[..., 0] = 255
    rgb = FacePreprocessor(48, channel_order="rgb")(red).mean()
    bgr = FacePreprocessor(48, channel_order="bgr")(red).mean()
    assert rgb == pytest.approx(0.299 * 255, abs=1) and bgr == pytest.approx(0.114 * 255, abs=1)


@pytest.mark.parametrize(
    "bad, error",
    [
        (np.zeros((0, 0), np.uint8), ValueError),
        (np.zeros((4, 4, 4, 4, 4), np.uint8), ValueError),
        (np.zeros((2, 10, 10, 5), np.uint8), ValueError),
        (np.full((10, 10), 0.5, np.float32), ValueError),
        ("photo.jpg", TypeError),
        ([], ValueError),
    ],
)
def test_face_bad_input(bad, error):
    with pytest.raises(error):
        FacePreprocessor(48)(bad)


def test_text_tokenizes_to_fixed_length(fusion_pre):
    ids = fusion_pre.text(["I am so happy today!", "what " * 200])
    assert ids.shape == (2, 64) and ids.dtype == np.int32
    assert (ids[0] > 0).sum() >= 5 and (ids[0, 10:] == 0).all()
    assert (ids[1] > 0).all()  # long text truncated, not wrapped
    np.testing.assert_array_equal(fusion_pre.text("HAPPY"), fusion_pre.text("happy"))


@pytest.mark.parametrize("bad", ["", "   ", [], ["fine", ""], [3]])
def test_text_bad_input(fusion_pre, bad):
    with pytest.raises((ValueError, TypeError)):
        fusion_pre.text(bad)


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


def test_multimodal_presence_flags(fusion_pre):
    face = np.zeros((2, 48, 48), np.uint8)
    batch = fusion_pre(face=face, text=["ok", "fine"])
    assert batch["face_present"].tolist() == [[1.0], [1.0]]
    assert batch["text_present"].tolist() == [[1.0], [1.0]]
    assert batch["audio_present"].tolist() == [[0.0], [0.0]]
    assert batch["audio"].shape == (2, 48000) and not batch["audio"].any()
    only_audio = fusion_pre(audio=np.zeros(16000, np.float32), sample_rate=16000)
    assert only_audio["face_present"].item() == 0.0 and only_audio["audio_present"].item() == 1.0
    assert set(only_audio) == {
        "face",
        "text",
        "audio",
        "face_present",
        "text_present",
        "audio_present",
    }


def test_multimodal_errors(fusion_pre):
    with pytest.raises(ValueError, match="at least one"):
        fusion_pre()
    with pytest.raises(ValueError, match="different batch sizes"):
        fusion_pre(face=np.zeros((2, 48, 48), np.uint8), text="one")
    with pytest.raises(ValueError, match="takes face, not text"):
        emozoo.load_preprocessor("face_cnn")(text="hello")
    with pytest.raises(ValueError, match="embeddings"):
        emozoo.load_preprocessor("fusion_transformer")


def test_model_and_preprocessor_by_the_same_name_predict(fusion_pre):
    model = emozoo.load("cnn_lstm_fusion", weights=None)
    batch = fusion_pre(face=np.zeros((48, 48, 3), np.uint8), text="I can't believe this happened!")
    probabilities = model.predict(batch, verbose=0)
    assert probabilities.shape == (1, 7)
    decoded = fusion_pre.decode(probabilities, top_k=2)
    assert len(decoded[0]) == 2 and decoded[0][0][0] in emozoo.EMOTIONS
    with pytest.raises(ValueError, match="Expected 7"):
        fusion_pre.decode(np.ones((1, 3)))
