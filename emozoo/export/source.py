"""What is being exported: a model given as an object, a registered name or a ``.keras`` file.

Also the export-time copy of a model: the same layers and weights, rebuilt for a CPU
(no cuDNN kernels) and, for integer quantization, with its recurrent layers unrolled.
"""

from __future__ import annotations

import copy
import inspect
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emozoo.preprocessing import MODALITY_PREPROCESSORS
from emozoo.registry.entry import MODALITY_NAMES


@dataclass
class ExportSource:
    """A model ready to export and what is known about it.

    Attributes:
        model: the ``keras.Model``.
        name: registered name or the model's own name.
        labels: class names in output order.
        preprocessing: per-modality preprocessing constants (input sizes, vocabulary...).
        origin: where it came from, for reports (``"registry:face_cnn"``, a file path...).
    """

    model: Any
    name: str
    labels: tuple[str, ...]
    preprocessing: dict[str, dict[str, Any]] = field(default_factory=dict)
    origin: str = "keras.Model"

    @property
    def modalities(self) -> tuple[str, ...]:
        return tuple(m for m in MODALITY_NAMES if m in self.input_names)

    @property
    def input_names(self) -> list[str]:
        return [t.name for t in self.model.inputs]


def _load_keras_file(path: Path):
    import keras

    import emozoo.models  # noqa: F401  (registers the custom layers)

    if not path.is_file():
        raise FileNotFoundError(f"Model file {path} does not exist")
    try:
        return keras.saving.load_model(path, safe_mode=True, compile=False)
    except Exception as error:
        raise ValueError(f"Cannot load {path} as a Keras model: {error}") from None


def preprocessing_for(model, entry_preprocessing: dict | None = None) -> dict[str, dict]:
    """Preprocessing constants of ``model``'s raw inputs.

    Takes a registry entry's values (a card states them in full) or, for a model no
    entry describes, the modality's preprocessor's own defaults, and sets the input
    sizes from the model's own input shapes (the model is the truth).
    """
    shapes = {t.name: tuple(t.shape[1:]) for t in model.inputs}
    params: dict[str, dict] = {}
    for modality in MODALITY_NAMES:
        if modality not in shapes:
            continue
        inputs = MODALITY_PREPROCESSORS[modality]
        given = (entry_preprocessing or {}).get(modality)
        merged = copy.deepcopy(given) if given is not None else _defaults(inputs)
        params[modality] = inputs.params_from_input_shape(shapes[modality], merged)
    return params


def _defaults(preprocessor: type) -> dict[str, Any]:
    """The parameters ``preprocessor`` takes when told none: its constructor's defaults."""
    parameters = inspect.signature(preprocessor).parameters.values()
    return {p.name: p.default for p in parameters if p.default is not inspect.Parameter.empty}


def resolve(model, labels=None) -> ExportSource:
    """An :class:`ExportSource` for a ``keras.Model``, a registered name or a ``.keras`` path
    (an :class:`ExportSource` is returned as it is).

    >>> resolve("face_cnn").labels[:2]  # doctest: +SKIP
    ('angry', 'disgust')
    """
    import keras

    from emozoo.models import get_labels

    if isinstance(model, ExportSource):
        return model
    entry = None
    if isinstance(model, keras.Model):
        origin = "keras.Model"
    elif isinstance(model, (str, Path)) and str(model).endswith(".keras"):
        path = Path(model).expanduser()
        origin = str(path)
        model = _load_keras_file(path)
    elif isinstance(model, str):
        import emozoo
        from emozoo.registry import get_entry

        entry = get_entry(model)  # UnknownModelError with suggestions
        if entry.speaker_normalisation is not None:
            # The standardisation spans a speaker's recordings: no one-sample graph has it.
            raise ValueError(
                f"{entry.name} standardises each speaker's inputs over many recordings, which "
                "an exported one-sample graph cannot do; it runs through "
                "EmotionRecognizer.predict_batch(..., speakers=...)"
            )
        origin = f"registry:{entry.name}"
        model = emozoo.load(entry.name)
    else:
        raise TypeError(
            f"Expected a keras.Model, a registered model name or a .keras path, got {type(model).__name__}"
        )
    if entry is None:
        from emozoo.registry import UnknownModelError, get_entry

        try:
            candidate = get_entry(model.name)
        except UnknownModelError:
            candidate = None
        # Only a registry entry whose model has the same inputs describes this one.
        if candidate is not None and set(candidate.modalities) <= {t.name for t in model.inputs}:
            entry = candidate
    found = get_labels(model)
    if labels is not None:
        labels = tuple(str(label) for label in labels)
        if found is not None and tuple(found) != labels:
            raise ValueError(
                f"labels={list(labels)} disagree with the labels stored in the model {list(found)}"
            )
    else:
        labels = tuple(found) if found is not None else None
    if len(model.outputs) != 1:
        raise ValueError(
            f"Model {model.name!r} has {len(model.outputs)} outputs; export takes a classifier "
            "with one probability output"
        )
    width = model.outputs[0].shape[-1]
    if labels is None:
        raise ValueError(
            f"Model {model.name!r} carries no label names (no emozoo ClassifierHead, e.g. an "
            "include_top=False embedding model); pass labels=[...] for its outputs"
        )
    if width != len(labels):
        raise ValueError(
            f"Model {model.name!r} outputs {width} values but has {len(labels)} labels"
        )
    return ExportSource(
        model=model,
        name=entry.name if entry is not None else model.name,
        labels=labels,
        preprocessing=preprocessing_for(model, entry.preprocessing if entry else None),
        origin=origin,
    )


def _rnn_config(config: dict, unroll: bool) -> dict:
    config = dict(config)
    if "use_cudnn" in config:
        config["use_cudnn"] = False
    if unroll and "unroll" in config:
        config["unroll"] = True
    return config


def export_copy(model, unroll: bool = False, lite: bool = False, quantize: str | None = None):
    """A copy of functional ``model`` with the same weights, built for export on a CPU.

    Recurrent layers get ``use_cudnn=False`` (a graph traced with cuDNN kernels while a GPU
    is visible does not run on CPU or mobile runtimes) and, with ``unroll``, ``unroll=True``
    (a fixed-length chain of cells instead of a while loop: what integer quantization
    needs). With ``lite``, layers with a faster or quantization-safe TFLite form for
    ``quantize`` get it (:mod:`emozoo.export.lite_layers`). Nested models are copied too.
    """
    import keras
    from keras.src.models.functional import Functional

    from emozoo.export.lite_layers import lite_replacement

    def clone(layer):
        if lite and (replacement := lite_replacement(layer, quantize)) is not None:
            return replacement
        if type(layer) is Functional or isinstance(layer, keras.Sequential):
            # Plain nested models (the fused models' encoders): copy their layers too.
            # Subclassed ones (keras-hub's BertBackbone) are rebuilt from their config
            # below, which Keras's recursive cloning cannot do.
            return keras.models.clone_model(layer, clone_function=clone)
        config = layer.get_config()
        if isinstance(layer, keras.layers.RNN):
            config = _rnn_config(config, unroll)
        elif isinstance(layer, keras.layers.Bidirectional):
            for key in ("layer", "backward_layer"):
                if config.get(key):
                    config[key] = {
                        **config[key],
                        "config": _rnn_config(config[key]["config"], unroll),
                    }
        return layer.__class__.from_config(config)

    try:
        copied = keras.models.clone_model(model, clone_function=clone)
    except Exception as error:
        raise ValueError(
            f"Cannot rebuild model {model.name!r} for export (only Functional and Sequential "
            f"models can be): {error}"
        ) from None
    if unroll:
        for layer in copied._flatten_layers(include_self=False, recursive=True):
            if isinstance(layer, keras.layers.Bidirectional):
                # Keras 3.15's unrolled RNN zeroes masked outputs with the mask in forward
                # order even when going backwards, which zeroes the wrong steps. Carrying
                # the previous output instead is the same for post-padded sequences (the
                # backward pass meets the padding first, while its output is still 0).
                layer.backward_layer.zero_output_for_mask = False
    source, target = model.weights, copied.weights
    if [tuple(w.shape) for w in source] != [tuple(w.shape) for w in target]:
        raise RuntimeError(f"The export copy of {model.name!r} does not have the same weights")
    copied.set_weights(model.get_weights())
    return copied


def has_recurrent_layers(model) -> bool:
    """Whether ``model`` (or a nested model) has an RNN layer (LSTM, GRU, Bidirectional...)."""
    import keras

    for layer in model._flatten_layers(include_self=False, recursive=True):
        if isinstance(layer, (keras.layers.RNN, keras.layers.Bidirectional)):
            return True
    return False


__all__ = ["ExportSource", "export_copy", "has_recurrent_layers", "preprocessing_for", "resolve"]
