"""Callbacks and logs of a fine-tuning run: resumable checkpoints, TensorBoard extras
(confusion-matrix images, hyper-parameters, learning rate) and the training-curves PNG."""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np

STATE_FILE = "state.json"
LAST_WEIGHTS = "last.weights.h5"
BEST_WEIGHTS = "best.weights.h5"


def _atomic_write_text(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def _float(value: Any) -> float:
    return float(np.asarray(value))


def read_state(directory: str | Path) -> dict | None:
    """The saved state of a run's checkpoint folder, or ``None`` if it has none."""
    path = Path(directory) / STATE_FILE
    if not path.is_file():
        return None
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, OSError) as error:
        raise ValueError(
            f"Checkpoint state {path} is unreadable ({error}); delete the folder or pass resume=False"
        ) from error
    if not isinstance(state, dict) or "epoch" not in state:
        raise ValueError(f"Checkpoint state {path} lacks 'epoch'; delete it or pass resume=False")
    if not (Path(directory) / LAST_WEIGHTS).is_file():
        raise ValueError(
            f"Checkpoint state {path} has no {LAST_WEIGHTS} beside it; delete it or pass resume=False"
        )
    return state


class RunCheckpoint(keras.callbacks.Callback):
    """Save the weights and optimizer state after every epoch; resume from them.

    Writes ``last.weights.h5`` (model and optimizer), ``best.weights.h5`` (the best
    epoch by ``monitor``) and ``state.json`` (epochs done, history, best epoch and the
    run's fingerprint) into ``directory``, each atomically, so a run killed at any
    moment restarts from its last complete epoch. Only the chief writes there; other
    workers write to a scratch folder of their own.

    ``state`` is what :func:`read_state` returned before training (or ``None``): at the
    start of training the model gets its weights and optimizer state back and training
    continues at the next epoch.
    """

    def __init__(
        self,
        directory: str | Path,
        *,
        fingerprint: dict,
        state: dict | None = None,
        monitor: str = "val_accuracy",
        mode: str = "max",
        is_chief: bool = True,
        worker_index: int = 0,
        csv_path: str | Path | None = None,
    ):
        super().__init__()
        self.directory = Path(directory)
        self.csv_path = Path(csv_path) if csv_path is not None and is_chief else None
        self.fingerprint = fingerprint
        self.state = state
        self.monitor = monitor
        self.mode = mode
        self.is_chief = is_chief
        self.history: dict[str, list[float]] = dict(state["history"]) if state else {}
        self.best = dict(state.get("best") or {}) if state else {}
        self.epochs_done = int(state["epoch"]) if state else 0
        self._epoch_start: float | None = None
        if is_chief:
            self.write_dir = self.directory
        else:
            self.write_dir = Path(tempfile.mkdtemp(prefix=f"emozoo-worker{worker_index}-"))
        self.write_dir.mkdir(parents=True, exist_ok=True)

    def on_train_begin(self, logs=None):
        if not self.state:
            return
        optimizer = self.model.optimizer
        if optimizer is not None and not optimizer.built:
            optimizer.build(self.model.trainable_variables)
        self.model.load_weights(self.directory / LAST_WEIGHTS)
        self.model._initial_epoch = self.epochs_done

    def _improved(self, value: float) -> bool:
        if math.isnan(value):
            return False
        if "value" not in self.best:
            return True
        return value > self.best["value"] if self.mode == "max" else value < self.best["value"]

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        # Wall time per epoch, kept across resumptions: what a resumed run really cost.
        if self._epoch_start is not None:
            logs["epoch_seconds"] = time.perf_counter() - self._epoch_start
        self.epochs_done = epoch + 1
        for key, value in logs.items():
            try:
                self.history.setdefault(key, []).append(_float(value))
            except (TypeError, ValueError):
                continue
        folder = self.write_dir
        temporary = folder / "last.partial.weights.h5"
        self.model.save_weights(temporary)
        os.replace(temporary, folder / LAST_WEIGHTS)
        value = logs.get(self.monitor)
        if value is not None and self._improved(_float(value)):
            self.best = {"epoch": self.epochs_done, "value": _float(value), "monitor": self.monitor}
            shutil.copyfile(folder / LAST_WEIGHTS, folder / "best.partial.weights.h5")
            os.replace(folder / "best.partial.weights.h5", folder / BEST_WEIGHTS)
        state = {
            "epoch": self.epochs_done,
            "history": self.history,
            "best": self.best,
            "fingerprint": self.fingerprint,
        }
        _atomic_write_text(folder / STATE_FILE, json.dumps(state, indent=1) + "\n")
        if self.csv_path is not None:
            write_history_csv(self.history, self.csv_path)

    def cleanup(self) -> None:
        """Remove a non-chief worker's scratch folder."""
        if not self.is_chief:
            shutil.rmtree(self.write_dir, ignore_errors=True)


class LearningRateLogger(keras.callbacks.Callback):
    """Add the optimizer's current learning rate to the epoch logs (history, TensorBoard)."""

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None and self.model.optimizer is not None:
            logs["learning_rate"] = _float(self.model.optimizer.learning_rate)


def _figure_to_png(report) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "confusion.png"
        report.plot_confusion(path)
        return path.read_bytes()


class ConfusionMatrixLogger(keras.callbacks.Callback):
    """After each epoch, predict ``dataset``: a confusion-matrix image goes to TensorBoard
    (``<log_dir>/validation``), macro-F1 and UAR into the epoch logs (``val_macro_f1``,
    ``val_uar``; the TensorBoard callback, placed after this one, logs them). ``model``
    predicts instead of the model being fitted (e.g. the classifier inside a training
    wrapper with more outputs)."""

    def __init__(
        self,
        dataset,
        labels: Sequence[str],
        log_dir: str | Path | None,
        model: keras.Model | None = None,
    ):
        super().__init__()
        self.dataset = dataset
        self._predicting = model
        self.labels = tuple(labels)
        self.log_dir = Path(log_dir) if log_dir is not None else None
        self._writer: Any = None  # a tf.summary file writer, opened on first use
        self._predict = None

    def _predict_function(self):
        # Under a tf.distribute strategy, predict_on_batch would run the whole batch on
        # every replica and concatenate the copies; a plain call in cross-replica
        # context reads the (identical) replicated weights once.
        model = self._predicting or self.model
        if keras.backend.backend() != "tensorflow":
            return lambda inputs: model.predict_on_batch(
                keras.tree.map_structure(np.asarray, inputs)
            )
        if self._predict is None:
            import tensorflow as tf

            self._predict = tf.function(
                lambda inputs: model(inputs, training=False), reduce_retracing=True
            )
        return self._predict

    def _report(self, epoch: int):
        from emozoo.evaluation import EvaluationReport

        truth, predictions = [], []
        predict = self._predict_function()
        for inputs, target in self.dataset:
            predictions.append(np.asarray(predict(inputs)))
            if isinstance(target, dict):  # a training wrapper's targets
                target = target["predictions"]
            target = np.asarray(target)
            truth.append(target.argmax(-1) if target.ndim == 2 else target)
        if not truth:
            return None
        return EvaluationReport.from_predictions(
            f"validation, epoch {epoch + 1}",
            np.concatenate(truth),
            np.concatenate(predictions),
            self.labels,
        )

    def on_epoch_end(self, epoch, logs=None):
        report = self._report(epoch)
        if report is None:
            return
        if logs is not None:
            logs["val_macro_f1"] = report.metrics["macro_f1"]
            logs["val_uar"] = report.metrics["uar"]
        if self.log_dir is None:
            return
        import tensorflow as tf

        if self._writer is None:
            self._writer = tf.summary.create_file_writer(str(self.log_dir / "validation"))
        image = tf.image.decode_png(_figure_to_png(report), channels=4)[None]
        with self._writer.as_default(step=epoch):
            tf.summary.image("confusion_matrix", image)
        self._writer.flush()

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def write_hparams(log_dir: str | Path, hparams: dict[str, Any], run_name: str) -> None:
    """Record the run's hyper-parameters for TensorBoard's HParams tab."""
    import tensorflow as tf
    from tensorboard.plugins.hparams import api as hp

    clean = {
        key: value if isinstance(value, (bool, int, float, str)) else str(value)
        for key, value in hparams.items()
    }
    writer = tf.summary.create_file_writer(str(Path(log_dir)))
    with writer.as_default():
        hp.hparams(clean, trial_id=run_name)
    writer.close()


def plot_history(history: dict[str, Sequence[float]], path: str | Path, title: str = "") -> Path:
    """Loss, accuracy (and macro-F1) and learning rate per epoch, as one PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    panels = [
        ("loss", ["loss", "val_loss"]),
        ("accuracy", ["accuracy", "val_accuracy", "val_macro_f1"]),
        ("learning rate", ["learning_rate"]),
    ]
    panels = [(name, [k for k in keys if history.get(k)]) for name, keys in panels]
    panels = [(name, keys) for name, keys in panels if keys]
    if not panels:
        raise ValueError("The history holds no loss, accuracy or learning rate to plot")
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.4))
    axes = np.atleast_1d(axes)
    for ax, (name, keys) in zip(axes, panels, strict=True):
        for key in keys:
            values = history[key]
            ax.plot(range(1, len(values) + 1), values, marker="o", markersize=3, label=key)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
        ax.set_title(name)
        ax.grid(alpha=0.3)
        if name == "learning rate":
            ax.ticklabel_format(axis="y", style="sci", scilimits=(0, 0))
        else:
            ax.legend(fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_history_csv(history: Mapping[str, Sequence[float]], path: str | Path) -> Path:
    """``epoch,<metric>...`` rows, one per epoch."""
    keys = sorted(history)
    length = max((len(history[k]) for k in keys), default=0)
    lines = [",".join(["epoch", *keys])]
    for i in range(length):
        row = [str(i + 1)]
        for key in keys:
            values = history[key]
            row.append(repr(values[i]) if i < len(values) else "")
        lines.append(",".join(row))
    path = Path(path)
    _atomic_write_text(path, "\n".join(lines) + "\n")
    return path
