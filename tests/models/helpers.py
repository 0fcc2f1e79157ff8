"""Small model configs and random inputs for fast architecture tests."""

from __future__ import annotations

import numpy as np

from emozoo.models import get_family, input_specs, list_families

#: architecture name -> keyword arguments giving a small instance of it (each family's
#: spec declares its own, so a new family needs no entry here); older names included.
SMALL_CONFIGS = {
    name: dict(get_family(name).test_config) for name in list_families(include_aliases=True)
}
SMALL_FACE = SMALL_CONFIGS["face_cnn"]
SMALL_TEXT = SMALL_CONFIGS["text_bilstm"]
SMALL_AUDIO = SMALL_CONFIGS["audio_lstm"]
SMALL_MINILM = SMALL_CONFIGS["text_minilm"]
SMALL_WHISPER = SMALL_CONFIGS["audio_whisper"]
SMALL_ENCODERS = {"face": SMALL_FACE, "text": SMALL_TEXT, "audio": SMALL_AUDIO}
SMALL_FUSION = dict(SMALL_CONFIGS["transformer_fusion"]["fusion"])


def random_inputs(model, batch: int = 3, seed: int = 0, present: dict | None = None) -> dict:
    """Random inputs matching ``model``'s input specs; presence flags default to 1."""
    rng = np.random.default_rng(seed)
    inputs = {}
    for name, (shape, dtype) in input_specs(model).items():
        if name.endswith("_present"):
            value = (present or {}).get(name.removesuffix("_present"), 1.0)
            inputs[name] = np.full((batch, *shape), value, np.float32)
        elif "int" in dtype:
            inputs[name] = rng.integers(1, 50, size=(batch, *shape)).astype(dtype)
        elif name == "face":
            inputs[name] = rng.uniform(0, 255, size=(batch, *shape)).astype(dtype)
        else:
            inputs[name] = rng.normal(0, 0.3, size=(batch, *shape)).astype(dtype)
    return inputs
