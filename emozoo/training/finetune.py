"""The one training path of emozoo: :func:`fit`.

Fine-tuning a (pretrained) model on your own data, distilling into a student, training
a fusion head on embeddings or a head on cached features, and ``emozoo pretrain``'s
recipes all end in :func:`fit`, with the settings of a :class:`FitConfig`.

By default the model you pass is never compiled, frozen or given LoRA layers: training
runs on a working copy built in the distribution's scope (with the policy, mixed
precision and, with several replicas on TensorFlow, synchronised batch normalisation),
and the trained weights (LoRA folded in, the best validation epoch by default) are
copied back into your model at the end. ``freeze=None`` trains a model its caller has
prepared as it is, in place (see :class:`~emozoo.training.config.FreezePolicy`).
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import keras

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
from emozoo.training.config import FitConfig
from emozoo.training.distribute import Distribution, distribution
from emozoo.training.fit_data import (
    check_dataset,
    class_weights_from_counts,
    count_batches,
    divisible_batches,
    one_hot_labels,
    resolve_class_weight,
    scan,
)
from emozoo.training.optimizers import ScaledAdamW, warmup_cosine
from emozoo.training.policies import PolicyReport, apply_policy, check_policy, set_mixed_precision

if TYPE_CHECKING:
    import tensorflow as tf

logger = logging.getLogger("emozoo")

MIXED_PRECISION = ("auto", "off", "mixed_float16", "mixed_bfloat16")
#: The training model's output the alignment loss reads (see emozoo.training.alignment).
_PREDICTIONS = "predictions"


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


# -- the model that trains -------------------------------------------------------------


def _sync_batch_norm(config: Any) -> Any:
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


def _as_prepared(model: keras.Model) -> PolicyReport:
    """The report of a model trained as its caller prepared it (``freeze=None``)."""

    def params(variables: Sequence[Any]) -> int:
        return sum(int(keras.ops.size(v)) for v in variables)

    return PolicyReport(
        None,  # type: ignore[arg-type]
        [],
        trainable_params=params(model.trainable_weights),
        frozen_params=params(model.non_trainable_weights),
    )


@dataclass
class _Trainee:
    """The model that trains (``working``), what Keras fits (``fitted``: ``working`` or
    its alignment wrapper, sharing its weights), the metric that picks the best epoch
    and what the policy did."""

    working: keras.Model
    fitted: keras.Model
    report: PolicyReport
    monitor: str
    mode: str


def _trainee(
    model: keras.Model,
    config: FitConfig,
    dist: Distribution,
    precision: str | None,
    steps_per_epoch: int,
    num_classes: int,
    has_val: bool,
) -> _Trainee:
    """Build (or take, ``freeze=None``) the model that trains and compile it."""
    policy, optimization = config.policy, config.optimization
    with dist.scope():
        if policy.freeze is None:
            working = model
            if precision:
                set_mixed_precision(working, precision)
            report = _as_prepared(working)
        else:
            working = _working_copy(model, dist)
            if precision:
                set_mixed_precision(working, precision)
            report = apply_policy(
                working,
                policy.freeze,
                unfreeze_top=policy.unfreeze_top,
                lora_rank=policy.lora_rank,
                lora_alpha=policy.lora_alpha,
            )
        schedule = warmup_cosine(
            optimization.learning_rate,
            steps_per_epoch=steps_per_epoch,
            epochs=config.epochs,
            warmup_epochs=optimization.warmup_epochs,
        )
        optimizer = ScaledAdamW(
            learning_rate=schedule,
            weight_decay=optimization.weight_decay,
            scaled_variables=report.slow_variables,
            scale=policy.encoder_lr_scale,
        )
        monitor, mode = ("val_accuracy", "max") if has_val else ("loss", "min")
        if optimization.loss is None:
            loss, metrics = (
                keras.losses.CategoricalCrossentropy(label_smoothing=optimization.label_smoothing),
                ["accuracy"],
            )
        else:
            from emozoo.training.distill import LabelAccuracy

            loss, metrics = optimization.loss, [LabelAccuracy(num_classes)]
        fitted = working
        if optimization.alignment is None:
            working.compile(optimizer=optimizer, loss=loss, metrics=metrics)
        else:
            from emozoo.training.alignment import (
                ALIGNMENT_OUTPUT,
                SupervisedContrastiveAlignment,
                alignment_training_model,
            )

            fitted = alignment_training_model(working)
            fitted.compile(
                optimizer=optimizer,
                loss={
                    _PREDICTIONS: loss,
                    ALIGNMENT_OUTPUT: SupervisedContrastiveAlignment(
                        optimization.alignment.get("temperature", 0.1)
                    ),
                },
                loss_weights={
                    _PREDICTIONS: 1.0,
                    ALIGNMENT_OUTPUT: optimization.alignment.get("weight", 1.0),
                },
                metrics={_PREDICTIONS: metrics},
            )
            if has_val:
                monitor = f"val_{_PREDICTIONS}_accuracy"
    return _Trainee(working, fitted, report, monitor, mode)


# -- the data it trains on ---------------------------------------------------------------


@dataclass
class _Batches:
    """The datasets as Keras fits them, the schedule's length and the class weights."""

    train: Any
    val: Any
    steps_per_epoch: int
    class_weight: dict[int, float] | None
    replicas: int = 1
    counts: Any = field(default=None, repr=False)


def _batches(
    train_ds: tf.data.Dataset,
    val_ds: tf.data.Dataset | None,
    labels: Sequence[str],
    config: FitConfig,
    dist: Distribution,
) -> _Batches:
    """One-hot targets; with ``scan``, one pass counting batches and labels."""
    import tensorflow as tf

    num_classes = len(labels)
    # JAX shards each batch evenly over the devices: batches are trimmed to a multiple
    # of the replicas (at most replicas - 1 samples of a batch are left out).
    even = dist.num_replicas if dist.kind == "data_parallel" else 1
    counts = None
    if config.run.scan:
        steps_per_epoch, counts = scan(train_ds, num_classes, even)
    weights = resolve_class_weight(config.optimization.class_weight, list(labels), counts)
    train = one_hot_labels(train_ds, num_classes)
    val = one_hot_labels(val_ds, num_classes) if val_ds is not None else None
    if not config.run.scan:
        steps_per_epoch = count_batches(train)
    if even > 1:
        train = divisible_batches(train, even)
        val = divisible_batches(val, even) if val is not None else None
    if config.run.scan:
        # Known lengths give Keras' progress bar its total (filters in pipelines hide it).
        train = train.apply(tf.data.experimental.assert_cardinality(steps_per_epoch))
        if val is not None:
            val_steps, _ = scan(val_ds, num_classes, even)
            val = val.apply(tf.data.experimental.assert_cardinality(val_steps))
    return _Batches(train, val, steps_per_epoch, weights, even, counts)


def _alignment_targets(batches: _Batches) -> None:
    """The alignment wrapper's targets: the one-hot rows and the class index."""
    from emozoo.training.alignment import ALIGNMENT_OUTPUT

    def targets(x: Any, y: tf.Tensor) -> tuple[Any, dict[str, tf.Tensor]]:
        import tensorflow as tf

        return x, {_PREDICTIONS: y, ALIGNMENT_OUTPUT: tf.argmax(y, axis=-1)}

    batches.train = batches.train.map(targets)
    if batches.val is not None:
        batches.val = batches.val.map(targets)


# -- the run folder, its callbacks and its reports ------------------------------------------


def _fingerprint(model: keras.Model, labels: Sequence[str], config: FitConfig) -> dict[str, Any]:
    """What a resumed run must share with the one that wrote the checkpoints."""
    policy = config.policy
    fingerprint = {
        "model": model.name,
        "labels": list(labels),
        "params": int(model.count_params()),
        "freeze": policy.freeze,
        "epochs": config.epochs,
        "lora_rank": policy.lora_rank if policy.freeze == "lora" else None,
        "unfreeze_top": policy.unfreeze_top if policy.freeze == "encoders_but_top" else None,
    }
    if config.optimization.loss is not None:
        fingerprint["loss"] = config.optimization.loss.get_config()
    if config.optimization.alignment is not None:
        fingerprint["alignment"] = dict(config.optimization.alignment)
    return fingerprint


def _hparams(
    model: keras.Model,
    labels: Sequence[str],
    config: FitConfig,
    batches: _Batches,
    precision: str | None,
    dist: Distribution,
) -> dict[str, Any]:
    """The run's hyper-parameters (TensorBoard's HParams tab, ``run.json``)."""
    policy, optimization = config.policy, config.optimization
    return {
        "model": model.name,
        "labels": ",".join(labels),
        "freeze": policy.freeze,
        "epochs": config.epochs,
        "learning_rate": optimization.learning_rate,
        "weight_decay": optimization.weight_decay,
        "warmup_epochs": optimization.warmup_epochs,
        "label_smoothing": optimization.label_smoothing,
        "encoder_lr_scale": policy.encoder_lr_scale,
        "lora_rank": policy.lora_rank if policy.freeze == "lora" else 0,
        "unfreeze_top": policy.unfreeze_top if policy.freeze == "encoders_but_top" else 0,
        "class_weight": json.dumps(batches.class_weight) if batches.class_weight else "none",
        "early_stopping": config.run.early_stopping or 0,
        "mixed_precision": precision or "float32",
        "strategy": dist.kind,
        "replicas": dist.num_replicas,
        "steps_per_epoch": batches.steps_per_epoch,
    }


def _callbacks(
    config: FitConfig,
    checkpoint: RunCheckpoint,
    trainee: _Trainee,
    batches: _Batches,
    labels: Sequence[str],
    run_dir: Path,
    keep_logs: bool,
    dist: Distribution,
    hparams: dict[str, Any],
) -> list[keras.callbacks.Callback]:
    callback_list: list[keras.callbacks.Callback] = [LearningRateLogger()]
    log_images = keep_logs and dist.is_chief
    if config.run.confusion_matrices and batches.val is not None and dist.kind != "multi_worker":
        # In a multi-worker run, prediction is collective; the final matrix is drawn below.
        callback_list.append(
            ConfusionMatrixLogger(
                batches.val,
                labels,
                run_dir if log_images else None,
                model=trainee.working if trainee.fitted is not trainee.working else None,
            )
        )
    callback_list.append(checkpoint)
    if config.run.early_stopping:
        callback_list.append(
            keras.callbacks.EarlyStopping(
                monitor=trainee.monitor, mode=trainee.mode, patience=config.run.early_stopping
            )
        )
    if keep_logs and dist.is_chief:
        write_hparams(run_dir, hparams, run_name=run_dir.name)
        callback_list.append(
            keras.callbacks.TensorBoard(str(run_dir), write_graph=False, update_freq="epoch")
        )
    return callback_list + list(config.run.callbacks)


def _write_reports(
    model: keras.Model,
    history: keras.callbacks.History,
    val_ds: tf.data.Dataset | None,
    labels: Sequence[str],
    config: FitConfig,
    run_dir: Path,
    summary: dict[str, Any],
) -> None:
    """The chief's run folder: curves, history, the final validation report, run.json."""
    if history.history:
        plot_history(
            history.history,
            run_dir / "training_curves.png",
            title=f"{model.name}: {config.policy.freeze}",
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


# -- the run ------------------------------------------------------------------------------


def _check(
    model: keras.Model,
    train_ds: tf.data.Dataset,
    val_ds: tf.data.Dataset | None,
    config: FitConfig,
) -> tuple[Sequence[str], str | None]:
    """Raise ``ValueError``/``TypeError`` naming a bad argument; the labels and precision."""
    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model, got {type(model).__name__}")
    labels = get_labels(model)
    if labels is None:
        raise ValueError(
            f"Model {model.name!r} has no classifier; load it with include_top=True (and labels=[...])"
        )
    epochs, policy, run = config.epochs, config.policy, config.run
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}")
    if policy.freeze is not None:
        check_policy(policy.freeze, policy.unfreeze_top, policy.lora_rank)
    if policy.encoder_lr_scale <= 0:
        raise ValueError(f"encoder_lr_scale must be positive, got {policy.encoder_lr_scale}")
    if config.optimization.learning_rate <= 0:
        raise ValueError(f"learning_rate must be positive, got {config.optimization.learning_rate}")
    if run.early_stopping is not None and (
        not isinstance(run.early_stopping, int) or run.early_stopping < 1
    ):
        raise ValueError(
            f"early_stopping must be a positive number of epochs, got {run.early_stopping!r}"
        )
    if run.early_stopping is not None and val_ds is None:
        raise ValueError("early_stopping watches the validation accuracy: pass val_ds")
    if config.optimization.alignment is not None and config.optimization.loss is not None:
        raise ValueError("alignment adds to the categorical cross-entropy: pass no loss with it")
    prepared = policy.freeze is None
    precision = (
        None
        if prepared and run.mixed_precision == "auto"
        else resolve_mixed_precision(run.mixed_precision)
    )
    check_dataset(train_ds, model, "train_ds", named_inputs=not prepared)
    if val_ds is not None:
        check_dataset(val_ds, model, "val_ds", named_inputs=not prepared)
    return labels, precision


def _distribution(config: FitConfig) -> Distribution:
    strategy = config.run.strategy
    if config.policy.freeze is None:
        # A prepared model was built outside any strategy's scope: one device.
        dist = distribution("none" if strategy == "auto" else strategy)
        if dist.num_replicas > 1 or dist.strategy is not None:
            raise ValueError(
                "freeze=None trains the model as it is, in place, on one device: pass "
                "strategy='none' (or a freeze policy, which trains a copy built in the "
                "strategy's scope)"
            )
        return dist
    return distribution(strategy)


def fit(
    model: keras.Model,
    train_ds: tf.data.Dataset,
    val_ds: tf.data.Dataset | None = None,
    *,
    config: FitConfig | None = None,
    **options: Any,
) -> keras.callbacks.History:
    """Train ``model`` on ``train_ds``; ``model`` ends up holding the trained weights.

    One pass over the data first counts the batches (for the schedule and the progress
    bar) and the labels (for ``class_weight`` and a check that they fit the model); a
    ``cache()`` in the pipeline, as :func:`emozoo.data.from_manifest` has, keeps the
    decoded inputs for the epochs that follow.

    Args:
        model: a model with a classifier, typically ``emozoo.load(name, labels=[...])``.
        train_ds, val_ds: ``tf.data`` datasets of ``(inputs, label)`` batches (int labels
            or one-hot rows), for example from :func:`emozoo.data.from_manifest`.
        config: every setting, as a :class:`~emozoo.training.config.FitConfig`
            (default: its defaults).
        **options: settings by their flat names, on top of ``config``:
            ``epochs`` (10; a resumed run continues up to it);
            :class:`~emozoo.training.config.Optimization`: ``learning_rate`` (1e-3),
            ``weight_decay`` (1e-4), ``warmup_epochs`` (1), ``label_smoothing`` (0),
            ``class_weight``, ``loss``, ``alignment``;
            :class:`~emozoo.training.config.FreezePolicy`: ``freeze`` (``"encoders"``),
            ``unfreeze_top`` (2), ``encoder_lr_scale`` (0.1), ``lora_rank`` (4),
            ``lora_alpha``;
            :class:`~emozoo.training.config.RunOptions`: ``log_dir``, ``checkpoint``,
            ``resume`` (True), ``restore_best`` (True), ``early_stopping``,
            ``confusion_matrices`` (True), ``scan`` (True), ``mixed_precision``
            (``"auto"``), ``strategy`` (``"auto"``), ``seed``, ``verbose``, ``callbacks``.

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
    config = (config or FitConfig()).replace(**options)
    labels, precision = _check(model, train_ds, val_ds, config)
    dist = _distribution(config)
    if config.run.seed is not None:
        keras.utils.set_random_seed(config.run.seed)

    batches = _batches(train_ds, val_ds, labels, config, dist)
    trainee = _trainee(
        model, config, dist, precision, batches.steps_per_epoch, len(labels), val_ds is not None
    )
    if config.optimization.alignment is not None:
        _alignment_targets(batches)

    scratch = None
    if config.run.log_dir is None:
        scratch = tempfile.TemporaryDirectory(prefix="emozoo-fit-")
        run_dir, keep_logs = Path(scratch.name), False
    else:
        run_dir, keep_logs = Path(config.run.log_dir).expanduser(), True
        if dist.is_chief:
            run_dir.mkdir(parents=True, exist_ok=True)
    checkpoint_dir = run_dir / "checkpoints"
    fingerprint = _fingerprint(model, labels, config)
    state = read_state(checkpoint_dir) if config.run.resume and keep_logs else None
    if state is not None and state.get("fingerprint") != fingerprint:
        raise ValueError(
            f"{checkpoint_dir} holds checkpoints of another run ({state.get('fingerprint')}); "
            f"this run is {fingerprint}. Use another log_dir, or resume=False to start over."
        )
    hparams = _hparams(model, labels, config, batches, precision, dist)
    logger.info("%s; %s", trainee.report.summary(), dist.describe())

    checkpoint = RunCheckpoint(
        checkpoint_dir,
        fingerprint=fingerprint,
        state=state,
        monitor=trainee.monitor,
        mode=trainee.mode,
        is_chief=dist.is_chief,
        worker_index=dist.worker_index,
        csv_path=run_dir / "history.csv" if keep_logs else None,
    )
    callback_list = _callbacks(
        config, checkpoint, trainee, batches, labels, run_dir, keep_logs, dist, hparams
    )
    fitted = trainee.fitted
    history = keras.callbacks.History()
    done = int(state["epoch"]) if state else 0
    try:
        if done < config.epochs:
            with dist.scope():
                history = fitted.fit(
                    batches.train,
                    validation_data=batches.val,
                    epochs=config.epochs,
                    class_weight=batches.class_weight,
                    callbacks=callback_list,
                    shuffle=False,
                    verbose=config.run.verbose if dist.is_chief else 0,
                )
        else:
            logger.info(
                "%s: all %d epochs are done already; nothing to train", run_dir, config.epochs
            )
            with dist.scope():
                fitted.optimizer.build(fitted.trainable_variables)
                fitted.load_weights(checkpoint_dir / "last.weights.h5")
        best = checkpoint.write_dir / BEST_WEIGHTS
        if not best.is_file():
            best = checkpoint_dir / BEST_WEIGHTS
        restore = config.run.restore_best and val_ds is not None and best.is_file()
        if restore:
            with dist.scope():
                fitted.load_weights(best)
        if config.run.checkpoint is not None and dist.is_chief:
            kept = Path(config.run.checkpoint)
            kept.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(best if best.is_file() else checkpoint_dir / "last.weights.h5", kept)
        if trainee.working is not model:
            _copy_weights(trainee.working, model)
    finally:
        checkpoint.cleanup()

    history.history = {k: list(v) for k, v in checkpoint.history.items()}
    if trainee.monitor not in ("val_accuracy", "loss"):
        history.history["val_accuracy"] = list(history.history.get(trainee.monitor, []))
    history.epoch = list(range(len(history.history.get("loss", []))))
    history.set_model(model)
    summary = {
        "model": model.name,
        "labels": list(labels),
        "epochs": len(history.epoch),
        "stopped_early": len(history.epoch) < config.epochs,
        "resumed_from_epoch": done,
        "best": checkpoint.best or None,
        "restored": "best"
        if config.run.restore_best and val_ds is not None and checkpoint.best
        else "last",
        "policy": trainee.report.summary(),
        "trainable_params": trainee.report.trainable_params,
        "strategy": dist.describe(),
        "replicas": dist.num_replicas,
        "mixed_precision": precision or "float32",
        "seconds": round(time.time() - start, 1),
        "log_dir": str(run_dir) if keep_logs else None,
        "hparams": hparams,
    }
    if keep_logs and dist.is_chief:
        _write_reports(model, history, val_ds, labels, config, run_dir, summary)
    if scratch is not None:
        scratch.cleanup()
    history.summary = summary
    return history


def train(
    model: keras.Model,
    train_ds: tf.data.Dataset,
    val_ds: tf.data.Dataset | None,
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
    """The former ``emozoo.training.loop.train``, kept for its callers: :func:`fit` of a
    model as prepared (``freeze=None``, in place, one device), the best epoch's weights
    (with optimizer state) also in ``checkpoint_path``.

    ``resume=True`` continues an interrupted run kept in ``log_dir`` (default: the
    folder of ``checkpoint_path``).
    """
    if resume and log_dir is None:
        log_dir = Path(checkpoint_path).parent
    config = FitConfig.for_prepared_model(
        epochs=epochs,
        checkpoint=checkpoint_path,
        log_dir=log_dir,
        learning_rate=learning_rate,
        weight_decay=weight_decay,
        warmup_epochs=warmup_epochs,
        label_smoothing=label_smoothing,
        alignment=alignment,
        verbose=verbose,
        resume=resume,
    )
    return fit(model, train_ds, val_ds, config=config)


__all__ = [
    "MIXED_PRECISION",
    "FitConfig",
    "class_weights_from_counts",
    "fit",
    "one_hot_labels",
    "resolve_mixed_precision",
    "train",
]
