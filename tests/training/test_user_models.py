"""User registrations persist under $EMOZOO_HOME; fine-tuned models save and reload."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

import emozoo
from emozoo.models import get_labels
from emozoo.paths import PROJECT_ROOT
from emozoo.registry import get_entry, unregister_model, user_models_dir
from emozoo.training import apply_policy, save_model
from tests.models.helpers import random_inputs
from tests.training.conftest import LABELS


def _emozoo_list(home) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-m", "emozoo", "list", "--json"],
        env=dict(os.environ, EMOZOO_HOME=str(home)),
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return [row["name"] for row in json.loads(result.stdout)]


def test_registrations_persist_for_later_processes(tmp_path, monkeypatch):
    monkeypatch.setenv("EMOZOO_HOME", str(tmp_path / "home"))
    model = emozoo.load("face_cnn", weights=None, labels=LABELS)
    weights = tmp_path / "mine.weights.h5"
    model.save_weights(weights)
    emozoo.register_model("persisted_face", base="face_cnn", weights=weights, labels=LABELS)
    saved = tmp_path / "home" / "models" / "persisted_face.json"
    assert saved.is_file() and json.loads(saved.read_text())["labels"] == LABELS
    assert "persisted_face" in _emozoo_list(tmp_path / "home")
    assert "persisted_face" not in _emozoo_list(tmp_path / "elsewhere")

    emozoo.register_model("session_face", base="face_cnn", persist=False)
    assert not (tmp_path / "home" / "models" / "session_face.json").exists()
    unregister_model("session_face")

    unregister_model("persisted_face")
    assert not saved.exists() and weights.is_file()
    assert "persisted_face" not in _emozoo_list(tmp_path / "home")


def test_the_registry_follows_emozoo_home(tmp_path, monkeypatch):
    first, second = tmp_path / "a", tmp_path / "b"
    monkeypatch.setenv("EMOZOO_HOME", str(first))
    emozoo.register_model("home_a_face", base="face_cnn")
    assert "home_a_face" in emozoo.list_models()
    monkeypatch.setenv("EMOZOO_HOME", str(second))
    assert "home_a_face" not in emozoo.list_models()
    monkeypatch.setenv("EMOZOO_HOME", str(first))
    assert get_entry("home_a_face").architecture == "face_cnn"
    unregister_model("home_a_face")


def test_a_bad_user_file_is_skipped_with_a_warning_naming_it(tmp_path, monkeypatch):
    builtin = json.dumps(get_entry("face_cnn").to_dict())
    monkeypatch.setenv("EMOZOO_HOME", str(tmp_path))
    folder = user_models_dir()
    folder.mkdir(parents=True)
    (folder / "broken.json").write_text("{not json")
    (folder / "face_cnn.json").write_text(builtin)
    with pytest.warns(UserWarning) as caught:
        names = emozoo.list_models()
    messages = " ".join(str(w.message) for w in caught)
    assert "broken.json" in messages and "built-in" in messages
    assert "face_cnn" in names and "broken" not in names


def test_register_model_name_rules(tmp_path, monkeypatch):
    monkeypatch.setenv("EMOZOO_HOME", str(tmp_path))
    with pytest.raises(ValueError, match="Invalid model name"):
        emozoo.register_model("../escape", base="face_cnn")
    with pytest.raises(ValueError, match="built-in model"):
        emozoo.register_model("face_cnn", base="face_cnn", overwrite=True)
    assert not user_models_dir().exists()


def test_save_model_registers_a_loadable_keras_file(tiny_base, tmp_path):
    model = emozoo.load(tiny_base, weights=None, labels=LABELS)
    apply_policy(model, "lora", lora_rank=2)  # a LoRA model is saved merged
    for variable in model.weights:
        if "lora_" in variable.path and variable.path.endswith("_b"):
            variable.assign(np.full(variable.shape, 0.02, "float32"))
    inputs = random_inputs(model, batch=3)
    expected = np.asarray(model.predict(inputs, verbose=0))

    path = save_model(
        model, "tiny_saved", base=tiny_base, training_data="unit test", metrics={"val": {"a": 1}}
    )
    assert path == user_models_dir() / "tiny_saved.keras"
    assert "lora" not in json.dumps(keras.saving.load_model(path, safe_mode=True).get_config())
    entry = get_entry("tiny_saved")
    assert entry.labels == tuple(LABELS) and entry.weights.training_data == "unit test"
    loaded = emozoo.load("tiny_saved")
    assert get_labels(loaded) == tuple(LABELS)
    np.testing.assert_allclose(loaded.predict(inputs, verbose=0), expected, atol=1e-5)

    # A later process finds it by name (what `emozoo export tiny_saved` relies on).
    script = (
        "import sys, numpy as np, emozoo\n"
        "m = emozoo.load('tiny_saved')\n"
        "np.save(sys.argv[1], m.predict({'face': np.load(sys.argv[2])}, verbose=0))\n"
    )
    np.save(tmp_path / "inputs.npy", inputs["face"])
    result = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "out.npy"), str(tmp_path / "inputs.npy")],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    np.testing.assert_allclose(np.load(tmp_path / "out.npy"), expected, atol=1e-5)
    unregister_model("tiny_saved")
    assert path.is_file()  # the weights file is the user's to delete


def test_save_model_errors(tiny_base, tmp_path):
    headless = emozoo.load(tiny_base, weights=None, include_top=False)
    with pytest.raises(ValueError, match="no classifier"):
        save_model(headless, "x_headless")
    model = emozoo.load(tiny_base, weights=None, labels=LABELS)
    anonymous = keras.Model(model.inputs, model.outputs, name="not_registered")
    with pytest.raises(ValueError, match="pass base="):
        save_model(anonymous, "x_anonymous")
    with pytest.raises(ValueError, match=r"must end in \.keras"):
        save_model(model, "x_suffix", tmp_path / "model.h5")
    (tmp_path / "taken.keras").write_text("")
    with pytest.raises(ValueError, match="exists; pass overwrite=True"):
        save_model(model, "x_taken", tmp_path / "taken.keras")
    with pytest.raises(ValueError, match="does not load as a face_cnn"):
        save_model(model, "x_mismatch", tmp_path / "mismatch.keras", base="face_cnn")
    assert "x_mismatch" not in emozoo.list_models()
