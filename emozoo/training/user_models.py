"""Keep a fine-tuned model: a ``.keras`` file plus a persisted registry entry."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import keras

from emozoo.models import get_labels
from emozoo.registry import get_entry, register_model, unregister_model, user_models_dir
from emozoo.training.policies import merge_lora


def save_model(
    model: keras.Model,
    name: str,
    path: str | Path | None = None,
    *,
    base: str | None = None,
    description: str = "",
    training_data: str | None = None,
    metrics: Mapping[str, Any] | None = None,
    recipe: str | None = None,
    overwrite: bool = False,
) -> Path:
    """Save ``model`` as a ``.keras`` file and register it as ``name`` for good.

    The file (default ``$EMOZOO_HOME/models/<name>.keras``) has no optimizer state and
    no LoRA layers (adapters are folded into the kernels). The registry entry starts
    from ``base`` (default: the registered model ``model`` was loaded as, its name),
    takes ``model``'s labels, records the file's sha256 and is written to
    ``$EMOZOO_HOME/models/<name>.json``, so ``emozoo.load(name)``, ``emozoo info NAME``
    and the export tools find it in any later session. The entry is checked by loading
    it back once.

    Returns the ``.keras`` path.

    >>> model = emozoo.load("cnn_lstm_fusion", labels=["calm", "happy", "sad", "angry"])  # doctest: +SKIP
    >>> emozoo.training.save_model(model, "my_fusion")  # doctest: +SKIP
    >>> emozoo.load("my_fusion")  # doctest: +SKIP
    """
    labels = get_labels(model)
    if labels is None:
        raise ValueError(f"Model {model.name!r} has no classifier; only classifiers are registered")
    base = base or model.name
    try:
        base_entry = get_entry(base)
    except LookupError as error:
        raise ValueError(
            f"Cannot tell which registered architecture {model.name!r} is: pass base= "
            f"(the registered model it was loaded from). {error}"
        ) from None
    path = Path(path).expanduser() if path is not None else user_models_dir() / f"{name}.keras"
    if path.suffix != ".keras":
        raise ValueError(f"The model file must end in .keras, got {path}")
    if path.exists() and not overwrite:
        raise ValueError(f"{path} exists; pass overwrite=True to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    plain = merge_lora(model)
    clean = plain.__class__.from_config(plain.get_config())  # no optimizer in the file
    clean.set_weights(plain.get_weights())
    clean.save(path)
    entry = register_model(
        name,
        base=base,
        weights=path,
        labels=list(labels),
        description=description or f"{base} fine-tuned on {', '.join(labels)}",
        training_data=training_data,
        metrics=dict(metrics or {}),
        recipe=recipe,
        overwrite=overwrite,
    )
    try:
        from emozoo.registry import load

        load(name)
    except Exception as error:
        unregister_model(name)
        raise ValueError(
            f"{path} does not load as a {base_entry.architecture} model registered from "
            f"{base!r}: {error}"
        ) from error
    del entry
    return path
