"""Custom layers used by the emozoo architectures.

Every layer here is registered as Keras-serializable under the ``emozoo`` package, so
``.keras`` files reload with ``safe_mode=True`` and no ``custom_objects``. Only
``keras.ops`` is used, so each layer runs on the TensorFlow and JAX backends.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
from keras import ops

_PACKAGE = "emozoo"
# A large finite negative instead of -inf: a row whose every position is masked
# (an absent text) then gets uniform weights instead of NaN.
_MASK_LOGIT = -1e9


@keras.saving.register_keras_serializable(package=_PACKAGE)
class ClassifierHead(keras.layers.Dense):
    """A ``Dense`` classifier that carries its label names in its config.

    The labels travel with the model through ``.keras`` files and exports, so a
    saved model always knows what its outputs mean.
    """

    def __init__(self, labels: Sequence[str], activation="softmax", **kwargs):
        kwargs.pop("units", None)
        super().__init__(units=len(labels), activation=activation, **kwargs)
        self.labels = tuple(str(label) for label in labels)

    def get_config(self):
        config = super().get_config()
        config.pop("units", None)
        config["labels"] = list(self.labels)
        return config


@keras.saving.register_keras_serializable(package=_PACKAGE)
class AttentionPooling(keras.layers.Layer):
    """Additive attention pooling over time: ``(batch, time, dim) -> (batch, dim)``.

    Scores ``v . tanh(W x_t)`` are soft-maxed over the unmasked time steps; the
    Keras mask from ``Embedding(mask_zero=True)`` is honoured.
    """

    def __init__(self, units: int = 64, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.supports_masking = True
        self.hidden = keras.layers.Dense(units, activation="tanh", name="hidden")
        self.score = keras.layers.Dense(1, use_bias=False, name="score")

    def build(self, input_shape):
        self.hidden.build(input_shape)
        self.score.build((*input_shape[:-1], self.units))
        self.built = True

    def call(self, inputs, mask=None):
        scores = ops.squeeze(self.score(self.hidden(inputs)), axis=-1)
        if mask is not None:
            scores = ops.where(ops.cast(mask, "bool"), scores, _MASK_LOGIT)
        weights = ops.softmax(scores, axis=-1)
        return ops.sum(inputs * ops.expand_dims(weights, -1), axis=1)

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1])

    def get_config(self):
        return {**super().get_config(), "units": self.units}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class ModalityTokens(keras.layers.Layer):
    """Turn per-modality tokens into a Transformer sequence with a CLS token.

    Inputs: ``[tokens, presence]`` with ``tokens`` of shape ``(batch, modalities, dim)``
    and ``presence`` of shape ``(batch, modalities)`` (1 present, 0 missing).
    Adds a learned modality-type embedding to each token, zeroes missing ones, and
    prepends a learned CLS token. Returns ``[sequence, padding_mask]`` with shapes
    ``(batch, modalities + 1, dim)`` and ``(batch, modalities + 1)``; the CLS position is
    always unmasked, so attention never sees an all-masked row.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)

    def build(self, input_shape):
        tokens_shape, _ = input_shape
        num_modalities, dim = tokens_shape[1], tokens_shape[2]
        self.type_embedding = self.add_weight(
            name="type_embedding",
            shape=(num_modalities, dim),
            initializer=keras.initializers.TruncatedNormal(stddev=0.02),
        )
        self.cls_token = self.add_weight(
            name="cls_token",
            shape=(1, 1, dim),
            initializer=keras.initializers.TruncatedNormal(stddev=0.02),
        )
        self.built = True

    def call(self, inputs):
        tokens, presence = inputs
        presence = ops.cast(presence, tokens.dtype)
        tokens = (tokens + ops.expand_dims(self.type_embedding, 0)) * ops.expand_dims(presence, -1)
        batch = ops.shape(tokens)[0]
        cls = ops.broadcast_to(ops.cast(self.cls_token, tokens.dtype), (batch, 1, tokens.shape[-1]))
        sequence = ops.concatenate([cls, tokens], axis=1)
        padding_mask = ops.concatenate(
            [ops.ones((batch, 1), dtype="bool"), ops.greater(presence, 0.5)], axis=1
        )
        return [sequence, padding_mask]

    def compute_output_shape(self, input_shape):
        tokens_shape, _ = input_shape
        length = None if tokens_shape[1] is None else tokens_shape[1] + 1
        return [(tokens_shape[0], length, tokens_shape[2]), (tokens_shape[0], length)]


@keras.saving.register_keras_serializable(package=_PACKAGE)
class ClassToken(keras.layers.Layer):
    """Select the CLS position of a sequence: ``(batch, time, dim) -> (batch, dim)``."""

    def call(self, inputs):
        return inputs[:, 0, :]

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[2])


@keras.saving.register_keras_serializable(package=_PACKAGE)
class MaskedModalityAverage(keras.layers.Layer):
    """Decision-level fusion: a weighted average of per-modality logits.

    Inputs: ``[logits, presence]`` with shapes ``(batch, modalities, classes)`` and
    ``(batch, modalities)``. Each modality has a learned weight; weights are
    renormalised over the modalities present in each sample. With nothing present the
    output is all zeros (uniform after softmax).
    """

    def build(self, input_shape):
        logits_shape, _ = input_shape
        self.modality_logit = self.add_weight(
            name="modality_logit", shape=(logits_shape[1],), initializer="zeros"
        )
        self.built = True

    def call(self, inputs):
        logits, presence = inputs
        presence = ops.cast(presence, logits.dtype)
        weights = ops.exp(ops.cast(self.modality_logit, logits.dtype)) * presence
        weights = weights / (ops.sum(weights, axis=-1, keepdims=True) + 1e-7)
        return ops.sum(logits * ops.expand_dims(weights, -1), axis=1)

    def compute_output_shape(self, input_shape):
        logits_shape, _ = input_shape
        return (logits_shape[0], logits_shape[2])


@keras.saving.register_keras_serializable(package=_PACKAGE)
class PresenceGate(keras.layers.Layer):
    """Multiply an embedding by its modality's presence flag (zero when missing)."""

    def call(self, inputs):
        embedding, presence = inputs
        return embedding * ops.cast(presence, embedding.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape[0]


@keras.saving.register_keras_serializable(package=_PACKAGE)
class SpecAugment(keras.layers.Layer):
    """SpecAugment time and frequency masking on a ``(batch, frames, bins)`` spectrogram.

    Active only in training (like ``Dropout``); at inference it is the identity, so
    it costs nothing in exported models. Masks are filled with zeros, which after the
    model's normalisation is the mean level.

    Args:
        time_masks, time_width: number of time masks and their maximum width in frames.
        freq_masks, freq_width: number of frequency masks and their maximum width in bins.
    """

    def __init__(
        self, time_masks=2, time_width=20, freq_masks=2, freq_width=8, seed=None, **kwargs
    ):
        super().__init__(**kwargs)
        self.time_masks, self.time_width = time_masks, time_width
        self.freq_masks, self.freq_width = freq_masks, freq_width
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def _band_mask(self, batch, length, count, width, dtype):
        positions = ops.expand_dims(ops.arange(length, dtype="float32"), 0)
        keep = ops.ones((batch, length), dtype="float32")
        for _ in range(count):
            size = keras.random.uniform(
                (batch, 1), 0.0, float(width) + 1.0, seed=self.seed_generator
            )
            size = ops.floor(size)
            start = keras.random.uniform((batch, 1), 0.0, 1.0, seed=self.seed_generator)
            start = ops.floor(start * ops.maximum(float(length) - size, 0.0))
            inside = ops.logical_and(positions >= start, positions < start + size)
            keep = keep * (1.0 - ops.cast(inside, "float32"))
        return ops.cast(keep, dtype)

    def call(self, inputs, training=None):
        if not training or (self.time_masks == 0 and self.freq_masks == 0):
            return inputs
        batch = ops.shape(inputs)[0]
        frames, bins = inputs.shape[1], inputs.shape[2]
        time_keep = self._band_mask(batch, frames, self.time_masks, self.time_width, inputs.dtype)
        freq_keep = self._band_mask(batch, bins, self.freq_masks, self.freq_width, inputs.dtype)
        return inputs * ops.expand_dims(time_keep, 2) * ops.expand_dims(freq_keep, 1)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "time_masks": self.time_masks,
            "time_width": self.time_width,
            "freq_masks": self.freq_masks,
            "freq_width": self.freq_width,
            "seed": self.seed,
        }


@keras.saving.register_keras_serializable(package=_PACKAGE)
class TokenPaddingMask(keras.layers.Layer):
    """BERT side inputs from padded token ids: ``(padding_mask, segment_ids)``.

    Id ``0`` is ``[PAD]``; every other position is a real token of segment 0. The
    model therefore takes one int32 input, like ``text_bilstm``, and exports with it.
    """

    def call(self, token_ids):
        padding_mask = ops.cast(ops.not_equal(token_ids, 0), "int32")
        return padding_mask, ops.zeros_like(padding_mask)

    def compute_output_spec(self, token_ids):
        spec = keras.KerasTensor(token_ids.shape, dtype="int32")
        return spec, keras.KerasTensor(token_ids.shape, dtype="int32")


@keras.saving.register_keras_serializable(package=_PACKAGE)
class MaskedMeanPooling(keras.layers.Layer):
    """Mean over the unmasked tokens: ``[(batch, time, dim), (batch, time)] -> (batch, dim)``.

    Sentence-transformers' mean pooling. An all-padding row (an absent text) gives zeros.
    """

    def call(self, inputs):
        sequence, mask = inputs
        mask = ops.expand_dims(ops.cast(mask, sequence.dtype), -1)
        total = ops.sum(sequence * mask, axis=1)
        count = ops.maximum(ops.sum(mask, axis=1), 1.0)
        return total / count

    def compute_output_shape(self, input_shapes):
        sequence_shape = input_shapes[0]
        return (sequence_shape[0], sequence_shape[-1])


@keras.saving.register_keras_serializable(package=_PACKAGE)
class ClipLogMelSpectrogram(keras.layers.MelSpectrogram):
    """``keras.layers.MelSpectrogram`` whose ``top_db`` floor is set per clip.

    Keras clamps the decibels at ``max - top_db`` with the maximum over the whole batch,
    so one clip's features (and prediction) changed with the clips batched beside it:
    ``audio_lstm`` scored 54.6% on RAVDESS's test actors in one batch of 240 and 52.5%
    clip by clip. Here each clip's floor is its own maximum minus ``top_db``.
    """

    def _dbscale(self, inputs):
        np_ = self.backend.numpy  # a TFDataLayer: tf inside tf.data, the backend elsewhere
        log_spec = 10.0 * np_.log10(np_.maximum(inputs, self.min_power))
        ref_value = np_.abs(self.backend.convert_to_tensor(self.ref_power))
        log_spec -= 10.0 * np_.log10(np_.maximum(ref_value, self.min_power))
        peak = np_.max(log_spec, axis=tuple(range(1, len(log_spec.shape))), keepdims=True)
        return np_.maximum(log_spec, peak - self.top_db)
