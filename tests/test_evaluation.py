"""Metrics, reports and the training helpers."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tensorflow as tf

from emozoo.evaluation import EvaluationReport, confusion_matrix, evaluate, summary_metrics
from emozoo.training import compile_for_training, save_inference_weights, train


def test_metrics_on_a_hand_checked_example():
    labels = [0, 0, 0, 1, 1, 2]
    predictions = [0, 0, 1, 1, 2, 2]
    matrix = confusion_matrix(labels, predictions, 4)
    assert matrix.tolist() == [[2, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 0], [0, 0, 0, 0]]
    metrics = summary_metrics(matrix, ["a", "b", "c", "d"])
    assert metrics["accuracy"] == pytest.approx(4 / 6)
    # per class F1: a 0.8, b 0.5, c 0.6667; class d has no support and is left out
    assert metrics["macro_f1"] == pytest.approx((0.8 + 0.5 + 2 / 3) / 3)
    assert metrics["weighted_f1"] == pytest.approx((0.8 * 3 + 0.5 * 2 + 2 / 3) / 6)
    assert metrics["uar"] == pytest.approx((2 / 3 + 1 / 2 + 1) / 3)
    with pytest.raises(ValueError, match="differ in shape"):
        confusion_matrix([0, 1], [0], 2)


def test_report_files(tmp_path):
    probabilities = np.eye(3)[[0, 1, 2, 2]]
    report = EvaluationReport.from_predictions("toy", [0, 1, 2, 1], probabilities, ["x", "y", "z"])
    paths = report.save(tmp_path, "toy")
    assert json.loads(paths["json"].read_text())["metrics"]["accuracy"] == 0.75
    assert "accuracy 0.7500" in paths["table"].read_text()
    assert (
        paths["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and paths["png"].stat().st_size > 5000
    )


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


def test_compile_schedule_warms_up_then_decays():
    import emozoo

    model = emozoo.load("face_cnn", weights=None)
    compile_for_training(model, steps_per_epoch=10, epochs=5, learning_rate=1e-3, warmup_epochs=1)
    schedule = (
        model.optimizer.learning_rate
        if callable(model.optimizer.learning_rate)
        else model.optimizer._learning_rate
    )
    values = [float(schedule(step)) for step in (0, 10, 49)]
    assert values[0] < values[1] == pytest.approx(1e-3, rel=1e-3) and values[2] < 1e-4
