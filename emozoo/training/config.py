"""What one training run does: :class:`FitConfig`, the settings of :func:`emozoo.training.fit`.

The settings come in three groups: :class:`Optimization` (how the weights move),
:class:`FreezePolicy` (which weights move) and :class:`RunOptions` (where the run
happens and what it keeps). ``fit(model, ds, val, epochs=20, freeze="none")`` names
them flat; ``FitConfig.from_options(...)`` and :meth:`FitConfig.replace` take the same
flat names, and :meth:`FitConfig.options` gives them back.

>>> config = FitConfig.from_options(epochs=5, learning_rate=3e-4, freeze="none")
>>> config.optimization.learning_rate, config.policy.freeze, config.run.resume
(0.0003, 'none', True)
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import keras


@dataclass(frozen=True)
class Optimization:
    """How the weights move: AdamW with linear warm-up, then cosine decay to 1% of
    ``learning_rate``, on the categorical cross-entropy.

    Attributes:
        learning_rate, weight_decay, warmup_epochs: of the AdamW schedule.
        label_smoothing: of the categorical cross-entropy.
        class_weight: ``"balanced"`` (from the training labels), ``{label or index:
            weight}``, or ``None``.
        loss: another loss than the categorical cross-entropy, over target rows whose
            first ``len(labels)`` columns are the one-hot label (all zeros: no label),
            e.g. :class:`emozoo.training.distill.DistillationLoss`'s packed soft labels;
            accuracy is then read from those columns.
        alignment: ``{"weight": w, "temperature": t}`` adds the cross-modal
            :class:`~emozoo.training.alignment.SupervisedContrastiveAlignment` loss
            (weight ``w``) to a Transformer fusion head over identity encoders.
    """

    learning_rate: float = 1e-3
    weight_decay: float = 1e-4
    warmup_epochs: float = 1.0
    label_smoothing: float = 0.0
    class_weight: str | Mapping[Any, float] | None = None
    loss: keras.losses.Loss | None = None
    alignment: Mapping[str, float] | None = None


@dataclass(frozen=True)
class FreezePolicy:
    """Which weights train, and how fast (see :mod:`emozoo.training.policies`).

    Attributes:
        freeze: ``"encoders"`` (head only), ``"encoders_but_top"`` (plus the top
            ``unfreeze_top`` layers of each encoder), ``"none"`` (everything, encoders
            at ``learning_rate * encoder_lr_scale``), ``"lora"`` (adapters of rank
            ``lora_rank`` on Dense/EinsumDense/Embedding layers); these train a working
            copy and leave the model you pass uncompiled. ``None``: the model as you
            prepared it (its trainable flags, adapters and dtypes), trained in place on
            one device; its datasets may feed its inputs in any form Keras takes (a
            head over cached features, a model with LoRA enabled by hand).
    """

    freeze: str | None = "encoders"
    unfreeze_top: int = 2
    encoder_lr_scale: float = 0.1
    lora_rank: int = 4
    lora_alpha: float | None = None


@dataclass(frozen=True)
class RunOptions:
    """Where the run happens and what it keeps.

    Attributes:
        log_dir: the run folder: TensorBoard logs (``train/``, ``validation/``: scalars,
            a confusion-matrix image per epoch; hyper-parameters), ``checkpoints/``
            (every epoch), ``history.csv``, ``training_curves.png``, the final
            validation report (``validation.json``, ``.txt``, ``_confusion.png``) and
            ``run.json``. ``None``: nothing is kept.
        checkpoint: a file that also gets the best epoch's weights (with the optimizer
            state) at the end, e.g. ``runs/x/best.weights.h5``.
        resume: a run whose ``log_dir`` holds checkpoints continues from its last
            complete epoch (``False``: starts over).
        restore_best: end with the weights of the best validation epoch (else the last).
        early_stopping: stop after this many epochs without a better validation accuracy.
        confusion_matrices: log a confusion matrix of the validation data after each epoch.
        scan: one pass over the data first counts the batches (the schedule's length)
            and the labels (``class_weight="balanced"``; a check that they fit the
            model). ``False`` skips it for pipelines that are slow to read: the schedule
            takes the dataset's cardinality and labels are not checked beforehand.
        mixed_precision: ``"auto"`` (float16 compute on a capable GPU, float32 on CPU;
            with ``freeze=None``: the model's own), ``"off"``, ``"mixed_float16"`` or
            ``"mixed_bfloat16"``.
        strategy: ``"auto"``, ``"none"``, ``"mirrored"``, ``"multi_worker"``
            (``TF_CONFIG``), ``"data_parallel"`` (JAX) or a strategy object (see
            :mod:`emozoo.training.distribute`); with ``freeze=None`` one device only.
        seed: seeds Python, NumPy and the backend for a reproducible run.
        verbose: Keras' progress output (``"auto"``/1: a progress bar, 2: a line per epoch).
        callbacks: more Keras callbacks.
    """

    log_dir: str | Path | None = None
    checkpoint: str | Path | None = None
    resume: bool = True
    restore_best: bool = True
    early_stopping: int | None = None
    confusion_matrices: bool = True
    scan: bool = True
    mixed_precision: str | bool = "auto"
    strategy: Any = "auto"
    seed: int | None = None
    verbose: int | str = "auto"
    callbacks: Sequence[keras.callbacks.Callback] = ()


_GROUPS: dict[str, type] = {
    "optimization": Optimization,
    "policy": FreezePolicy,
    "run": RunOptions,
}
#: Flat option name -> the group that holds it.
OPTION_GROUPS: dict[str, str] = {
    item.name: group for group, cls in _GROUPS.items() for item in dataclasses.fields(cls)
}

#: The settings of a model its caller has prepared (a head over cached features, a
#: backbone with LoRA enabled, a model in the global mixed precision): trained as it
#: is, in place, on one device, the schedule from the dataset's cardinality.
PREPARED_MODEL: dict[str, Any] = {
    "freeze": None,
    "strategy": "none",
    "mixed_precision": "off",
    "scan": False,
    "confusion_matrices": False,
}


@dataclass(frozen=True)
class FitConfig:
    """Every setting of one :func:`emozoo.training.fit` run, in three groups."""

    epochs: int = 10
    optimization: Optimization = field(default_factory=Optimization)
    policy: FreezePolicy = field(default_factory=FreezePolicy)
    run: RunOptions = field(default_factory=RunOptions)

    @classmethod
    def from_options(cls, **options: Any) -> FitConfig:
        """A config from flat option names (``epochs=``, ``learning_rate=``, ``freeze=``,
        ``log_dir=``...: every field of the three groups), the rest at their defaults."""
        return cls().replace(**options)

    @classmethod
    def for_prepared_model(cls, **options: Any) -> FitConfig:
        """A config for a model its caller has prepared (:data:`PREPARED_MODEL`),
        with ``options`` on top."""
        return cls.from_options(**{**PREPARED_MODEL, **options})

    def replace(self, **options: Any) -> FitConfig:
        """A copy with the flat ``options`` (or whole groups) changed.

        Raises:
            TypeError: an option that no group has, naming the closest one.
        """
        changes: dict[str, dict[str, Any]] = {group: {} for group in _GROUPS}
        top: dict[str, Any] = {}
        for key, value in options.items():
            if key == "epochs" or key in _GROUPS:
                top[key] = value
            elif key in OPTION_GROUPS:
                changes[OPTION_GROUPS[key]][key] = value
            else:
                close = difflib.get_close_matches(key, list(OPTION_GROUPS) + ["epochs"], n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise TypeError(
                    f"Unknown training option {key!r}{hint}; options: epochs, "
                    + ", ".join(OPTION_GROUPS)
                )
        for group, values in changes.items():
            if values:
                top[group] = dataclasses.replace(top.get(group, getattr(self, group)), **values)
        return dataclasses.replace(self, **top)

    def options(self) -> dict[str, Any]:
        """Every setting under its flat name (what :meth:`from_options` takes)."""
        flat: dict[str, Any] = {"epochs": self.epochs}
        for group in _GROUPS:
            flat.update(
                (item.name, getattr(getattr(self, group), item.name))
                for item in dataclasses.fields(getattr(self, group))
            )
        return flat


def prepared_model_config(options: FitConfig | Mapping[str, Any]) -> FitConfig:
    """``options`` if they are a :class:`FitConfig`, else the config of a prepared model
    (:meth:`FitConfig.for_prepared_model`) with these flat options."""
    if isinstance(options, FitConfig):
        return options
    return FitConfig.for_prepared_model(**options)


__all__ = [
    "OPTION_GROUPS",
    "PREPARED_MODEL",
    "FitConfig",
    "FreezePolicy",
    "Optimization",
    "RunOptions",
    "prepared_model_config",
]
