"""Cross-modal alignment: a supervised contrastive (CLIP-style) loss between the face,
text and audio tokens of the Transformer fusion head.

The fusion head projects each modality embedding to a token (``<modality>_projection``
layers). Training with this loss beside the classification loss pulls the tokens of
items that share a label together across modalities and pushes the others apart, so
the projections become a shared space in which a face can retrieve voices and texts of
the same emotion (see :mod:`emozoo.evaluation.retrieval`).

Pseudo-pairs are matched by label only, so positives are *every* item of another
modality with the same label in the batch (supervised contrastive, Khosla et al. 2020),
not just the item drawn into the same pair.
"""

from __future__ import annotations

import itertools

import keras
from keras import ops

from emozoo.models import MODALITIES, presence_input_name, projection_layers

ALIGNMENT_OUTPUT = "alignment"
_MASKED = -1e9


@keras.saving.register_keras_serializable(package="emozoo")
class SupervisedContrastiveAlignment(keras.losses.Loss):
    """Symmetric supervised InfoNCE between every pair of modalities.

    ``y_true``: int labels ``(batch,)`` or ``(batch, 1)``. ``y_pred``: ``(batch,
    modalities, dim + 1)``: L2-normalised tokens with the presence flag in the last
    channel (what :func:`alignment_training_model` outputs). For each ordered pair of
    modalities ``(a, b)`` and each present anchor of ``a`` with at least one present
    same-label item of ``b`` in the batch, the loss is the mean negative log-softmax
    (over present items of ``b``, similarity / ``temperature``) of its positives.
    """

    def __init__(self, temperature: float = 0.1, name: str = "alignment", **kwargs):
        super().__init__(name=name, **kwargs)
        self.temperature = float(temperature)

    def call(self, y_true, y_pred):
        labels = ops.reshape(ops.cast(y_true, "int32"), (-1,))
        tokens, present = y_pred[..., :-1], y_pred[..., -1]
        same_label = ops.cast(
            ops.equal(ops.expand_dims(labels, 1), ops.expand_dims(labels, 0)), tokens.dtype
        )
        total, anchors = 0.0, 0.0
        for a, b in itertools.permutations(range(tokens.shape[1]), 2):
            logits = ops.matmul(tokens[:, a], ops.transpose(tokens[:, b])) / self.temperature
            column_present = ops.expand_dims(present[:, b], 0)
            logits = ops.where(column_present > 0.5, logits, _MASKED)
            log_probs = logits - ops.logsumexp(logits, axis=1, keepdims=True)
            positives = same_label * column_present * ops.expand_dims(present[:, a], 1)
            count = ops.sum(positives, axis=1)
            per_anchor = -ops.sum(positives * log_probs, axis=1) / ops.maximum(count, 1.0)
            valid = ops.cast(count > 0, tokens.dtype)
            total = total + ops.sum(per_anchor * valid)
            anchors = anchors + ops.sum(valid)
        # One scalar per batch: Keras' sample weighting does not apply to this loss.
        loss = total / ops.maximum(anchors, 1.0)
        return ops.broadcast_to(loss, ops.shape(labels))

    def get_config(self):
        return {**super().get_config(), "temperature": self.temperature}


def alignment_training_model(head_model: keras.Model) -> keras.Model:
    """Wrap a fused model built over identity encoders with an alignment output.

    The result shares every weight with ``head_model`` and returns
    ``{"predictions": probabilities, "alignment": (batch, 3, dim + 1)}``.
    """
    projections = projection_layers(head_model)
    inputs = {t.name: t for t in head_model.inputs}
    missing = [m for m in MODALITIES if m not in inputs]
    if missing:
        raise ValueError(f"The head model lacks inputs {missing}")
    tokens = []
    for modality in MODALITIES:
        token = projections[modality](inputs[modality])
        token = keras.layers.UnitNormalization(name=f"{modality}_aligned")(token)
        present = inputs[presence_input_name(modality)]
        token = keras.layers.Concatenate(name=f"{modality}_aligned_with_flag")([token, present])
        tokens.append(keras.layers.Reshape((1, token.shape[-1]))(token))
    aligned = keras.layers.Concatenate(axis=1, name=ALIGNMENT_OUTPUT)(tokens)
    return keras.Model(
        inputs,
        {"predictions": head_model(inputs), ALIGNMENT_OUTPUT: aligned},
        name=f"{head_model.name}_aligned",
    )
