"""Training recipes: zoo_configs/<name>.yaml for every pretrained model, read into the
typed Recipe with clear errors; the cards keep what the weights are."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import yaml

import emozoo
from emozoo.registry import get_entry, list_models, split_version
from emozoo.training.recipe import (
    RECIPE_KEYS,
    ZOO_CONFIGS_DIR,
    Alignment,
    Distillation,
    FrozenFeatures,
    Recipe,
    RecipeError,
    load_recipe,
    recipe_keys_table,
    recipe_path,
)

CARDS = sorted(Path(emozoo.__file__).parent.glob("models/*/*.json"))
BUILT_IN = [get_entry(p.stem) for p in CARDS]
#: Every shipped set of weights, kept earlier versions (``cnn_lstm_fusion@v1``) included.
PRETRAINED = [
    name
    for name in list_models(pretrained=True, versions=True)
    if split_version(name)[0] in {card.stem for card in CARDS}
]
MINIMAL = {
    "model": "face_cnn",
    "train": [["fer2013", "Training"]],
    "val": [["fer2013", "PublicTest"]],
    "epochs": 3,
    "batch_size": 32,
}


@pytest.mark.parametrize("name", PRETRAINED)
def test_every_pretrained_model_has_a_yaml_recipe_that_parses(name):
    path = ZOO_CONFIGS_DIR / f"{name}.yaml"
    assert path == recipe_path(name) and path.is_file(), f"{name} has no {path}"
    recipe = Recipe.from_yaml(path)
    assert recipe.model == name and recipe.epochs >= 1 and recipe.evaluate
    # The registry reads the same file into the entry (tools and evaluation read it there).
    assert Recipe.for_model(name) == recipe == load_recipe(name) == load_recipe(str(path))
    assert get_entry(name).recipe == yaml.safe_load(path.read_text(encoding="utf-8"))
    # Written and read again, a recipe is the same recipe.
    assert Recipe.from_dict(recipe.to_dict()) == recipe


def test_cards_keep_what_the_weights_are_and_every_recipe_names_a_model():
    for card in CARDS:
        assert "recipe" not in json.loads(card.read_text(encoding="utf-8")), card
    names = set(list_models(versions=True))
    for path in sorted(ZOO_CONFIGS_DIR.glob("*.yaml")):
        recipe = Recipe.from_yaml(path)
        assert recipe.model == path.stem and recipe.model in names, path


def test_methods_and_typed_blocks():
    assert Recipe.for_model("face_vgg").method == "whole"
    assert Recipe.for_model("face_vgg").train_config == {"flip_average": False}
    whisper = Recipe.for_model("audio_whisper")
    assert whisper.method == "frozen_features"
    assert isinstance(whisper.frozen_features, FrozenFeatures)
    assert whisper.frozen_features.layer == "layer_statistics"
    distilled = Recipe.for_model("audio_lstm_distilled")
    assert isinstance(distilled.distill, Distillation) and distilled.distill.teachers == [
        "audio_whisper"
    ]
    aligned = Recipe.for_model("cnn_lstm_fusion_aligned")
    assert aligned.method == "pairs" and isinstance(aligned.alignment, Alignment)
    assert aligned.copies_of("text") == 4 and aligned.copies_of("face") == 1
    assert Recipe.for_model("text_mpnet").method == "frozen_blocks"
    assert Recipe.for_model("face_au").method == "external"
    # A recipe's schedule, as fit() options.
    assert Recipe.from_dict(MINIMAL).fit_options() == {
        "epochs": 3,
        "learning_rate": 1e-3,
        "weight_decay": 1e-4,
        "warmup_epochs": 1.0,
        "label_smoothing": 0.0,
    }


def test_replace_checks_again_and_to_dict_leaves_defaults_out():
    recipe = Recipe.from_dict({**MINIMAL, "distill": {"teacher": "audio_whisper"}})
    assert recipe.to_dict() == {**MINIMAL, "distill": {"teacher": "audio_whisper"}}
    longer = recipe.replace(epochs=9, learning_rate=3e-4)
    assert (longer.epochs, longer.learning_rate, longer.distill) == (9, 3e-4, recipe.distill)
    with pytest.raises(RecipeError, match="epochs must be a positive integer"):
        recipe.replace(epochs=0)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"epoch": 3}, r"unknown recipe keys 'epoch' \(did you mean 'epochs'\?\)"),
        ({"learning_rate": "fast"}, "learning_rate must be a positive number, got 'fast'"),
        ({"augment": "yes"}, "augment must be true or false"),
        ({"train": [["fer2013"]]}, r"each train source is \[dataset, split\]"),
        ({"train": "pairs"}, "train and val are both 'pairs'"),
        ({"train": "pairs", "val": "pairs"}, "names its encoders"),
        (
            {"frozen_blocks": 8, "distill": {"teacher": "x"}},
            "one training method, not frozen_blocks and distill",
        ),
        ({"alignment": {"weight": 1.0}}, "alignment is a loss of fused heads"),
        ({"distill": {"temperature": 2.0}}, "distill: .*teacher"),
        ({"distill": {"teacher": "x", "tau": 2}}, r"unknown keys \['tau'\] in distill"),
        ({"frozen_features": "layer_statistics"}, "frozen_features must be a mapping"),
        ({"mixed_precision": "fp8"}, "mixed_precision must be one of"),
    ],
)
def test_bad_recipes_are_clear_errors_naming_the_key(change, message):
    with pytest.raises(RecipeError, match=message):
        Recipe.from_dict({**MINIMAL, **change}, source="my.yaml")


def test_missing_keys_bad_files_and_unknown_names(tmp_path):
    with pytest.raises(RecipeError, match="a recipe needs 'epochs', 'batch_size'"):
        Recipe.from_dict({k: v for k, v in MINIMAL.items() if k not in ("epochs", "batch_size")})
    with pytest.raises(RecipeError, match="trains 'face_cnn', not 'face_vgg'"):
        Recipe.from_dict(MINIMAL, model="face_vgg")
    broken = tmp_path / "broken.yaml"
    broken.write_text("model: [unclosed\n")
    with pytest.raises(RecipeError, match="broken.yaml: not valid YAML"):
        load_recipe(broken)
    listed = tmp_path / "listed.yaml"
    listed.write_text("- epochs: 3\n")
    with pytest.raises(RecipeError, match="listed.yaml: a recipe is a mapping"):
        load_recipe(listed)
    # yaml.safe_load: no Python objects from a recipe file.
    unsafe = tmp_path / "unsafe.yaml"
    unsafe.write_text("model: !!python/object/apply:os.system ['true']\n")
    with pytest.raises(RecipeError, match="not valid YAML"):
        load_recipe(unsafe)
    with pytest.raises(FileNotFoundError, match="nowhere.yaml"):
        load_recipe(tmp_path / "nowhere.yaml")
    with pytest.raises(RecipeError, match="fusion_transformer has no training recipe"):
        load_recipe("fusion_transformer")
    assert set(RECIPE_KEYS) >= {"distill", "frozen_features", "train", "val", "evaluate"}


def test_the_readme_lists_every_recipe_key():
    readme = (ZOO_CONFIGS_DIR / "README.md").read_text(encoding="utf-8")
    generated = readme.split("<!-- recipe keys: generated -->\n")[1].split("\n<!-- end")[0]
    assert generated == recipe_keys_table(), "rewrite the table: recipe_keys_table()"
    assert set(RECIPE_KEYS) == {f.name for f in dataclasses.fields(Recipe)} - {"source"}
