"""AdamW with a learning-rate scale per variable: pretrained encoders learn slower."""

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
