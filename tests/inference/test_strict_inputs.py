"""The input contract: each bad input is a clear error naming it, or an honest
``not_used`` with a warning; never a confident answer made from nothing."""

from __future__ import annotations

import io
import sys

import cv2
import numpy as np
import pytest

import emozoo
from emozoo.cli import main as cli_main


@pytest.fixture(scope="module")
def pre():
    return emozoo.load_preprocessor("cnn_lstm_fusion")


@pytest.mark.parametrize("text", ["\x00\x00\x00", "\x00 \x07\u200b\ufeff", "\x1b\x7f"])
def test_control_characters_alone_are_no_text(rec, text):
    result = rec.predict(text=text, audio=None)
    assert "text" not in result.modalities_used
    assert "empty" in result.not_used["text"]


def test_text_the_vocabulary_does_not_know_is_not_used(rec):
    with pytest.warns(UserWarning, match="no word the model knows"):
        result = rec.predict(text="我今天非常生气，真的很生气")
    assert "text" not in result.modalities_used
    assert "unknown" in result.not_used["text"]


def test_known_words_among_unknown_ones_are_used(rec):
    result = rec.predict(text="我 angry 生气")
    assert "text" in result.modalities_used


def test_face_arrays_with_odd_channel_counts_are_errors(pre):
    with pytest.raises(ValueError, match="5 channels"):
        pre(face=np.zeros((48, 48, 5), np.uint8))
    assert pre(face=np.zeros((2, 48, 48), np.uint8))["face"].shape == (2, 48, 48, 1)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_face_arrays_with_nan_or_inf_are_errors(pre, bad):
    face = np.full((48, 48), 100.0, np.float32)
    face[3, 4] = bad
    with pytest.raises(ValueError, match="Face image 0.*NaN or infinite"):
        pre(face=face)


def test_bytes_text_is_a_type_error_that_says_decode(pre):
    with pytest.raises(TypeError, match="bytes.*decode"):
        pre(text=b"I am furious")
    with pytest.raises(TypeError, match="Text 1 is bytes"):
        pre(text=["fine", b"I am furious"])


def test_text_with_lone_surrogates_is_a_value_error(pre):
    with pytest.raises(ValueError, match="Text 0 is not valid Unicode"):
        pre(text="caf\udce9")


def test_cli_rejects_non_utf8_text_with_a_message_about_the_input(capsys):
    # A shell passes the byte 0xff through; Python keeps it as the surrogate \udcff.
    assert cli_main(["predict", "--text", "ol\udcff"]) == 2
    err = capsys.readouterr().err
    assert "--text is not valid UTF-8 (byte 0xff" in err
    assert "Error converting" not in err


def test_cli_reads_long_text_from_a_file_and_from_stdin(tmp_path, capsys, monkeypatch):
    long_text = "I am absolutely furious about this. " * 20000  # ~700 kB, past ARG_MAX
    path = tmp_path / "long.txt"
    path.write_text(long_text, encoding="utf-8")
    assert cli_main(["predict", "--text-file", str(path), "--json"]) == 0
    from_file = capsys.readouterr().out
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(long_text.encode())))
    assert cli_main(["predict", "--text", "-", "--json"]) == 0
    assert capsys.readouterr().out == from_file
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("caf\xe9".encode("latin-1"))
    assert cli_main(["predict", "--text-file", str(bad)]) == 2
    assert f"--text-file {bad} is not valid UTF-8 (byte 0xe9" in capsys.readouterr().err
    assert cli_main(["predict", "--text", "x", "--text-file", str(path)]) == 2
    assert "not both" in capsys.readouterr().err


def test_no_detect_errors_name_the_file(tmp_path, capsys):
    tiny = tmp_path / "tiny_face.png"
    cv2.imwrite(str(tiny), np.zeros((4, 4, 3), np.uint8))
    assert cli_main(["predict", "--image", str(tiny), "--no-detect"]) == 2
    assert str(tiny) in capsys.readouterr().err
    missing = tmp_path / "missing.png"
    assert cli_main(["predict", "--image", str(missing), "--no-detect"]) == 2
    assert str(missing) in capsys.readouterr().err
