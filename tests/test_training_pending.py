"""Training tests taken out of the old flat test files (``test_evaluation.py``,
``test_minilm.py``) while ``emozoo/training`` and ``tests/training/`` are being reworked
(issue 23). They move to ``tests/training/`` next to the code they test:

- ``test_training_learns_a_separable_toy_problem`` -> ``tests/training/test_fit.py``
- ``test_compile_schedule_warms_up_then_decays`` -> ``tests/training/test_optimizers.py``
- ``test_bucketed_embeddings_keep_record_order`` -> ``tests/training/test_fusion.py``
- ``test_lora_adapters_are_merged_into_shipped_weights`` -> ``tests/training/test_shipping.py``
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest
import tensorflow as tf

import emozoo
from emozoo.data import Records
from emozoo.evaluation import evaluate
from emozoo.training import compile_for_training, save_inference_weights, train


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


def test_bucketed_embeddings_keep_record_order():
    from emozoo.models import build_text_minilm
    from emozoo.training.fusion import compute_embeddings

    texts = ["so happy", "a much longer sentence about nothing at all", "sad", "angry again today"]
    records = Records("toy", "test", "text", texts, np.arange(4) % 2, ("a", "b"))
    pre = emozoo.load_preprocessor("text_minilm")
    small = {"num_layers": 1, "num_heads": 2, "hidden_dim": 8, "intermediate_dim": 16}
    fixed = build_text_minilm(include_top=False, **small)
    free = build_text_minilm(include_top=False, sequence_length=None, **small)
    free.set_weights(fixed.get_weights())
    expected = compute_embeddings(fixed, records, pre)
    got = compute_embeddings(free, records, pre, batch_size=2, bucket_by_length=True)
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_lora_adapters_are_merged_into_shipped_weights(tmp_path):
    from emozoo.models import build_text_minilm

    small = {"vocabulary_size": 50, "num_layers": 1, "num_heads": 2, "hidden_dim": 8}
    model = build_text_minilm(intermediate_dim=16, sequence_length=12, **small)
    model.get_layer("backbone").enable_lora(2)
    rng = np.random.default_rng(0)
    lora = [w for w in model.weights if "lora_kernel" in w.path]
    trainable = [w.path for w in model.get_layer("backbone").trainable_weights]
    assert lora and all("lora" in p or p.endswith("bias") for p in trainable)  # kernels frozen
    for w in lora:
        w.assign(rng.normal(0, 0.5, w.shape).astype("float32"))
    ids = rng.integers(1, 50, size=(3, 12)).astype("int32")
    expected = model.predict({"text": ids}, verbose=0)
    path = importlib.import_module("emozoo.training.pretrain").save_shipped_weights(
        model, tmp_path / "m.weights.h5", None
    )
    plain = build_text_minilm(intermediate_dim=16, sequence_length=12, **small)
    plain.load_weights(path)
    assert not any("lora" in w.path for w in plain.weights)
    np.testing.assert_allclose(plain.predict({"text": ids}, verbose=0), expected, atol=1e-5)
