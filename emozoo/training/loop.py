"""Training loop setup: AdamW with warm-up and cosine decay, label smoothing, the best
checkpoint on validation, TensorBoard and CSV logs."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import keras
import tensorflow as tf

from emozoo.models import get_labels
from emozoo.training.callbacks import BEST_WEIGHTS, RunCheckpoint, read_state


def one_hot_labels(ds: tf.data.Dataset, num_classes: int) -> tf.data.Dataset:
    """Turn int labels into one-hot rows (label smoothing needs them)."""
    return ds.map(lambda x, y: (x, tf.one_hot(y, num_classes)), num_parallel_calls=tf.data.AUTOTUNE)


def warmup_cosine(
    learning_rate: float, *, steps_per_epoch: int, epochs: int, warmup_epochs: float = 1.0
) -> keras.optimizers.schedules.LearningRateSchedule:
    """Linear warm-up from 1% of ``learning_rate`` to it, then cosine decay to 1% of it.

    >>> warmup_cosine(1e-3, steps_per_epoch=10, epochs=5)(10).numpy().round(6)  # doctest: +SKIP
    0.001
    """
    total = max(1, steps_per_epoch * epochs)
    warmup = int(min(total - 1, steps_per_epoch * warmup_epochs))
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=learning_rate * 0.01 if warmup else learning_rate,
        decay_steps=total - warmup,
        alpha=0.01,
        warmup_target=learning_rate if warmup else None,
        warmup_steps=warmup,
    )


def compile_for_training(
    model: keras.Model,
    *,
    steps_per_epoch: int,
    epochs: int,
    learning_rate: float = 1e-3,
    weight_decay: float = 1e-4,
    warmup_epochs: float = 1.0,
    label_smoothing: float = 0.0,
) -> None:
    """Compile with AdamW, linear warm-up then cosine decay, categorical cross-entropy."""
    schedule = warmup_cosine(
        learning_rate, steps_per_epoch=steps_per_epoch, epochs=epochs, warmup_epochs=warmup_epochs
    )
    model.compile(
        optimizer=keras.optimizers.AdamW(learning_rate=schedule, weight_decay=weight_decay),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing),
        metrics=["accuracy"],
    )


def train(
    model: keras.Model,
    train_ds: tf.data.Dataset,
    val_ds: tf.data.Dataset,
    *,
    epochs: int,
    checkpoint_path: str | Path,
    log_dir: str | Path | None = None,
    learning_rate: float = 1e-3,
    weight_decay: float = 1e-4,
    warmup_epochs: float = 1.0,
    label_smoothing: float = 0.0,
    alignment: Mapping[str, float] | None = None,
    verbose: int | str = "auto",
    resume: bool = False,
) -> keras.callbacks.History:
    """Train ``model`` and leave it holding its best weights on ``val_ds`` (val accuracy).

    Datasets yield ``(inputs, int label)``. The best weights are also in
    ``checkpoint_path`` (a ``.weights.h5`` file); ``log_dir`` gets TensorBoard logs and a
    ``history.csv``. ``alignment={"weight": w, "temperature": t}`` adds the cross-modal
    :class:`~emozoo.training.alignment.SupervisedContrastiveAlignment` loss (weight ``w``)
    to a Transformer fusion model built over identity encoders.

    ``resume=True`` checkpoints weights and optimizer state after every epoch into the
    folder of ``checkpoint_path`` (:class:`~emozoo.training.callbacks.RunCheckpoint`) and,
    when that folder already holds an interrupted run of the same settings, continues it
    from its last complete epoch.
    """
    num_classes = len(get_labels(model))
    train_ds = one_hot_labels(train_ds, num_classes)
    val_ds = one_hot_labels(val_ds, num_classes)
    steps_per_epoch = int(train_ds.cardinality())
    if steps_per_epoch <= 0:
        steps_per_epoch = sum(1 for _ in train_ds)
    schedule = warmup_cosine(
        learning_rate, steps_per_epoch=steps_per_epoch, epochs=epochs, warmup_epochs=warmup_epochs
    )
    optimizer = keras.optimizers.AdamW(learning_rate=schedule, weight_decay=weight_decay)
    classification = keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing)
    fitted, monitor = model, "val_accuracy"
    if alignment is None:
        model.compile(optimizer=optimizer, loss=classification, metrics=["accuracy"])
    else:
        from emozoo.training.alignment import (
            ALIGNMENT_OUTPUT,
            SupervisedContrastiveAlignment,
            alignment_training_model,
        )

        fitted, monitor = alignment_training_model(model), "val_predictions_accuracy"
        fitted.compile(
            optimizer=optimizer,
            loss={
                "predictions": classification,
                ALIGNMENT_OUTPUT: SupervisedContrastiveAlignment(alignment.get("temperature", 0.1)),
            },
            loss_weights={"predictions": 1.0, ALIGNMENT_OUTPUT: alignment.get("weight", 1.0)},
            metrics={"predictions": ["accuracy"]},
        )

        def targets(x, y):
            return x, {"predictions": y, ALIGNMENT_OUTPUT: tf.argmax(y, axis=-1)}

        train_ds, val_ds = train_ds.map(targets), val_ds.map(targets)
    checkpoint_path = Path(checkpoint_path)
    checkpoint_path.parent.mkdir(parents=True, exist_ok=True)
    if resume:
        if checkpoint_path.name != BEST_WEIGHTS:
            raise ValueError(
                f"resume=True keeps the best weights in {BEST_WEIGHTS}, not {checkpoint_path.name}"
            )
        fingerprint = {
            "model": model.name,
            "params": int(model.count_params()),
            "epochs": epochs,
            "steps_per_epoch": steps_per_epoch,
            "learning_rate": learning_rate,
            "weight_decay": weight_decay,
            "label_smoothing": label_smoothing,
        }
        state = read_state(checkpoint_path.parent)
        if state is not None and state.get("fingerprint") != fingerprint:
            raise ValueError(
                f"{checkpoint_path.parent} holds checkpoints of another run "
                f"({state.get('fingerprint')}); this run is {fingerprint}. Delete the folder "
                "or choose another one."
            )
        saver = RunCheckpoint(
            checkpoint_path.parent, fingerprint=fingerprint, state=state, monitor=monitor
        )
    else:
        saver = keras.callbacks.ModelCheckpoint(
            checkpoint_path,
            monitor=monitor,
            mode="max",
            save_best_only=True,
            save_weights_only=True,
        )
    callbacks = [saver]
    if log_dir is not None:
        log_dir = Path(log_dir)
        log_dir.mkdir(parents=True, exist_ok=True)
        callbacks += [
            keras.callbacks.TensorBoard(str(log_dir)),
            keras.callbacks.CSVLogger(str(log_dir / "history.csv"), append=resume),
        ]
    done = saver.epochs_done if resume else 0
    history = keras.callbacks.History()
    if done < epochs:
        history = fitted.fit(
            train_ds, validation_data=val_ds, epochs=epochs, callbacks=callbacks, verbose=verbose
        )
    if resume:  # the whole run's history, not only the epochs of this process
        history.history = {key: list(values) for key, values in saver.history.items()}
    if fitted.optimizer is not None and not fitted.optimizer.built:
        fitted.optimizer.build(fitted.trainable_variables)  # the file holds its state too
    # The wrapper shares its weights with ``model``, so this restores both.
    fitted.load_weights(checkpoint_path)
    if monitor != "val_accuracy":
        history.history["val_accuracy"] = history.history[monitor]
    return history


def save_inference_weights(model: keras.Model, path: str | Path) -> Path:
    """Save ``model``'s weights without optimizer state (a third of the size), for shipping."""
    # from_config gives an uncompiled twin (clone_model would carry the optimizer along).
    clone = model.__class__.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    clone.save_weights(path)
    return path
