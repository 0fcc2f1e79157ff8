"""emozoo pretrain: a recipe (a YAML file or a model's name) trains through fit, ships
the weights and writes the card; here on a tiny registered model and synthetic faces."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tensorflow as tf

import emozoo
import emozoo.training.pretrain as pretrain_module
from emozoo.cli import main
from emozoo.training.recipe import Recipe
from tests.models.helpers import SMALL_FACE
from tests.training.worker import synthetic_faces


class _Report:
    metrics = {"accuracy": 0.5}

    def table(self) -> str:
        return "toy report"


def _faces(count: int, seed: int, batch: int = 16) -> tf.data.Dataset:
    x, y = synthetic_faces(count, 4, SMALL_FACE["image_size"], seed)
    return tf.data.Dataset.from_tensor_slices((x, y)).batch(batch)


def test_a_recipe_trains_ships_and_writes_an_experiment_card(tiny_base, tmp_path, monkeypatch):
    recipe = Recipe.from_dict(
        {
            "model": tiny_base,
            "train": [["synthetic", "train"]],
            "val": [["synthetic", "val"]],
            "epochs": 2,
            "batch_size": 16,
            "learning_rate": 0.01,
            "augment": False,
        }
    )
    read = []
    monkeypatch.setattr(
        pretrain_module,
        "recipe_datasets",
        lambda data, preprocessor, seed: read.append(data) or (_faces(32, 0), _faces(16, 1)),
    )
    evaluated = []

    def fake_evaluation(name, weights="default", out_dir=None):
        evaluated.append((name, weights, out_dir))
        return {"toy/test": _Report()}

    monkeypatch.setattr(pretrain_module, "evaluate_registered", fake_evaluation)
    out = tmp_path / "experiment"
    summary = pretrain_module.pretrain(recipe, seed=0, out_dir=out, verbose=0)

    assert read == [recipe.to_dict()]
    weights = out / f"{tiny_base}.weights.h5"
    assert evaluated == [(tiny_base, weights, out / "reports")]
    assert summary["model"] == tiny_base and summary["metrics"] == {"toy/test": {"accuracy": 0.5}}
    card = json.loads((out / "card.json").read_text())
    assert card["recipe"].startswith(
        f"tools/pretrain.py {tiny_base} --seed 0: 2 epochs, batch 16, AdamW lr 0.01"
    )
    assert "augmentation off" in card["recipe"]
    assert card["training_data"] == "train: synthetic/train; best epoch chosen on synthetic/val"
    assert card["sha256"] == emozoo.registry.sha256_file(weights)
    state = json.loads((out / "checkpoints" / "state.json").read_text())
    assert state["epoch"] == 2 and (out / "best.weights.h5").is_file()
    # The shipped file holds the trained weights without optimizer state.
    model = emozoo.load(tiny_base, weights=None)
    model.load_weights(weights)
    x, _ = synthetic_faces(4, 4, SMALL_FACE["image_size"], 5)
    assert np.isfinite(model.predict(x, verbose=0)).all()

    # Run again into the same folder: every epoch is done, nothing retrains.
    again = pretrain_module.pretrain(recipe, seed=0, out_dir=out, verbose=0)
    assert again["size_bytes"] == summary["size_bytes"]
    assert json.loads((out / "card.json").read_text())["sha256"] == card["sha256"]


def test_cli_reads_yaml_recipes_and_applies_overrides(tmp_path, monkeypatch):
    ran = []
    monkeypatch.setattr(
        pretrain_module, "pretrain", lambda recipe, **settings: ran.append((recipe, settings))
    )
    path = tmp_path / "face_vgg_short.yaml"
    text = (emozoo.training.recipe.recipe_path("face_vgg")).read_text()
    path.write_text(text.replace("epochs: 60", "epochs: 5"))
    assert main(["pretrain", str(path), "face_cnn", "--learning-rate", "0.01", "--seed", "3"]) == 0
    (short, settings), (named, _) = ran
    assert (short.model, short.epochs, short.learning_rate) == ("face_vgg", 5, 0.01)
    assert short.train_config == {"flip_average": False}
    assert (named.model, named.learning_rate) == ("face_cnn", 0.01)
    assert settings == {"seed": 3, "log_dir": None, "out_dir": None, "verbose": 2}
    assert main(["pretrain", "face_vgg", "--epochs", "1"]) == 0
    assert ran[-1][0].epochs == 1


@pytest.mark.parametrize(
    "target, message",
    [
        ("face_au", "face_au is trained by tools/train_real_pairs.py"),
        ("fusion_transformer", "no training recipe"),
        ("no_such_model", "Unknown model 'no_such_model'"),
    ],
)
def test_cli_errors_name_the_recipe(target, message, capsys):
    assert main(["pretrain", target]) == 2
    assert message in capsys.readouterr().err


def test_cli_refuses_a_bad_recipe_file(tmp_path, capsys):
    path = tmp_path / "typo.yaml"
    path.write_text("model: face_cnn\ntrain: [[fer2013, Training]]\nval: [[fer2013, PublicTest]]\n")
    assert main(["pretrain", str(path)]) == 2
    assert "typo.yaml: a recipe needs 'epochs', 'batch_size'" in capsys.readouterr().err


def test_a_copied_recipe_runs_only_as_an_experiment(tmp_path):
    """Only zoo_configs/<name>.yaml may write the shipped weights and card."""
    copy = tmp_path / "my_face_vgg.yaml"
    copy.write_text(emozoo.training.recipe.recipe_path("face_vgg").read_text())
    recipe = emozoo.training.recipe.Recipe.from_yaml(copy)
    with pytest.raises(ValueError, match="runs as an experiment, so give out_dir"):
        pretrain_module.pretrain(recipe, seed=0, verbose=0)


def test_a_composed_head_trains_only_over_its_cards_encoders(tmp_path):
    """The head file is loaded over the card's encoders: other ones are refused up front."""
    recipe = Recipe.for_model("cnn_lstm_fusion")
    other = recipe.replace(encoders={**recipe.encoders, "face": "face_vgg"})
    run = pretrain_module.PretrainRun.create(other, out_dir=tmp_path)
    with pytest.raises(ValueError, match="not the card's"):
        pretrain_module.train_fused(run)
