"""Weights files to ship: without optimizer state, LoRA merged, optionally half-size."""

from __future__ import annotations

from pathlib import Path

import keras

from emozoo.registry.weights import cast_weights_file


def save_inference_weights(model: keras.Model, path: str | Path) -> Path:
    """Save ``model``'s weights without optimizer state (a third of the size), for shipping."""
    # from_config gives an uncompiled twin (clone_model would carry the optimizer along).
    clone = model.__class__.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    clone.save_weights(path)
    return path


def save_shipped_weights(model: keras.Model, path: Path, dtype: str | None) -> Path:
    """Weights without optimizer state (LoRA merged into the kernels), optionally cast
    to ``dtype`` (``"float16"``: half the size)."""
    if any(getattr(layer, "lora_enabled", False) for layer in model._flatten_layers()):
        # Saving merges each adapter into its kernel (Keras' Dense/EinsumDense do it).
        path.parent.mkdir(parents=True, exist_ok=True)
        model.save_weights(path)
    else:
        save_inference_weights(model, path)
    if dtype and dtype != "float32":
        cast_weights_file(path, dtype=dtype)
    return path


__all__ = ["save_inference_weights", "save_shipped_weights"]
