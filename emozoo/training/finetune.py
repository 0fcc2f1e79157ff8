"""Fine-tune a (pretrained) emozoo model on your own data: :func:`fit`.

The model you pass is never compiled, frozen or given LoRA layers: training runs on a
working copy built in the distribution's scope (with the policy, mixed precision and,
with several replicas on TensorFlow, synchronised batch normalisation), and the
trained weights (LoRA folded in, the best validation epoch by default) are copied back
into your model at the end.
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np

from emozoo.models import get_labels
from emozoo.training.callbacks import (
    BEST_WEIGHTS,
    ConfusionMatrixLogger,
    LearningRateLogger,
    RunCheckpoint,
    plot_history,
    read_state,
    write_history_csv,
    write_hparams,
)
from emozoo.training.distribute import Distribution, distribution
from emozoo.training.loop import warmup_cosine
from emozoo.training.optimizers import ScaledAdamW
from emozoo.training.policies import apply_policy, check_policy, set_mixed_precision

logger = logging.getLogger("emozoo")

MIXED_PRECISION = ("auto", "off", "mixed_float16", "mixed_bfloat16")


def resolve_mixed_precision(value: str | bool | None = "auto") -> str | None:
    """The Keras dtype policy to train in, or ``None`` for float32.

    ``"auto"`` (or ``True``) picks ``mixed_float16`` on a GPU of compute capability 7.0 or
    more (TensorFlow) or any GPU (JAX), and float32 elsewhere (CPUs gain nothing from
    float16, and bfloat16 matmuls on most CPUs are slower than float32).
    """
    if value in (None, False, "off", "float32"):
        return None
    if value in ("mixed_float16", "mixed_bfloat16"):
        return value
    if value not in (True, "auto"):
        raise ValueError(f"mixed_precision must be one of {list(MIXED_PRECISION)}, got {value!r}")
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        for gpu in tf.config.list_physical_devices("GPU"):
            capability = tf.config.experimental.get_device_details(gpu).get("compute_capability")
            if capability and tuple(capability) >= (7, 0):
                return "mixed_float16"
    elif backend == "jax":
        import jax

        if any(device.platform == "gpu" for device in jax.devices()):
            return "mixed_float16"
    return None


def _check_dataset(ds, model: keras.Model, name: str):
    import tensorflow as tf

    if not isinstance(ds, tf.data.Dataset):
        raise TypeError(
            f"{name} must be a tf.data.Dataset of (inputs, label) batches, for example from "
            f"emozoo.data.from_manifest; got {type(ds).__name__}"
        )
    spec = ds.element_spec
    if not isinstance(spec, tuple) or len(spec) < 2:
        raise ValueError(f"{name} must yield (inputs, label) pairs; its elements are {spec}")
    inputs = spec[0]
    wanted = [t.name for t in model.inputs]
    present = list(inputs) if isinstance(inputs, Mapping) else []
    missing = [key for key in wanted if key not in present]
    if missing:
        raise ValueError(
            f"{name} lacks model inputs {missing}; it has {present or 'no named inputs'}. "
            "Build it with emozoo.data.from_manifest(path, model=model) or make_dataset."
        )
    cardinality = int(ds.cardinality())
    if cardinality == 0:
        raise ValueError(f"{name} is empty")


def _scan(ds, num_classes: int, replicas: int = 1) -> tuple[int, np.ndarray]:
    """Number of batches (with at least ``replicas`` samples) and per-class label counts
    of ``ds``, in one pass."""
    counts = np.zeros(num_classes, np.int64)
    batches = 0
    for element in ds:
        y = element[1]
        y = np.asarray(y)
        if y.ndim == 2:  # one-hot rows, or wider target rows that start with one
            hard = y[:, :num_classes]
            labels = hard[hard.sum(-1) > 0].argmax(-1)
        else:
            labels = y.reshape(-1)
        if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
            raise ValueError(
                f"Label index {int(labels.max())} is outside the model's {num_classes} classes"
            )
        counts += np.bincount(labels.astype(np.int64), minlength=num_classes)[:num_classes]
        batches += int(len(y) >= replicas)
    if batches == 0:
        raise ValueError("The dataset is empty")
    return batches, counts


def class_weights_from_counts(counts: Sequence[int]) -> dict[int, float]:
    """``"balanced"`` weights: ``n / (classes present * n_c)``; absent classes get 1.

    >>> class_weights_from_counts([30, 10, 0])
    {0: 0.6666666666666666, 1: 2.0, 2: 1.0}
    """
    counts = np.asarray(counts, np.float64)
    present = counts > 0
    total, k = counts.sum(), int(present.sum())
    return {i: float(total / (k * c)) if c > 0 else 1.0 for i, c in enumerate(counts)}


def _resolve_class_weight(class_weight, labels: Sequence[str], counts) -> dict[int, float] | None:
    if class_weight is None:
        return None
    if isinstance(class_weight, str):
        if class_weight != "balanced":
            raise ValueError(
                f"class_weight must be 'balanced', a dict or None, got {class_weight!r}"
            )
        return class_weights_from_counts(counts)
    if not isinstance(class_weight, Mapping):
        raise ValueError(f"class_weight must be 'balanced', a dict or None, got {class_weight!r}")
    weights = {i: 1.0 for i in range(len(labels))}
    for key, value in class_weight.items():
        index = labels.index(key) if isinstance(key, str) and key in labels else key
        if not isinstance(index, int) or not 0 <= index < len(labels):
            raise ValueError(f"class_weight key {key!r} is not one of the labels {list(labels)}")
        weights[index] = float(value)
    return weights


def _to_one_hot(ds, num_classes: int):
    import tensorflow as tf

    label_spec = ds.element_spec[1]
    if label_spec.dtype.is_floating and label_spec.shape.rank == 2:
        return ds

    def convert(*element):
        x, y = element[0], element[1]
        y = tf.cast(tf.reshape(y, [-1]), tf.int32)
        return (x, tf.one_hot(y, num_classes), *element[2:])

    return ds.map(convert, num_parallel_calls=tf.data.AUTOTUNE)


def _divisible_batches(ds, replicas: int):
    """Trim each batch to a multiple of ``replicas`` (JAX shards every batch evenly)."""
    import tensorflow as tf

    def trim(*element):
        size = tf.shape(element[1])[0] // replicas * replicas
        return tuple(keras.tree.map_structure(lambda t: t[:size], item) for item in element)

    return ds.map(trim).filter(lambda *element: tf.shape(element[1])[0] > 0)


def _sync_batch_norm(config):
    """Config with ``synchronized=True`` on every BatchNormalization (TensorFlow replicas
    then share batch statistics, so moving averages agree across replicas and workers)."""
    if isinstance(config, dict):
        config = {key: _sync_batch_norm(value) for key, value in config.items()}
        if config.get("class_name") == "BatchNormalization" and isinstance(
            config.get("config"), dict
        ):
            config["config"]["synchronized"] = True
        return config
    if isinstance(config, list):
        return [_sync_batch_norm(value) for value in config]
    return config


def _copy_weights(source: keras.Model, target: keras.Model) -> None:
    """Copy ``source``'s weights into ``target`` through a weights file: LoRA layers
    save merged kernels, so a LoRA copy fills a plain model."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "weights.weights.h5"
        source.save_weights(path)
        target.load_weights(path)


def _working_copy(model: keras.Model, dist: Distribution) -> keras.Model:
    config = model.get_config()
    if (
        keras.backend.backend() == "tensorflow"
        and dist.kind in ("mirrored", "multi_worker")
        and dist.num_replicas > 1
    ):
        config = _sync_batch_norm(config)
    working = model.__class__.from_config(config)
    working.set_weights(model.get_weights())
    return working


def fit(
    model: keras.Model,
    train_ds,
    val_ds=None,
    *,
    epochs: int = 10,
    freeze: str = "encoders",
    unfreeze_top: int = 2,
    encoder_lr_scale: float = 0.1,
    lora_rank: int = 4,
    lora_alpha: float | None = None,
    learning_rate: float = 1e-3,
    weight_decay: float = 1e-4,
    warmup_epochs: float = 1.0,
    label_smoothing: float = 0.0,
    class_weight: str | Mapping | None = None,
    early_stopping: int | None = None,
    mixed_precision: str | bool = "auto",
    strategy: Any = "auto",
    log_dir: str | Path | None = None,
    resume: bool = True,
    restore_best: bool = True,
    confusion_matrices: bool = True,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    seed: int | None = None,
    verbose: int | str = "auto",
    loss: keras.losses.Loss | None = None,
) -> keras.callbacks.History:
    """Fine-tune ``model`` on ``train_ds``; ``model`` ends up holding the trained weights.

    One pass over the data first counts the batches (for the schedule and the progress
    bar) and the labels (for ``class_weight`` and a check that they fit the model); a
    ``cache()`` in the pipeline, as :func:`emozoo.data.from_manifest` has, keeps the
    decoded inputs for the epochs that follow.

    Args:
        model: a model with a classifier, typically ``emozoo.load(name, labels=[...])``.
        train_ds, val_ds: ``tf.data`` datasets of ``(inputs, label)`` batches (int labels
            or one-hot rows), for example from :func:`emozoo.data.from_manifest`.
        epochs: total epochs of the run (a resumed run continues up to it).
        freeze: ``"encoders"`` (head only), ``"encoders_but_top"`` (plus the top
            ``unfreeze_top`` layers of each encoder), ``"none"`` (everything, encoders at
            ``learning_rate * encoder_lr_scale``) or ``"lora"`` (adapters of rank
            ``lora_rank`` on Dense/EinsumDense/Embedding layers); see
            :mod:`emozoo.training.policies`.
        learning_rate, weight_decay, warmup_epochs: AdamW with linear warm-up, then
            cosine decay to 1% of ``learning_rate``.
        label_smoothing: of the categorical cross-entropy.
        class_weight: ``"balanced"`` (from the training labels), ``{label or index:
            weight}``, or ``None``.
        early_stopping: stop after this many epochs without a better validation accuracy.
        mixed_precision: ``"auto"`` (float16 compute on a capable GPU, float32 on CPU),
            ``"off"``, ``"mixed_float16"`` or ``"mixed_bfloat16"``.
        strategy: ``"auto"``, ``"none"``, ``"mirrored"``, ``"multi_worker"`` (TF_CONFIG),
            ``"data_parallel"`` (JAX), or a strategy object (see
            :mod:`emozoo.training.distribute`). Batches are global: each of N replicas
            gets 1/N of every batch.
        log_dir: the run folder: TensorBoard logs (``train/``, ``validation/``: scalars,
            a confusion-matrix image per epoch; hyper-parameters), ``checkpoints/``
            (every epoch), ``history.csv``, ``training_curves.png``, the final
            validation report (``validation.json``, ``.txt``, ``_confusion.png``) and
            ``run.json``. A run with checkpoints there resumes from its last complete
            epoch (``resume``). ``None``: nothing is kept.
        restore_best: end with the weights of the best validation epoch (else the last).
        confusion_matrices: log a confusion matrix of ``val_ds`` after each epoch.
        callbacks: more Keras callbacks.
        seed: seeds Python, NumPy and the backend for a reproducible run.
        verbose: Keras' progress output (``"auto"``/1: a progress bar, 2: a line per epoch).
        loss: another loss than the categorical cross-entropy, over target rows whose
            first ``len(labels)`` columns are the one-hot label (all zeros: no label),
            e.g. :class:`emozoo.training.distill.DistillationLoss`'s packed soft labels;
            accuracy is then read from those columns.

    Returns:
        The ``keras.callbacks.History`` of the whole run (resumed epochs included), with
        ``history.summary``: epochs, best epoch, policy, replicas, seconds, log folder.

    Raises:
        ValueError / TypeError: naming the bad argument or dataset.

    >>> model = emozoo.load("cnn_lstm_fusion", labels=["calm", "happy", "sad", "angry"])  # doctest: +SKIP
    >>> ds = emozoo.data.from_manifest("my_data.csv", model=model, augment=True)  # doctest: +SKIP
    >>> val = emozoo.data.from_manifest("my_val.csv", model=model, shuffle=False)  # doctest: +SKIP
    >>> history = emozoo.train.fit(model, ds, val, epochs=20, freeze="encoders", log_dir="runs/mine")  # doctest: +SKIP
    """
    start = time.time()
    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model, got {type(model).__name__}")
    labels = get_labels(model)
    if labels is None:
        raise ValueError(
            f"Model {model.name!r} has no classifier; load it with include_top=True (and labels=[...])"
        )
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}")
    check_policy(freeze, unfreeze_top, lora_rank)
    if encoder_lr_scale <= 0:
        raise ValueError(f"encoder_lr_scale must be positive, got {encoder_lr_scale}")
    if learning_rate <= 0:
        raise ValueError(f"learning_rate must be positive, got {learning_rate}")
    if early_stopping is not None and (not isinstance(early_stopping, int) or early_stopping < 1):
        raise ValueError(
            f"early_stopping must be a positive number of epochs, got {early_stopping!r}"
        )
    if early_stopping is not None and val_ds is None:
        raise ValueError("early_stopping watches the validation accuracy: pass val_ds")
    precision = resolve_mixed_precision(mixed_precision)
    _check_dataset(train_ds, model, "train_ds")
    if val_ds is not None:
        _check_dataset(val_ds, model, "val_ds")
    dist = distribution(strategy)
    if seed is not None:
        keras.utils.set_random_seed(seed)

    import tensorflow as tf

    num_classes = len(labels)
    # JAX shards each batch evenly over the devices: batches are trimmed to a multiple
    # of the replicas (at most replicas - 1 samples of a batch are left out).
    even = dist.num_replicas if dist.kind == "data_parallel" else 1
    steps_per_epoch, counts = _scan(train_ds, num_classes, even)
    weights = _resolve_class_weight(class_weight, list(labels), counts)
    train = _to_one_hot(train_ds, num_classes)
    val = _to_one_hot(val_ds, num_classes) if val_ds is not None else None
    if even > 1:
        train = _divisible_batches(train, even)
        val = _divisible_batches(val, even) if val is not None else None
    # Known lengths give Keras' progress bar its total (filters in pipelines hide it).
    train = train.apply(tf.data.experimental.assert_cardinality(steps_per_epoch))
    if val is not None:
        val_steps, _ = _scan(val_ds, num_classes, even)
        val = val.apply(tf.data.experimental.assert_cardinality(val_steps))
    monitor, mode = ("val_accuracy", "max") if val is not None else ("loss", "min")

    with dist.scope():
        working = _working_copy(model, dist)
        if precision:
            set_mixed_precision(working, precision)
        report = apply_policy(
            working, freeze, unfreeze_top=unfreeze_top, lora_rank=lora_rank, lora_alpha=lora_alpha
        )
        schedule = warmup_cosine(
            learning_rate,
            steps_per_epoch=steps_per_epoch,
            epochs=epochs,
            warmup_epochs=warmup_epochs,
        )
        optimizer = ScaledAdamW(
            learning_rate=schedule,
            weight_decay=weight_decay,
            scaled_variables=report.slow_variables,
            scale=encoder_lr_scale,
        )
        if loss is None:
            loss_fn, metrics = (
                keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing),
                ["accuracy"],
            )
        else:
            from emozoo.training.distill import LabelAccuracy

            loss_fn, metrics = loss, [LabelAccuracy(num_classes)]
        working.compile(optimizer=optimizer, loss=loss_fn, metrics=metrics)

    scratch = None
    if log_dir is None:
        scratch = tempfile.TemporaryDirectory(prefix="emozoo-fit-")
        run_dir, keep_logs = Path(scratch.name), False
    else:
        run_dir, keep_logs = Path(log_dir).expanduser(), True
        if dist.is_chief:
            run_dir.mkdir(parents=True, exist_ok=True)
    checkpoint_dir = run_dir / "checkpoints"
    fingerprint = {
        "model": model.name,
        "labels": list(labels),
        "params": int(model.count_params()),
        "freeze": freeze,
        "epochs": epochs,
        "lora_rank": lora_rank if freeze == "lora" else None,
        "unfreeze_top": unfreeze_top if freeze == "encoders_but_top" else None,
    }
    if loss is not None:
        fingerprint["loss"] = loss.get_config()
    state = read_state(checkpoint_dir) if resume and keep_logs else None
    if state is not None and state.get("fingerprint") != fingerprint:
        raise ValueError(
            f"{checkpoint_dir} holds checkpoints of another run ({state.get('fingerprint')}); "
            f"this run is {fingerprint}. Use another log_dir, or resume=False to start over."
        )
    hparams = {
        "model": model.name,
        "labels": ",".join(labels),
        "freeze": freeze,
        "epochs": epochs,
        "learning_rate": learning_rate,
        "weight_decay": weight_decay,
        "warmup_epochs": warmup_epochs,
        "label_smoothing": label_smoothing,
        "encoder_lr_scale": encoder_lr_scale,
        "lora_rank": lora_rank if freeze == "lora" else 0,
        "unfreeze_top": unfreeze_top if freeze == "encoders_but_top" else 0,
        "class_weight": json.dumps(weights) if weights else "none",
        "early_stopping": early_stopping or 0,
        "mixed_precision": precision or "float32",
        "strategy": dist.kind,
        "replicas": dist.num_replicas,
        "steps_per_epoch": steps_per_epoch,
    }
    logger.info("%s; %s", report.summary(), dist.describe())

    checkpoint = RunCheckpoint(
        checkpoint_dir,
        fingerprint=fingerprint,
        state=state,
        monitor=monitor,
        mode=mode,
        is_chief=dist.is_chief,
        worker_index=dist.worker_index,
        csv_path=run_dir / "history.csv" if keep_logs else None,
    )
    callback_list: list[keras.callbacks.Callback] = [LearningRateLogger()]
    log_images = keep_logs and dist.is_chief
    if confusion_matrices and val is not None and dist.kind != "multi_worker":
        # In a multi-worker run, prediction is collective; the final matrix is drawn below.
        callback_list.append(ConfusionMatrixLogger(val, labels, run_dir if log_images else None))
    callback_list.append(checkpoint)
    if early_stopping:
        callback_list.append(
            keras.callbacks.EarlyStopping(monitor=monitor, mode=mode, patience=early_stopping)
        )
    if keep_logs and dist.is_chief:
        write_hparams(run_dir, hparams, run_name=run_dir.name)
        callback_list.append(
            keras.callbacks.TensorBoard(str(run_dir), write_graph=False, update_freq="epoch")
        )
    callback_list += list(callbacks)

    history = keras.callbacks.History()
    done = int(state["epoch"]) if state else 0
    try:
        if done < epochs:
            with dist.scope():
                history = working.fit(
                    train,
                    validation_data=val,
                    epochs=epochs,
                    class_weight=weights,
                    callbacks=callback_list,
                    shuffle=False,
                    verbose=verbose if dist.is_chief else 0,
                )
        else:
            logger.info("%s: all %d epochs are done already; nothing to train", run_dir, epochs)
            with dist.scope():
                working.optimizer.build(working.trainable_variables)
                working.load_weights(checkpoint_dir / "last.weights.h5")
        best = checkpoint.write_dir / BEST_WEIGHTS
        if not best.is_file():
            best = checkpoint_dir / BEST_WEIGHTS
        if restore_best and val is not None and best.is_file():
            with dist.scope():
                working.load_weights(best)
        _copy_weights(working, model)
    finally:
        checkpoint.cleanup()

    history.history = {k: list(v) for k, v in checkpoint.history.items()}
    history.epoch = list(range(len(history.history.get("loss", []))))
    history.set_model(model)
    summary = {
        "model": model.name,
        "labels": list(labels),
        "epochs": len(history.epoch),
        "stopped_early": len(history.epoch) < epochs,
        "resumed_from_epoch": done,
        "best": checkpoint.best or None,
        "restored": "best" if restore_best and val is not None and checkpoint.best else "last",
        "policy": report.summary(),
        "trainable_params": report.trainable_params,
        "strategy": dist.describe(),
        "replicas": dist.num_replicas,
        "mixed_precision": precision or "float32",
        "seconds": round(time.time() - start, 1),
        "log_dir": str(run_dir) if keep_logs else None,
        "hparams": hparams,
    }
    if keep_logs and dist.is_chief:
        if history.history:
            plot_history(
                history.history, run_dir / "training_curves.png", title=f"{model.name}: {freeze}"
            )
            write_history_csv(history.history, run_dir / "history.csv")
        if val_ds is not None:
            from emozoo.evaluation import evaluate

            final = evaluate(
                model, val_ds.as_numpy_iterator(), labels, name=f"{model.name}: validation"
            )
            final.save(run_dir, "validation")
            summary["validation"] = final.metrics
        (run_dir / "run.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    if scratch is not None:
        scratch.cleanup()
    history.summary = summary
    return history


__all__ = [
    "MIXED_PRECISION",
    "class_weights_from_counts",
    "fit",
    "resolve_mixed_precision",
]
