"""The registry of named models.

Built-in entries come from the JSON files in ``zoo_configs/`` (installed as the
``emozoo.zoo_configs`` package); users add their own with :func:`register_model`.
Reading the registry never imports Keras, so listing models is instant.
"""

from __future__ import annotations

import difflib
import fnmatch
import json
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from emozoo.registry.entry import ModelEntry
from emozoo.registry.weights import WeightsInfo, sha256_file

_BUILTIN_PACKAGE = "emozoo.zoo_configs"
_registry: dict[str, ModelEntry] = {}
_builtins_loaded = False


class UnknownModelError(LookupError):
    """No model is registered under the requested name."""


def _load_builtins() -> None:
    global _builtins_loaded
    if _builtins_loaded:
        return
    for item in sorted(resources.files(_BUILTIN_PACKAGE).iterdir(), key=lambda p: p.name):
        if not item.name.endswith(".json"):
            continue
        try:
            data = json.loads(item.read_text(encoding="utf-8"))
            entry = ModelEntry.from_dict(data, source=f"zoo_configs/{item.name}")
        except (ValueError, TypeError) as error:
            raise ValueError(f"Invalid zoo config zoo_configs/{item.name}: {error}") from error
        if entry.name != item.name.removesuffix(".json"):
            raise ValueError(
                f"zoo_configs/{item.name} registers {entry.name!r}; name and file must agree"
            )
        _registry.setdefault(entry.name, entry)
    _builtins_loaded = True


def builtin_config_path(name: str) -> Path:
    """Path of the zoo config file of built-in model ``name`` (what tools rewrite)."""
    return Path(str(resources.files(_BUILTIN_PACKAGE) / f"{name}.json"))


def get_entry(name: str) -> ModelEntry:
    """The registered entry called ``name``.

    Raises:
        UnknownModelError: with the closest registered names as suggestions.
    """
    _load_builtins()
    if not isinstance(name, str):
        raise TypeError(f"A model name must be a string, got {type(name).__name__}")
    try:
        return _registry[name]
    except KeyError:
        pass
    close = difflib.get_close_matches(name, list(_registry), n=3, cutoff=0.5)
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    raise UnknownModelError(
        f"Unknown model {name!r}.{hint} Registered models: {', '.join(sorted(_registry))}"
    )


def list_models(pattern: str | None = None, pretrained: bool | None = None) -> list[str]:
    """Names of the registered models, sorted.

    Args:
        pattern: shell-style filter such as ``"*fusion"``.
        pretrained: ``True`` keeps models with pretrained weights, ``False`` those without.

    >>> "cnn_lstm_fusion" in list_models("*fusion")
    True
    """
    _load_builtins()
    names = sorted(_registry)
    if pattern is not None:
        names = [n for n in names if fnmatch.fnmatchcase(n, pattern)]
    if pretrained is not None:
        names = [n for n in names if _registry[n].pretrained == pretrained]
    return names


def register_model(
    name: str,
    architecture: str | None = None,
    *,
    base: str | None = None,
    weights: str | Path | None = None,
    labels: Sequence[str] | None = None,
    config: dict[str, Any] | None = None,
    preprocessing: dict[str, dict[str, Any]] | None = None,
    modalities: Sequence[str] | None = None,
    description: str = "",
    training_data: str | None = None,
    metrics: dict[str, Any] | None = None,
    overwrite: bool = False,
) -> ModelEntry:
    """Register a model under ``name`` for this Python session.

    Either start from a registered model (``base="cnn_lstm_fusion"``: its architecture,
    config and preprocessing are kept unless overridden) or name an ``architecture``.
    ``weights`` is a ``.weights.h5`` or ``.keras`` file; its sha256 is recorded now and
    checked at every :func:`emozoo.load`.

    >>> entry = register_model("my_face", base="face_cnn", labels=["happy", "sad"],
    ...                        overwrite=True)
    >>> entry.labels
    ('happy', 'sad')
    """
    _load_builtins()
    if name in _registry and not overwrite:
        raise ValueError(f"A model named {name!r} is already registered; pass overwrite=True")
    if base is not None:
        parent = get_entry(base).to_dict()
        parent.pop("weights", None)
    elif architecture is not None:
        parent = {"architecture": architecture, "config": {}, "preprocessing": {}}
    else:
        raise ValueError("register_model needs an architecture or a base model name")
    if architecture is not None:
        parent["architecture"] = architecture

    from emozoo.models import architecture_modalities  # validates the name too

    arch_modalities = architecture_modalities(parent["architecture"])
    data = {
        **parent,
        "name": name,
        "modalities": list(
            modalities if modalities is not None else parent.get("modalities", arch_modalities)
        ),
        "description": description or parent.get("description", ""),
    }
    if labels is not None:
        data["labels"] = list(labels)
    if config is not None:
        data["config"] = {**data.get("config", {}), **config}
    if preprocessing is not None:
        merged = dict(data.get("preprocessing", {}))
        for modality, params in preprocessing.items():
            merged[modality] = {**merged.get(modality, {}), **params}
        data["preprocessing"] = merged
    if weights is not None:
        path = Path(weights).expanduser().resolve()
        if not path.is_file():
            raise FileNotFoundError(f"Weights file {path} does not exist")
        data["weights"] = WeightsInfo(
            file=str(path),
            sha256=sha256_file(path),
            size_bytes=path.stat().st_size,
            training_data=training_data,
            metrics=dict(metrics or {}),
        ).to_dict()
    entry = ModelEntry.from_dict(data, source="user")
    _registry[name] = entry
    return entry


def unregister_model(name: str) -> None:
    """Remove a model registered with :func:`register_model` (built-ins stay)."""
    entry = get_entry(name)
    if entry.source != "user":
        raise ValueError(f"{name!r} is a built-in model ({entry.source}) and cannot be removed")
    del _registry[name]


def write_weights_card(name: str, weights: WeightsInfo) -> Path:
    """Record ``weights`` as built-in model ``name``'s card in its zoo config file.

    Used by ``tools/pretrain.py`` and ``tools/evaluate.py``; figures come from runs,
    never from hand edits. Returns the config path.
    """
    entry = get_entry(name)
    if entry.source == "user":
        raise ValueError(f"{name!r} is a user model; only built-in zoo configs are written")
    path = builtin_config_path(name)
    data = json.loads(path.read_text(encoding="utf-8"))
    data["weights"] = weights.to_dict()
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    entry.weights = weights
    return path
