"""Fine-tuning policies: which weights of a pretrained model train, and how fast.

A model has *encoders* and a *head*. In the fused models the encoders are the
sub-models ``face_encoder``, ``text_encoder`` and ``audio_encoder``; the head is the
rest (the fusion part and the classifier). In a unimodal model (or a fusion head over
embeddings) the encoder is everything below the classifier. Policies (``freeze=``):

- ``"encoders"``: train the head only; the encoders are frozen (normalisation layers
  in inference mode).
- ``"encoders_but_top"``: as ``"encoders"``, but the top ``unfreeze_top`` layers with
  weights of each encoder train too (normalisation layers stay frozen), at
  ``learning_rate * encoder_lr_scale``.
- ``"none"``: full fine-tuning; encoder weights learn at ``learning_rate *
  encoder_lr_scale`` (default a tenth), the head at ``learning_rate``.
- ``"lora"``: every pretrained ``Dense``, ``EinsumDense`` and ``Embedding`` layer gets
  low-rank adapters (Keras ``enable_lora``) that train while its kernel stays frozen;
  other pretrained weights are frozen; classifiers train fully. :func:`merge_lora`
  folds the adapters back into plain kernels.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import keras

from emozoo.models import ClassifierHead

POLICIES: dict[str, str] = {
    "encoders": "train the head only (encoders frozen)",
    "encoders_but_top": "head plus the top layers of each encoder",
    "none": "everything trains; encoders at a lower learning rate",
    "lora": "LoRA adapters on Dense/EinsumDense/Embedding layers, classifier fully",
}
_NORMALIZATION = (
    keras.layers.BatchNormalization,
    keras.layers.LayerNormalization,
    keras.layers.GroupNormalization,
)
_LORA_TYPES = (keras.layers.Dense, keras.layers.EinsumDense, keras.layers.Embedding)


@dataclass
class PolicyReport:
    """What a policy did to a model: counts for logs and the encoder variables to slow down."""

    policy: str
    encoders: list[str]
    trainable_params: int = 0
    frozen_params: int = 0
    lora_layers: list[str] = field(default_factory=list)
    unfrozen_encoder_layers: list[str] = field(default_factory=list)
    slow_variables: list = field(default_factory=list, repr=False)

    def summary(self) -> str:
        text = (
            f"freeze={self.policy!r}: {self.trainable_params:,} trainable / "
            f"{self.frozen_params:,} frozen parameters"
        )
        if self.lora_layers:
            text += f"; LoRA on {len(self.lora_layers)} layers"
        if self.unfrozen_encoder_layers:
            text += f"; unfrozen encoder layers {self.unfrozen_encoder_layers}"
        return text


def _leaves(layer: keras.layers.Layer) -> list[keras.layers.Layer]:
    """``layer`` and its sub-layers that have no sub-layers of their own."""
    return [item for item in layer._flatten_layers(include_self=True) if not item._layers]


def _set_trainable(layer: keras.layers.Layer, value: bool) -> None:
    # Set on the leaves only: a container set to False would hide the weights of a
    # child set back to True (Layer.trainable_weights is empty when not trainable).
    for leaf in _leaves(layer):
        leaf.trainable = value


def _is_classifier(layer: keras.layers.Layer) -> bool:
    return isinstance(layer, ClassifierHead) or layer.name == "head_dropout"


def encoders(model: keras.Model) -> dict[str, list[keras.layers.Layer]]:
    """``{encoder name: its layers, bottom to top}`` of ``model``.

    Fused models: the ``*_encoder`` sub-models. Otherwise one encoder, ``"backbone"``:
    the model's layers below its classifier.
    """
    subs = [
        layer
        for layer in model.layers
        if isinstance(layer, keras.Model) and layer.name.endswith("_encoder")
    ]
    if subs:
        return {sub.name: list(sub.layers) for sub in subs}
    return {"backbone": [layer for layer in model.layers if not _is_classifier(layer)]}


def _params(variables) -> int:
    total = 0
    for v in variables:
        size = 1
        for dim in v.shape:
            size *= int(dim)
        total += size
    return total


def check_policy(freeze: str, unfreeze_top: int = 2, lora_rank: int = 4) -> None:
    """Raise ``ValueError`` naming the bad argument of a fine-tuning policy."""
    if freeze not in POLICIES:
        raise ValueError(
            f"Unknown freeze policy {freeze!r}; choose one of "
            + ", ".join(f"{name!r} ({what})" for name, what in POLICIES.items())
        )
    if not isinstance(unfreeze_top, int) or unfreeze_top < 1:
        raise ValueError(f"unfreeze_top must be a positive number of layers, got {unfreeze_top!r}")
    if not isinstance(lora_rank, int) or lora_rank < 1:
        raise ValueError(f"lora_rank must be a positive integer, got {lora_rank!r}")


def apply_policy(
    model: keras.Model,
    freeze: str = "encoders",
    *,
    unfreeze_top: int = 2,
    lora_rank: int = 4,
    lora_alpha: float | None = None,
) -> PolicyReport:
    """Set which weights of ``model`` train, in place (see the module docstring).

    Returns a :class:`PolicyReport`; its ``slow_variables`` are the trainable encoder
    weights that :func:`emozoo.training.fit` gives the lower learning rate. LoRA adds
    variables, so build and compile the model (and enter a distribution scope) first.

    >>> import emozoo
    >>> model = emozoo.load("face_cnn", weights=None, labels=["calm", "happy"])
    >>> apply_policy(model, "encoders").trainable_params
    514
    """
    check_policy(freeze, unfreeze_top, lora_rank)
    groups = encoders(model)
    report = PolicyReport(freeze, list(groups))
    # Start from "everything trains". Keras skips a setter call that does not change the
    # layer's own flag, so go through False to reach leaves frozen by an earlier policy.
    model.trainable = False
    model.trainable = True
    encoder_layers = [layer for layers in groups.values() for layer in layers]

    if freeze in ("encoders", "encoders_but_top"):
        for layer in encoder_layers:
            _set_trainable(layer, False)
    if freeze == "encoders_but_top":
        for name, layers in groups.items():
            candidates = [
                layer for layer in layers if layer.weights and not isinstance(layer, _NORMALIZATION)
            ]
            for layer in candidates[-unfreeze_top:]:
                _set_trainable(layer, True)
                for leaf in _leaves(layer):  # normalisation inside stays frozen
                    if isinstance(leaf, _NORMALIZATION):
                        leaf.trainable = False
                report.unfrozen_encoder_layers.append(f"{name}/{layer.name}")
    if freeze == "lora":
        for leaf in _leaves(model):
            if _is_classifier(leaf) or not leaf.weights:
                continue
            if isinstance(leaf, _LORA_TYPES) and not getattr(leaf, "lora_enabled", False):
                leaf.trainable = True
                leaf.enable_lora(lora_rank, lora_alpha=lora_alpha)
                for variable in leaf.trainable_weights:
                    if "lora" not in variable.name:
                        variable.trainable = False  # biases stay as pretrained
                report.lora_layers.append(leaf.name)
            else:
                leaf.trainable = False

    _forget_traced_functions(model)
    if freeze in ("none", "encoders_but_top"):
        encoder_ids = {id(v) for layer in encoder_layers for v in layer.weights}
        report.slow_variables = [v for v in model.trainable_weights if id(v) in encoder_ids]
    report.trainable_params = _params(model.trainable_weights)
    report.frozen_params = _params(model.non_trainable_weights)
    return report


def _forget_traced_functions(model: keras.Model) -> None:
    """Drop ``fit``/``predict`` functions traced before a change of layers or dtypes."""
    for name in ("train_function", "test_function", "predict_function"):
        if getattr(model, name, None) is not None:
            setattr(model, name, None)


def lora_layers(model: keras.Model) -> list[keras.layers.Layer]:
    """The layers of ``model`` (at any depth) with LoRA enabled."""
    return [layer for layer in _leaves(model) if getattr(layer, "lora_enabled", False)]


def strip_lora_config(config):
    """A copy of a model config with ``lora_rank``/``lora_alpha`` removed from every layer."""
    if isinstance(config, dict):
        return {
            key: strip_lora_config(value)
            for key, value in config.items()
            if key not in ("lora_rank", "lora_alpha")
        }
    if isinstance(config, list):
        return [strip_lora_config(value) for value in config]
    return config


def merge_lora(model: keras.Model) -> keras.Model:
    """A plain twin of a LoRA model: adapters folded into the kernels, no LoRA layers.

    The twin computes the same function, saves to ``.keras`` and exports like the
    model before LoRA was enabled. A model without LoRA is returned as is.
    """
    if not lora_layers(model):
        return model
    import tempfile
    from pathlib import Path

    twin = model.__class__.from_config(strip_lora_config(model.get_config()))
    with tempfile.TemporaryDirectory() as folder:
        # A LoRA layer saves its merged kernel (Keras' save_own_variables), and the
        # LoRA variables are not part of the file: the layout is the plain model's.
        path = Path(folder) / "merged.weights.h5"
        model.save_weights(path)
        twin.load_weights(path)
    return twin


def set_mixed_precision(model: keras.Model, policy: str) -> None:
    """Compute in ``policy`` (``"mixed_float16"`` / ``"mixed_bfloat16"``), weights in float32.

    Applied to a built model, layer by layer; classifiers keep float32 so that the
    soft-max and the loss stay in full precision.
    """
    dtype_policy = keras.DTypePolicy(policy)
    for layer in model._flatten_layers(include_self=True):
        if _is_classifier(layer) or isinstance(layer, keras.layers.InputLayer):
            continue
        layer.dtype_policy = dtype_policy
    _forget_traced_functions(model)


__all__ = [
    "POLICIES",
    "PolicyReport",
    "apply_policy",
    "check_policy",
    "encoders",
    "lora_layers",
    "merge_lora",
    "set_mixed_precision",
    "strip_lora_config",
]
