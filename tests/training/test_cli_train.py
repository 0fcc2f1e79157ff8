"""``emozoo train``: a manifest in, a registered fine-tuned model out."""

from __future__ import annotations

import json

import numpy as np

import emozoo
from emozoo.cli import main
from emozoo.cli.train import FREEZE_CHOICES, MIXED_PRECISION_CHOICES, STRATEGY_CHOICES
from emozoo.models import get_labels
from emozoo.registry import get_entry, unregister_model
from emozoo.training import MIXED_PRECISION, POLICIES, STRATEGIES
from tests.training.conftest import LABELS


def test_cli_choices_match_the_api():
    assert tuple(POLICIES) == FREEZE_CHOICES
    assert STRATEGY_CHOICES == STRATEGIES
    assert MIXED_PRECISION_CHOICES == MIXED_PRECISION


def test_train_fine_tunes_saves_and_registers(tiny_base, face_manifest, tmp_path, capsys):
    args = [
        "train",
        "--model",
        tiny_base,
        "--manifest",
        str(face_manifest),
        "--labels",
        ",".join(LABELS),
        "--epochs",
        "2",
        "--weights",
        "none",
        "--freeze",
        "none",
        "--batch-size",
        "8",
        "--out",
        str(tmp_path / "run"),
        "--name",
        "tiny_cli",
        "--verbose",
        "0",
    ]
    assert main(args) == 0
    out = capsys.readouterr().out
    result = json.loads(out.strip().splitlines()[-1])
    assert result["name"] == "tiny_cli" and result["epochs"] == 2
    assert "registered as 'tiny_cli'" in out
    split = tmp_path / "run" / "split"
    assert len((split / "val.csv").read_text().splitlines()) - 1 == 8  # 20% of each label
    assert (tmp_path / "run" / "training_curves.png").is_file()
    entry = get_entry("tiny_cli")
    assert entry.labels == tuple(LABELS) and entry.weights.file == result["file"]
    assert "validation" in entry.weights.metrics
    model = emozoo.load("tiny_cli")
    assert get_labels(model) == tuple(LABELS)
    assert np.isfinite(model.predict({"face": np.zeros((1, 32, 32, 1))}, verbose=0)).all()

    # The name is taken now: refused before any training.
    assert main(args) == 2
    assert "already registered" in capsys.readouterr().err
    unregister_model("tiny_cli")


def test_train_errors_are_clear(tiny_base, face_manifest, tmp_path, capsys):
    base = ["train", "--model", tiny_base, "--manifest", str(face_manifest), "--labels"]
    assert main([*base, "calm"]) == 2
    assert "at least two" in capsys.readouterr().err
    assert (
        main(
            [
                "train",
                "--model",
                tiny_base,
                "--manifest",
                str(tmp_path / "no.csv"),
                "--labels",
                "a,b",
            ]
        )
        == 2
    )
    assert "no.csv does not exist" in capsys.readouterr().err
    assert (
        main(
            [
                "train",
                "--model",
                "tiny_face_bas",
                "--manifest",
                str(face_manifest),
                "--labels",
                "a,b",
            ]
        )
        == 2
    )
    assert "Did you mean 'tiny_face_base'" in capsys.readouterr().err
    assert main([*base, "calm,joy", "--weights", "none", "--out", str(tmp_path / "r")]) == 2
    assert "happy" in capsys.readouterr().err  # unknown label names are listed
