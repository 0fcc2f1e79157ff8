"""Build, load and describe registered models. Nothing here touches the network."""

from __future__ import annotations

import copy
import inspect
import logging
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emozoo.registry.entry import ModelEntry
from emozoo.registry.registry import (
    VERSION_SEPARATOR,
    get_entry,
    model_versions,
    split_version,
)
from emozoo.registry.weights import verify_weights

if TYPE_CHECKING:
    import keras

    from emozoo.preprocessing import Preprocessor

logger = logging.getLogger("emozoo")

DEFAULT = "default"


class NoPretrainedWeightsError(RuntimeError):
    """``weights="default"`` was asked of a model that has no pretrained weights yet."""


def _shape_kwargs(entry: ModelEntry, modality: str) -> dict[str, Any]:
    """Builder arguments fixed by preprocessing: input sizes live in one place only."""
    from emozoo.preprocessing import modality_preprocessor

    return modality_preprocessor(modality, entry.preprocessing[modality]).model_kwargs()


def builder_kwargs(entry: ModelEntry) -> dict[str, Any]:
    """The full keyword arguments ``entry``'s architecture builder is called with."""
    from emozoo.models import get_architecture

    builder = get_architecture(entry.architecture)
    kwargs = copy.deepcopy(entry.config)
    if "encoders" in inspect.signature(builder).parameters:
        encoders = kwargs.setdefault("encoders", {})
        for modality in entry.modalities:
            encoders.setdefault(modality, {}).update(_shape_kwargs(entry, modality))
    elif len(entry.modalities) == 1:
        kwargs.update(_shape_kwargs(entry, entry.modalities[0]))
    return kwargs


def build_model(
    entry: ModelEntry,
    labels: Sequence[str] | None = None,
    include_top: bool = True,
    variable_length: bool = False,
) -> keras.Model:
    """Build ``entry``'s architecture with random weights.

    ``variable_length`` builds the text input (and a fused model's text encoder) with
    ``sequence_length=None``: the same weights, for batches cut to their longest text
    (training and embedding with ``bucket_by_length``). Only for text architectures
    whose builder takes ``sequence_length``.
    """
    from emozoo.models import architecture_modalities, get_architecture

    expected = architecture_modalities(entry.architecture)
    if tuple(entry.modalities) != tuple(expected):
        raise ValueError(
            f"{entry.name}: architecture {entry.architecture!r} takes {list(expected)}, "
            f"but the entry lists modalities {list(entry.modalities)}"
        )
    builder = get_architecture(entry.architecture)
    kwargs = builder_kwargs(entry)
    if variable_length:
        from emozoo.preprocessing import MODALITY_PREPROCESSORS

        sequences = [m for m in entry.modalities if MODALITY_PREPROCESSORS[m].variable_length]
        if not sequences:
            raise ValueError(f"{entry.name} takes no text; variable_length does not apply")
        for modality in sequences:
            target = kwargs["encoders"][modality] if "encoders" in kwargs else kwargs
            target["sequence_length"] = None
    return builder(
        labels=list(labels if labels is not None else entry.labels),
        include_top=include_top,
        # TensorFlow takes a model's name as a root scope name, where '@' is refused.
        name=entry.name.replace(VERSION_SEPARATOR, "_"),
        **kwargs,
    )


def _read_weights_into(model: keras.Model, path: Path) -> None:
    """Load a ``.weights.h5`` or a ``.keras`` file into ``model`` (same architecture)."""
    import keras

    from emozoo.models import transfer_weights

    if path.suffix == ".keras":
        saved = keras.saving.load_model(path, safe_mode=True, compile=False)
        untouched = transfer_weights(saved, model)
        if untouched:
            raise ValueError(f"{path} does not match the model: no weights for layers {untouched}")
    elif path.name.endswith(".weights.h5"):
        model.load_weights(path)
    else:
        raise ValueError(f"Weights must be a .weights.h5 or .keras file, got {path}")


def _composed_encoders(entry: ModelEntry) -> dict[str, str]:
    """``{modality: registered model}`` of the encoders a fused model's head file goes
    with: its weights' (shipped composed), else its card's; ``{}`` for a model whose card
    names no encoders (unimodal ones)."""
    if entry.weights is not None and entry.weights.encoders:
        return dict(entry.weights.encoders)
    return dict(entry.encoders)


def _read_composed(model: keras.Model, entry: ModelEntry, head_path: Path) -> None:
    """Fill a fused model from its head weights file and its encoders' registered models."""
    from emozoo.models.fusion.compose import assemble, build_head

    dims = {m: int(model.get_layer(f"{m}_encoder").output.shape[-1]) for m in entry.modalities}
    kwargs = {k: v for k, v in builder_kwargs(entry).items() if k != "encoders"}
    head = build_head(entry.architecture, kwargs, dims, entry.labels)
    head.load_weights(head_path)
    encoders = {m: load(name, include_top=False) for m, name in _composed_encoders(entry).items()}
    assemble(model, head, encoders)


def load(
    name: str,
    weights: str | Path | None = DEFAULT,
    labels: Sequence[str] | None = None,
    include_top: bool = True,
    version: str | None = None,
) -> keras.Model:
    """Build the registered model ``name`` and load its weights, offline.

    Args:
        name: a name from :func:`emozoo.list_models`; ``"name@v1"`` is version ``v1`` of
            its weights (:func:`emozoo.model_versions`).
        weights: ``"default"`` for the registered pretrained weights (sha256-checked),
            ``None`` for random initialisation, or a path to a ``.weights.h5`` / ``.keras``
            file of the same architecture and label set; for a fused model whose card
            names its encoders, also a ``.weights.h5`` of its head alone (as it ships, and
            as ``emozoo pretrain --out-dir`` writes it), joined to those encoders.
        labels: a different label set: encoders keep their pretrained weights and the
            classifier is new (randomly initialised) with these outputs.
        include_top: ``False`` returns the embedding model (no classifier).
        version: a kept version of the weights (``"v1"``), as ``"name@v1"``; ``None``
            is the card's default version.

    Returns:
        A ``keras.Model`` whose inputs are named as :func:`emozoo.load_preprocessor`'s
        outputs.

    Raises:
        UnknownModelError: no such model (with close-match suggestions).
        NoPretrainedWeightsError: ``weights="default"`` but none are registered.
        WeightsError: the registered file is missing or its sha256 differs.

    >>> model = load("face_cnn", weights=None, labels=["happy", "sad"])
    >>> model.output_shape
    (None, 2)
    """
    if version is not None:
        base, named = split_version(name)
        if named is not None and named != version:
            raise ValueError(f"{name!r} names version {named!r}, but version={version!r}")
        name = f"{base}{VERSION_SEPARATOR}{version}"
    entry = get_entry(name)
    if weights is None:
        return build_model(entry, labels=labels, include_top=include_top)
    if isinstance(weights, str) and weights == DEFAULT:
        if entry.weights is None:
            raise NoPretrainedWeightsError(
                f"{name!r} has no pretrained weights yet; use weights=None for a randomly "
                f"initialised model. Pretrained models: see emozoo.list_models(pretrained=True)."
            )
        path = verify_weights(entry.weights)
    else:
        path = Path(weights).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"Weights file {path} does not exist")

    trained = build_model(entry, include_top=True)
    # (weights == DEFAULT implies entry.weights, checked above.)
    if (
        isinstance(weights, str)
        and weights == DEFAULT
        and entry.weights is not None
        and entry.weights.encoders
    ):
        _read_composed(trained, entry, path)
    elif _composed_encoders(entry) and path.name.endswith(".weights.h5"):
        # A file of the whole model, or of the head alone as such a model ships (an
        # `emozoo pretrain --out-dir` experiment's): the head's encoders are the card's.
        try:
            with warnings.catch_warnings():  # Keras warns of each missing layer first
                warnings.simplefilter("ignore")
                _read_weights_into(trained, path)
        except ValueError:
            _read_composed(trained, entry, path)
    else:
        _read_weights_into(trained, path)
    same_labels = labels is None or tuple(labels) == tuple(entry.labels)
    if same_labels and include_top:
        return trained

    from emozoo.models import transfer_weights

    model = build_model(entry, labels=labels, include_top=include_top)
    fresh = transfer_weights(trained, model)
    if fresh:
        logger.info(
            "%s: layers %s are newly initialised (not in the pretrained weights)", name, fresh
        )
    return model


def load_preprocessor(name: str) -> Preprocessor:
    """The :class:`~emozoo.preprocessing.Preprocessor` of registered model ``name``.

    >>> pre = load_preprocessor("text_bilstm")
    >>> pre(text=["I am so happy!"])["text"].shape
    (1, 64)
    """
    from emozoo.preprocessing import Preprocessor

    entry = get_entry(name)
    if not entry.modalities:
        raise ValueError(f"{name!r} takes embeddings, not raw inputs; it has no preprocessor")
    return Preprocessor(entry.modalities, entry.preprocessing, entry.labels)


def _weights_params(path: Path, without_classifier: bool = False) -> int | None:
    """Parameters stored in a ``.weights.h5`` file (or the weights inside a ``.keras``
    archive): the sizes of its arrays, read with h5py (no Keras). ``None`` if unreadable."""
    import io
    import zipfile

    import h5py

    total = 0

    def count(_: str, item: Any) -> None:
        nonlocal total
        if isinstance(item, h5py.Dataset):
            total += int(item.size)

    source: io.BytesIO | Path
    try:
        if path.suffix == ".keras":
            with zipfile.ZipFile(path) as archive:
                source = io.BytesIO(archive.read("model.weights.h5"))
        else:
            source = path
        with h5py.File(source, "r") as f:
            # A .keras archive also keeps the optimizer's state: count the model's only.
            (f["layers"] if "layers" in f and path.suffix == ".keras" else f).visititems(count)
            if without_classifier and "layers/classifier_head" in f:
                # An encoder inside a fused model has no classifier of its own.
                top = total
                total = 0
                f["layers/classifier_head"].visititems(count)
                total = top - total
    except (OSError, KeyError, zipfile.BadZipFile):
        return None
    return total


def _card_inputs(entry: ModelEntry) -> dict[str, dict[str, Any]]:
    """The model inputs a card implies: one per modality (its preprocessor's shape and
    dtype) and, for a fused model, a presence flag per modality."""
    from emozoo.preprocessing import modality_preprocessor

    inputs = {}
    for modality in entry.modalities:
        pre = modality_preprocessor(modality, entry.preprocessing[modality])
        inputs[modality] = {"shape": list(pre.input_shape), "dtype": pre.input_dtype}
    if len(entry.modalities) > 1:
        for modality in entry.modalities:
            inputs[f"{modality}_present"] = {"shape": [1], "dtype": "float32"}
    return inputs


def model_info(name: str, build: bool = True) -> dict[str, Any]:
    """What a registered model is: its card as a dict.

    Holds the architecture, modalities, labels, preprocessing, builder arguments and
    the weights' provenance (file, sha256, size, training data, recipe, metrics), its
    inputs, output and parameter count, and its weights' ``version`` with the
    ``versions`` kept beside it (``{version: name to load}``). With ``build`` (default) the model is built to
    read them off it; without, they come from the card, the preprocessors and the
    weights file (no Keras, no TensorFlow: what ``emozoo info`` prints in a blink).
    """
    entry = get_entry(name)
    info: dict[str, Any] = {
        "name": entry.name,
        "description": entry.description,
        "architecture": entry.architecture,
        "modalities": list(entry.modalities),
        "labels": list(entry.labels),
        "preprocessing": copy.deepcopy(entry.preprocessing),
        "config": builder_kwargs(entry) if build else _card_builder_kwargs(entry),
        "pretrained": entry.pretrained,
        "weights": entry.weights.to_dict() if entry.weights else None,
        "recipe": copy.deepcopy(entry.recipe),
        "source": entry.source,
        "recommended": copy.deepcopy(entry.headline.get("recommended")),
        "output": {"shape": [len(entry.labels)], "meaning": "class probabilities"},
        "version": entry.version or None,
        "versions": model_versions(entry.name),
    }
    if build:
        from emozoo.models import input_specs

        model = build_model(entry)
        info["inputs"] = {
            k: {"shape": list(s), "dtype": d} for k, (s, d) in input_specs(model).items()
        }
        info["output"]["shape"] = list(model.output_shape[1:])
        info["params"] = int(model.count_params())
    else:
        info["inputs"] = _card_inputs(entry) if entry.modalities else None
        info["params"] = None
        if entry.weights:
            info["params"] = _weights_params(verify_weights(entry.weights))
            for encoder in entry.weights.encoders.values():
                weights = get_entry(encoder).weights
                assert weights is not None  # a fused model's encoders ship their weights
                info["params"] += _weights_params(verify_weights(weights), without_classifier=True)
    return info


def _card_builder_kwargs(entry: ModelEntry) -> dict[str, Any]:
    """:func:`builder_kwargs` read off the card alone (no architecture imported)."""
    kwargs = copy.deepcopy(entry.config)
    if len(entry.modalities) > 1:
        encoders = kwargs.setdefault("encoders", {})
        for modality in entry.modalities:
            encoders.setdefault(modality, {}).update(_shape_kwargs(entry, modality))
    elif len(entry.modalities) == 1:
        kwargs.update(_shape_kwargs(entry, entry.modalities[0]))
    return kwargs
