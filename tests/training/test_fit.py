"""emozoo.train.fit on a tiny face model: logs, checkpoints, resumption, options, errors."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

import emozoo
from emozoo.evaluation import evaluate
from emozoo.models import get_architecture
from emozoo.training import (
    class_weights_from_counts,
    fit,
    resolve_mixed_precision,
    save_inference_weights,
    train,
)
from tests.models.helpers import SMALL_FACE
from tests.training.worker import synthetic_faces

LABELS = ["calm", "happy", "sad", "angry"]


def tiny_model() -> keras.Model:
    keras.utils.set_random_seed(0)
    return get_architecture("face_cnn")(labels=LABELS, **SMALL_FACE)


def faces(count: int, seed: int, batch: int = 16, labels=None) -> tf.data.Dataset:
    x, y = synthetic_faces(count, len(LABELS), SMALL_FACE["image_size"], seed)
    if labels is not None:
        y = np.asarray(labels, "int32")
    return tf.data.Dataset.from_tensor_slices((x, y)).batch(batch)


class StopAfter(keras.callbacks.Callback):
    """Ends training after ``epochs`` epochs, like a run cut short; records optimizer steps."""

    def __init__(self, epochs: int | None = None):
        super().__init__()
        self.epochs = epochs
        self.iterations = None

    def on_epoch_end(self, epoch, logs=None):
        self.iterations = int(self.model.optimizer.iterations.numpy())
        if self.epochs is not None and epoch + 1 >= self.epochs:
            self.model.stop_training = True


def _event_tags(folder) -> set[tuple[str, str]]:
    tags = set()
    for path in folder.glob("events.out.tfevents.*"):
        for record in tf.data.TFRecordDataset(str(path)):
            event = tf.compat.v1.Event.FromString(record.numpy())
            for value in event.summary.value:
                tags.add((value.tag, value.metadata.plugin_data.plugin_name))
    return tags


def test_head_only_fit_logs_everything_and_leaves_encoders_alone(tmp_path):
    model = tiny_model()
    before = {layer.name: [w.copy() for w in layer.get_weights()] for layer in model.layers}
    run = tmp_path / "run"
    history = emozoo.train.fit(
        model, faces(64, 0), faces(32, 1), epochs=2, freeze="encoders", log_dir=run, verbose=0
    )
    for layer in model.layers:
        same = all(
            np.array_equal(a, b)
            for a, b in zip(before[layer.name], layer.get_weights(), strict=True)
        )
        assert same == (layer.name != "predictions"), layer.name
    assert len(history.history["loss"]) == 2 and history.epoch == [0, 1]
    assert {"val_accuracy", "val_macro_f1", "learning_rate"} <= set(history.history)
    summary = history.summary
    assert summary["epochs"] == 2 and summary["resumed_from_epoch"] == 0
    assert summary["trainable_params"] == 4 * (32 + 1)
    assert summary["strategy"] == "one device" and summary["mixed_precision"] == "float32"

    for name in ("training_curves.png", "validation_confusion.png", "run.json", "history.csv"):
        assert (run / name).stat().st_size > 0, name
    assert len((run / "history.csv").read_text().splitlines()) == 3
    state = json.loads((run / "checkpoints" / "state.json").read_text())
    assert state["epoch"] == 2 and state["best"]["monitor"] == "val_accuracy"
    assert (run / "checkpoints" / "last.weights.h5").is_file()
    assert (run / "checkpoints" / "best.weights.h5").is_file()
    assert ("_hparams_/session_start_info", "hparams") in _event_tags(run)
    assert {("epoch_loss", "scalars"), ("epoch_learning_rate", "scalars")} <= _event_tags(
        run / "train"
    )
    assert {("confusion_matrix", "images"), ("epoch_macro_f1", "scalars")} <= _event_tags(
        run / "validation"
    )


@pytest.mark.distributed
def test_a_stopped_run_resumes_where_it_stopped(tmp_path):
    run = tmp_path / "run"
    train, val = faces(64, 0), faces(32, 1)
    first = StopAfter(epochs=1)
    cut = fit(
        tiny_model(), train, val, epochs=3, freeze="none", log_dir=run, callbacks=[first], verbose=0
    )
    assert cut.summary["epochs"] == 1 and first.iterations == 4

    model, second = tiny_model(), StopAfter()
    history = fit(
        model, train, val, epochs=3, freeze="none", log_dir=run, callbacks=[second], verbose=0
    )
    assert history.summary["resumed_from_epoch"] == 1
    assert len(history.history["loss"]) == 3 and len(history.history["val_accuracy"]) == 3
    assert second.iterations == 3 * 4  # the optimizer state came back with the weights
    assert history.history["loss"][0] == cut.history["loss"][0]
    # Each epoch's wall time is kept across the interruption (what the run cost).
    assert len(history.history["epoch_seconds"]) == 3
    assert all(seconds > 0 for seconds in history.history["epoch_seconds"])

    again = fit(tiny_model(), train, val, epochs=3, freeze="none", log_dir=run, verbose=0)
    assert again.summary["resumed_from_epoch"] == 3 and len(again.history["loss"]) == 3
    for a, b in zip(again.model.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)

    with pytest.raises(ValueError, match="another run.*resume=False"):
        fit(tiny_model(), train, val, epochs=3, freeze="encoders", log_dir=run, verbose=0)


def test_class_weights_early_stopping_and_bfloat16(tmp_path):
    labels = [0] * 40 + [1] * 12 + [2] * 8 + [3] * 4
    model = tiny_model()
    history = fit(
        model,
        faces(64, 0, labels=labels),
        faces(32, 1),
        epochs=6,
        learning_rate=1e-7,
        warmup_epochs=0,
        class_weight="balanced",
        early_stopping=1,
        mixed_precision="mixed_bfloat16",
        verbose=0,
    )
    weights = json.loads(history.summary["hparams"]["class_weight"])
    assert weights["0"] == pytest.approx(64 / (4 * 40)) and weights["3"] == pytest.approx(4.0)
    assert history.summary["stopped_early"] and len(history.history["loss"]) < 6
    assert history.summary["mixed_precision"] == "mixed_bfloat16"
    assert all(np.isfinite(history.history["loss"]))
    assert model.dtype_policy.name == "float32"  # the user's model is untouched
    assert history.summary["log_dir"] is None


def test_helpers():
    assert class_weights_from_counts([30, 10, 0]) == {0: 2 / 3, 1: 2.0, 2: 1.0}
    assert resolve_mixed_precision("auto") is None  # no GPU here
    assert resolve_mixed_precision("off") is None
    assert resolve_mixed_precision("mixed_float16") == "mixed_float16"
    with pytest.raises(ValueError, match="mixed_precision"):
        resolve_mixed_precision("fp8")


def test_bad_arguments_are_clear_errors(monkeypatch):
    model, train = tiny_model(), faces(16, 0)
    headless = get_architecture("face_cnn")(include_top=False, **SMALL_FACE)
    with pytest.raises(ValueError, match="no classifier"):
        fit(headless, train)
    with pytest.raises(TypeError, match="tf.data.Dataset"):
        fit(model, (np.zeros((2, 32, 32, 1)), np.zeros(2)))
    unnamed = tf.data.Dataset.from_tensor_slices((np.zeros((2, 32, 32, 1), "float32"), [0, 1]))
    with pytest.raises(ValueError, match=r"lacks model inputs \['face'\]"):
        fit(model, unnamed.batch(2))
    with pytest.raises(ValueError, match="empty"):
        fit(model, train.take(0))
    with pytest.raises(ValueError, match="epochs"):
        fit(model, train, epochs=0)
    with pytest.raises(ValueError, match="pass val_ds"):
        fit(model, train, early_stopping=2)
    with pytest.raises(ValueError, match="Unknown freeze policy"):
        fit(model, train, freeze="everything")
    with pytest.raises(ValueError, match="Unknown strategy"):
        fit(model, train, strategy="horovod")
    with pytest.raises(ValueError, match="needs the JAX backend"):
        fit(model, train, strategy="data_parallel")
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ValueError, match="TF_CONFIG"):
        fit(model, train, strategy="multi_worker")
    with pytest.raises(ValueError, match="class_weight key 'joy'"):
        fit(model, train, class_weight={"joy": 2.0})
    with pytest.raises(ValueError, match="class_weight must be"):
        fit(model, train, class_weight="inverse")
    with pytest.raises(ValueError, match="Label index 9 is outside"):
        fit(model, faces(4, 0, labels=[0, 1, 2, 9]))


def test_training_learns_a_separable_toy_problem(tmp_path):
    import keras

    from emozoo.models import ClassifierHead

    rng = np.random.default_rng(0)
    features = rng.normal(size=(256, 4)).astype(np.float32)
    labels = (features[:, 0] + features[:, 1] > 0).astype(np.int32)
    ds = tf.data.Dataset.from_tensor_slices(({"x": features}, labels)).batch(32)
    inputs = keras.Input((4,), name="x")
    model = keras.Model(
        {"x": inputs},
        ClassifierHead(["neg", "pos"])(keras.layers.Dense(8, activation="relu")(inputs)),
    )
    history = train(
        model,
        ds,
        ds,
        epochs=6,
        checkpoint_path=tmp_path / "best.weights.h5",
        log_dir=tmp_path / "logs",
        learning_rate=3e-2,
        verbose=0,
    )
    assert (tmp_path / "best.weights.h5").is_file() and (
        tmp_path / "logs" / "history.csv"
    ).is_file()
    assert max(history.history["val_accuracy"]) > 0.9
    report = evaluate(model, ds, name="toy")  # the model holds its best epoch's weights
    assert report.metrics["accuracy"] == pytest.approx(
        max(history.history["val_accuracy"]), abs=1e-6
    )
    with pytest.raises(ValueError, match="empty"):
        evaluate(model, ds.take(0))

    lean = save_inference_weights(model, tmp_path / "lean.weights.h5")
    import h5py

    with h5py.File(tmp_path / "best.weights.h5") as checkpoint, h5py.File(lean) as shipped:
        assert len(checkpoint["optimizer/vars"]) > 0 and len(shipped.get("optimizer/vars", {})) == 0
    fresh = keras.Model.from_config(model.get_config())
    fresh.load_weights(lean)
    x = {"x": features[:8]}
    np.testing.assert_allclose(fresh.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)
