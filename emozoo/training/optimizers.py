"""The optimiser of every training run: AdamW (with a learning-rate scale per variable:
pretrained encoders learn slower) under linear warm-up then cosine decay."""

from __future__ import annotations

from collections.abc import Iterable

import keras


@keras.saving.register_keras_serializable(package="emozoo")
class ScaledAdamW(keras.optimizers.AdamW):
    """``keras.optimizers.AdamW`` whose step size is multiplied, per variable, by a scale.

    ``scaled_variables`` (keras Variables) get ``learning_rate * scale``; every other
    variable gets ``learning_rate``. Used by :func:`emozoo.training.fit` for full
    fine-tuning, where pretrained encoders move at a tenth of the head's rate. The
    decoupled weight decay is the same for every variable. The scale is not part of
    the optimizer's config (it names variables of one model), so an optimizer rebuilt
    from a saved config is a plain AdamW.

    >>> layer = keras.layers.Dense(2)
    >>> layer.build((None, 3))
    >>> opt = ScaledAdamW(learning_rate=1e-3, scaled_variables=[layer.kernel], scale=0.1)
    """

    def __init__(
        self,
        *args,
        scaled_variables: Iterable[keras.Variable] = (),
        scale: float = 1.0,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        if scale <= 0:
            raise ValueError(f"The learning-rate scale must be positive, got {scale}")
        self._scale = float(scale)
        self._scaled_ids = {id(v) for v in scaled_variables}
        self._scales: list[float] = []

    def build(self, var_list):
        super().build(var_list)
        self._scales = [self._scale if id(v) in self._scaled_ids else 1.0 for v in var_list]

    @property
    def num_scaled(self) -> int:
        """How many of the built variables learn at the scaled rate."""
        return sum(s != 1.0 for s in self._scales)

    def update_step(self, gradient, variable, learning_rate):
        scale = self._scales[self._get_variable_index(variable)] if self._scales else 1.0
        if scale != 1.0:
            learning_rate = learning_rate * scale
        super().update_step(gradient, variable, learning_rate)


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
