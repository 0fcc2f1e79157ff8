"""``emozoo predict``, ``emozoo video`` and ``emozoo demo``."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import emozoo.cli.predict as cli_predict
from emozoo.cli import main
from emozoo.inference.demo import sample_path
from tests.preprocessing.helpers import openface_csv

TEXT = "I can't believe this happened!"


@pytest.fixture
def shared(monkeypatch, rec):
    """Commands reuse the session's recognizer instead of loading the model each time."""
    monkeypatch.setattr(cli_predict, "_recognizer", lambda args, **kwargs: rec)
    return rec


def test_predict_json(shared, astronaut, capsys):
    code = main(
        [
            "predict",
            "--image",
            str(astronaut),
            "--text",
            TEXT,
            "--audio",
            str(sample_path("happy.wav")),
            "--json",
        ]
    )
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert data["modalities_used"] == ["face", "text", "audio"]
    assert data["top"] in data["probabilities"] and len(data["probabilities"]) == 7
    assert len(data["faces"]) == 1 and len(data["faces"][0]["box"]) == 4


def test_predict_text_output_plot_and_saliency(shared, astronaut, tmp_path, capsys):
    plot, heat = tmp_path / "p.png", tmp_path / "s.png"
    code = main(
        ["predict", "--image", str(astronaut), "--plot", str(plot), "--saliency", str(heat)]
    )
    out = capsys.readouterr().out
    assert code == 0 and "happy" in out and "face 1: box" in out
    assert plot.stat().st_size > 1000 and heat.stat().st_size > 1000


def test_predict_no_detect_on_a_crop(shared, media, capsys):
    assert main(["predict", "--image", str(media["crop"]), "--no-detect", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["faces"][0]["box"] == [0, 0, 95, 95]


def test_predict_nothing_usable_exits_1(shared, media, capsys):
    assert main(["predict", "--image", str(media["no_face"])]) == 1
    assert "no face found" in capsys.readouterr().out
    assert main(["predict", "--text", " ", "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["not_used"] == {"text": "empty text"}


def test_predict_bad_input_exits_2(shared, media, tmp_path, capsys):
    assert main(["predict", "--image", str(tmp_path / "missing.jpg")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("emozoo: error:") and "missing.jpg" in err
    assert main(["predict", "--audio", str(media["corrupt_audio"])]) == 2
    assert "corrupt.wav" in capsys.readouterr().err
    assert main(["predict"]) == 2
    assert "--image, --text, --audio" in capsys.readouterr().err


def test_video_command(shared, videos, tmp_path, capsys):
    out, table = tmp_path / "timeline.png", tmp_path / "t.csv"
    code = main(
        ["video", str(videos["silent"]), "--every", "1", "--out", str(out), "--csv", str(table)]
    )
    text = capsys.readouterr().out
    assert code == 0 and "face 0:" in text and out.stat().st_size > 1000 and table.exists()
    assert main(["video", str(videos["silent"]), "--every", "1", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["rows"] and data["summary"][0]["track"] == 0
    assert main(["video", str(videos["corrupt"])]) == 2
    assert "corrupt.mp4" in capsys.readouterr().err


def test_demo_in_a_fresh_process(tmp_path):
    """What a new user runs first: the real command, the real model, the bundled samples."""
    result = subprocess.run(
        [sys.executable, "-m", "emozoo", "demo", "--out", "demo.png"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    for expected in ("sample", "prediction", "happy", "angry", "sad", "face alone"):
        assert expected in result.stdout
    assert (tmp_path / "demo.png").stat().st_size > 10_000


def test_cli_predict_openface(tmp_path, capsys):
    path = openface_csv(tmp_path / "clip.csv", [(0.0, 0.9, 1, 0.5)])
    assert main(["predict", "--openface", str(path), "--json"]) == 0
    out = capsys.readouterr().out
    assert '"face_au"' in out and '"model": "face_au"' in out
