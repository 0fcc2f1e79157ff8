"""Reading images, audio and text; windows, silence, saliency and result formatting."""

from __future__ import annotations

import json

import numpy as np
import pytest

from emozoo.inference.media import (
    MediaError,
    audio_window,
    audio_windows,
    clean_text,
    level_dbfs,
    load_audio,
    load_image,
)
from emozoo.inference.results import Prediction, format_table
from emozoo.inference.saliency import occlusion_saliency, occlusion_variants
from emozoo.preprocessing.audio import AudioPreprocessor, cut_window, fit_length, window_starts


def test_load_image_from_path_and_arrays(astronaut, media):
    rgb, name = load_image(astronaut)
    assert rgb.shape == (512, 512, 3) and rgb.dtype == np.uint8 and name == str(astronaut)
    assert load_image(np.zeros((20, 30), np.uint8))[0].shape == (20, 30, 3)
    assert load_image(np.zeros((20, 30, 4), np.uint8))[0].shape == (20, 30, 3)
    assert load_image(media["group"])[0].shape == (512, 1024, 3)


def test_bad_images_name_the_file(media, tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.jpg"):
        load_image(tmp_path / "nope.jpg")
    for key in ("corrupt_image", "empty_image"):
        with pytest.raises(MediaError, match=media[key].name):
            load_image(media[key])
    with pytest.raises(MediaError, match="not a file"):
        load_image(tmp_path)
    with pytest.raises(MediaError, match="uint8"):
        load_image(np.zeros((20, 20, 3), np.float32))
    with pytest.raises(MediaError, match="shape"):
        load_image(np.zeros((20, 20, 2), np.uint8))
    with pytest.raises(TypeError):
        load_image(42)


def test_load_audio_any_rate_and_channels(media):
    clip = load_audio(media["stereo_44k"])
    assert clip.sample_rate == 16000 and clip.waveform.ndim == 1
    assert clip.duration_s == pytest.approx(2.5, abs=0.01)
    assert load_audio(media["ogg"]).duration_s > 3
    pcm = (np.random.default_rng(0).normal(0, 0.1, 8000) * 32767).astype(np.int16)
    from_int = load_audio((pcm, 8000))
    assert from_int.duration_s == pytest.approx(1.0) and np.abs(from_int.waveform).max() < 1.0


def test_bad_audio_is_a_clear_error(media, tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.wav"):
        load_audio(tmp_path / "missing.wav")
    with pytest.raises(MediaError, match="corrupt.wav"):
        load_audio(media["corrupt_audio"])
    with pytest.raises(ValueError, match="sample_rate"):
        load_audio(np.zeros(16000, np.float32))
    with pytest.raises(MediaError, match="at least 0.1 s"):
        load_audio((np.zeros(100, np.float32), 16000))
    with pytest.raises(MediaError, match="NaN"):
        load_audio((np.full(16000, np.nan, np.float32), 16000))


def test_windows_are_cut_in_one_place():
    waveform = np.arange(1, 251, dtype=np.float32)
    np.testing.assert_array_equal(cut_window(waveform, 240, 20)[:10], waveform[240:])
    assert cut_window(waveform, 240, 20)[10:].tolist() == [0.0] * 10  # padded at the end
    cut = cut_window(waveform, 0, 5)
    cut[:] = 0
    assert waveform[0] == 1  # a copy: a stream's buffer may be written over later
    with pytest.raises(ValueError, match="negative"):
        cut_window(waveform, -1, 5)
    # The window grid: every hop, plus a last partial window holding a third or more.
    assert window_starts(250, 100) == [0, 100, 200] and window_starts(220, 100) == [0, 100]
    assert window_starts(340, 100, hop=50) == [0, 50, 100, 150, 200, 300]
    assert window_starts(30, 100) == [0]
    # The model's clip, a recording's windows and a video step's window: the same cut.
    np.testing.assert_array_equal(fit_length(waveform, 300), cut_window(waveform, 0, 300))
    pre = AudioPreprocessor(sample_rate=100, duration_s=3.0)
    np.testing.assert_array_equal(pre(waveform / 250)[0], cut_window(waveform / 250, 0, 300))
    windows, starts = audio_windows(waveform / 250, window=100)
    for window, start in zip(windows, starts, strict=True):
        np.testing.assert_array_equal(window, cut_window(waveform / 250, start, 100))
    centred = audio_window(waveform / 250, centre_s=1.0, rate=100, window=100)
    np.testing.assert_array_equal(centred, cut_window(waveform / 250, 50, 100))
    # Kept inside the waveform at its ends; silence and scraps are not windows.
    np.testing.assert_array_equal(
        audio_window(waveform / 250, 2.45, 100, 100), cut_window(waveform / 250, 150, 100)
    )
    assert audio_window(np.zeros(250, np.float32), 1.0, 100, 100) is None
    assert audio_window(np.ones(8, np.float32), 0.0, 100, 100) is None  # under 0.1 s


def test_windows_skip_silence_and_keep_a_long_tail():
    rng = np.random.default_rng(0)
    speech = rng.normal(0, 0.1, 100).astype(np.float32)
    waveform = np.concatenate([speech, np.zeros(100, np.float32), speech[:50]])
    windows, starts = audio_windows(waveform, window=100)
    assert starts.tolist() == [0, 200] and windows.shape == (2, 100)
    assert np.all(windows[1, 50:] == 0)  # the tail is zero-padded
    empty, _ = audio_windows(np.zeros(500, np.float32), window=100)
    assert empty.shape == (0, 100)
    assert level_dbfs(np.zeros(10)) == float("-inf")
    assert level_dbfs(np.ones(10)) == pytest.approx(0.0)


def test_clean_text():
    assert clean_text("  so \n happy  ") == "so happy"
    assert clean_text("   ") == ""
    with pytest.raises(TypeError):
        clean_text(None)


def test_occlusion_saliency_finds_what_the_score_reads():
    image = np.zeros((16, 16, 1), np.float32)
    image[:4, :4] = 255.0
    heat = occlusion_saliency(lambda b: b[:, :4, :4, 0].mean(axis=(1, 2)), image, 4, 2)
    assert heat.shape == (16, 16) and heat.max() == 1.0
    assert heat[:4, :4].mean() > 0.5 and heat[8:, 8:].max() == 0.0
    with pytest.raises(ValueError, match="do not fit"):
        occlusion_variants(image, patch=32)


def test_prediction_without_input_says_why():
    empty = Prediction({}, [], not_used={"face": "no face found in x.jpg"})
    assert empty.top is None and not empty.ok
    assert "no face found in x.jpg" in empty.summary()
    data = json.loads(empty.to_json())
    assert data["top"] is None and data["not_used"] == {"face": "no face found in x.jpg"}
    full = Prediction({"happy": 0.7, "sad": 0.3}, ["text"], contributions={"text": 0.2})
    assert full.top == "happy" and full.confidence == 0.7
    assert "happy (70%) from text" in str(full)
    assert format_table([["a", 1]], ["x", "y"]).splitlines()[1] == "-  -"
