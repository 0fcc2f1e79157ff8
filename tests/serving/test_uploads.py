"""Uploads from bytes: typed by magic numbers, headers checked before decoding."""

from __future__ import annotations

import numpy as np
import pytest

from emozoo.serving.limits import InputError, Limits
from emozoo.serving.uploads import (
    decode_audio,
    decode_image,
    decode_text,
    parse_flag,
    sniff,
)
from tests.serving.conftest import encoded_audio

LIMITS = Limits()


def refused(call, *args) -> InputError:
    with pytest.raises(InputError) as caught:
        call(*args)
    return caught.value


def test_formats_are_read_from_the_bytes(files):
    assert sniff(files["photo"]).name == "JPEG"
    assert sniff(files["png"]).name == "PNG"
    assert sniff(files["speech"]).name == "WAV"
    assert sniff(files["flac_hour"]).name == "FLAC"
    assert sniff(files["webm"]).name == "WebM/Matroska"
    assert sniff(b"just some text") is None


def test_an_image_decodes_to_rgb_like_opencv_reads_the_file(files):
    import cv2

    from emozoo.inference.demo import sample_path

    rgb = decode_image(files["photo"], LIMITS)
    expected = cv2.cvtColor(cv2.imread(str(sample_path("astronaut.jpg"))), cv2.COLOR_BGR2RGB)
    assert rgb.dtype == np.uint8 and np.array_equal(rgb, expected)


def test_audio_decodes_to_a_mono_waveform_like_the_file(files):
    import soundfile as sf

    from emozoo.inference.demo import sample_path

    waveform, rate = decode_audio(files["speech"], LIMITS)
    expected, expected_rate = sf.read(str(sample_path("happy.wav")), dtype="float32")
    assert rate == expected_rate and np.array_equal(waveform, expected)
    stereo = np.stack([expected, np.zeros_like(expected)], axis=1)
    mixed, _ = decode_audio(encoded_audio(stereo, rate, "FLAC"), LIMITS)
    np.testing.assert_allclose(mixed, expected / 2, atol=1e-4)


def test_a_png_declaring_100000_squared_pixels_is_refused_from_its_header(files):
    error = refused(decode_image, files["png_100k"], LIMITS)
    assert error.status == 413 and "header" in error.message
    error = refused(decode_image, files["png_90mp"], LIMITS)  # under Pillow's own guard
    assert error.status == 413 and "10000x9000" in error.message and "40,000,000" in error.message


def test_an_hour_of_audio_is_refused_from_its_header(files):
    for name in ("flac_hour", "wav_claims_an_hour"):
        error = refused(decode_audio, files[name], LIMITS)
        assert error.status == 413 and "3600.0 s" in error.message, name


def test_decoding_stops_at_the_limit_whatever_the_header_says(files):
    two_seconds = encoded_audio(np.full(32000, 0.1, np.float32), 16000)
    error = refused(decode_audio, two_seconds, Limits(max_audio_seconds=1.0))
    assert error.status == 413


@pytest.mark.parametrize(
    "call,name,status,words",
    [
        (decode_image, "speech", 415, "holds WAV audio, not an image"),
        (decode_image, "pdf", 415, "PDF file, which is not supported"),
        (decode_image, "truncated_png", 422, "could not be decoded"),
        (decode_image, "tiny_png", 422, "4x4 pixels"),
        (decode_audio, "photo", 415, "holds JPEG image, not audio"),
        (decode_audio, "webm", 415, "the web page converts recordings to WAV"),
        (decode_audio, "short_wav", 422, "at least 0.1 s"),
    ],
)
def test_bad_uploads_are_clear_4xx(files, call, name, status, words):
    error = refused(call, files[name], LIMITS)
    assert error.status == status and words in error.message


def test_text_must_be_utf8_and_short_enough():
    assert decode_text("Ça va très bien".encode(), LIMITS) == "Ça va très bien"
    assert decode_text(b"\xef\xbb\xbfhi", LIMITS) == "hi"  # a byte order mark is dropped
    error = refused(decode_text, b"caf\xe9", LIMITS)
    assert error.status == 400 and "0xe9 at offset 3" in error.message
    error = refused(decode_text, b"a" * 11, Limits(max_text_chars=10))
    assert error.status == 413


def test_flags():
    assert parse_flag("false", "detect_faces") is False
    assert parse_flag("1", "detect_faces") is True
    assert refused(parse_flag, "maybe", "detect_faces").status == 400


def test_limits_must_be_positive():
    with pytest.raises(ValueError, match="max_text_chars"):
        Limits(max_text_chars=0)
