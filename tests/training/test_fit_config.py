"""fit's settings as one FitConfig (three groups), and the prepared-model mode that the
pretraining recipes, the heads over cached features and the old loop.train use."""

from __future__ import annotations

import numpy as np
import pytest

from emozoo.training import FitConfig, fit
from emozoo.training.config import OPTION_GROUPS, PREPARED_MODEL
from emozoo.training.distribute import Distribution
from tests.training.test_fit import faces, tiny_model


def test_flat_options_land_in_their_groups_and_come_back():
    config = FitConfig.from_options(
        epochs=4, learning_rate=3e-4, class_weight="balanced", freeze="lora", lora_rank=8,
        log_dir="runs/x", seed=1,
    )  # fmt: skip
    assert config.epochs == 4
    assert (config.optimization.learning_rate, config.optimization.class_weight) == (
        3e-4,
        "balanced",
    )
    assert (config.policy.freeze, config.policy.lora_rank) == ("lora", 8)
    assert (config.run.log_dir, config.run.seed, config.run.resume) == ("runs/x", 1, True)
    assert FitConfig.from_options(**config.options()) == config
    assert set(config.options()) == {"epochs", *OPTION_GROUPS}
    # A change makes a copy; the groups not named stay as they were.
    shorter = config.replace(epochs=2, verbose=0)
    assert (shorter.epochs, shorter.run.verbose, shorter.policy) == (2, 0, config.policy)
    assert config.epochs == 4
    prepared = FitConfig.for_prepared_model(epochs=3)
    assert {key: prepared.options()[key] for key in PREPARED_MODEL} == PREPARED_MODEL


def test_unknown_options_are_named_before_anything_trains():
    with pytest.raises(TypeError, match=r"'lerning_rate' \(did you mean 'learning_rate'\?\)"):
        FitConfig.from_options(lerning_rate=1e-3)
    with pytest.raises(TypeError, match="'freze'"):
        fit(tiny_model(), faces(16, 0), freze="none")


def test_fit_runs_its_config_with_the_keywords_on_top():
    config = FitConfig.from_options(epochs=3, learning_rate=3e-3, freeze="none", verbose=0)
    model = tiny_model()
    history = fit(model, faces(32, 0), faces(16, 1), config=config, epochs=1)
    hparams = history.summary["hparams"]
    assert (hparams["epochs"], hparams["learning_rate"], hparams["freeze"]) == (1, 3e-3, "none")
    assert len(history.history["loss"]) == 1
    assert getattr(model, "optimizer", None) is None  # a policy trains a working copy


def test_a_prepared_model_trains_in_place_on_one_device(tmp_path):
    model = tiny_model()
    for layer in model.layers[:-1]:
        layer.trainable = False  # the caller chose what trains
    frozen_before = [w.copy() for layer in model.layers[:-1] for w in layer.get_weights()]
    config = FitConfig.for_prepared_model(
        epochs=2, learning_rate=1e-2, verbose=0, checkpoint=tmp_path / "best.weights.h5"
    )
    history = fit(model, faces(32, 0), faces(16, 1), config=config)
    frozen_after = [w for layer in model.layers[:-1] for w in layer.get_weights()]
    assert all(np.array_equal(a, b) for a, b in zip(frozen_before, frozen_after, strict=True))
    assert getattr(model, "optimizer", None) is not None  # trained itself, compiled
    assert history.summary["policy"].startswith("freeze=None")
    assert history.summary["trainable_params"] == 4 * (32 + 1)
    assert (tmp_path / "best.weights.h5").is_file()
    assert history.summary["mixed_precision"] == "float32"
    with pytest.raises(ValueError, match="in place, on one device"):
        fit(model, faces(16, 0), config=config, strategy=Distribution("mirrored", 2))
