"""The command line mirrors the Python API."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import entry_points

import pytest

import emozoo
from emozoo.cli import main


def test_console_script_is_installed():
    (script,) = entry_points(group="console_scripts", name="emozoo")
    assert script.value == "emozoo.cli:main"


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


def test_python_dash_m_runs_the_cli():
    result = subprocess.run(
        [sys.executable, "-m", "emozoo", "list", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert {r["name"] for r in json.loads(result.stdout)} == set(emozoo.list_models())


def test_native_log_lines_are_filtered_and_the_rest_passes():
    script = (
        "import os, sys\n"
        "from emozoo.cli.startup import native_logs_filtered\n"
        "with native_logs_filtered():\n"
        "    os.write(2, b'I0000 00:00:1795526107.996630   11534 port.cc:153] oneDNN notice\\n')\n"
        "    os.write(2, b'WARNING: All log messages before absl::InitializeLog() is called\\n')\n"
        "    print('a real warning', file=sys.stderr)\n"
        "    os.write(2, b'E0000 00:00:1795526107.9966   11534 cuda_platform.cc:52] cuInit\\n')\n"
        "print('after the block', file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0
    assert result.stderr.splitlines() == ["a real warning", "after the block"]


def test_commands_that_load_tensorflow_print_no_native_logs():
    result = subprocess.run(
        [sys.executable, "-m", "emozoo", "info", "face_cnn"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "face_cnn" in result.stdout
    assert "I0000" not in result.stderr and "cuInit" not in result.stderr, result.stderr


@pytest.mark.parametrize("name", ["face_cnn", "text_minilm", "cnn_lstm_fusion", "audio_whisper"])
def test_info_from_the_card_matches_the_built_model(name):
    from emozoo.registry import model_info

    card, built = model_info(name, build=False), model_info(name, build=True)
    for key in ("params", "inputs", "output", "config"):
        assert card[key] == built[key], key


def test_info_starts_no_tensorflow():
    code = (
        "import sys; from emozoo.cli import main; main(['info', 'cnn_lstm_fusion']); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', 'jax')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "parameters     4,556,855" in out.stdout  # face_vgg + text_bilstm + audio_lstm + head
    assert out.stdout.strip().endswith("[]")
