"""Weights files to ship: no optimizer state, LoRA adapters merged into the kernels."""

from __future__ import annotations

import numpy as np

from emozoo.training.shipping import save_shipped_weights


def test_lora_adapters_are_merged_into_shipped_weights(tmp_path):
    from emozoo.models import build_text_minilm

    small = {"vocabulary_size": 50, "num_layers": 1, "num_heads": 2, "hidden_dim": 8}
    model = build_text_minilm(intermediate_dim=16, sequence_length=12, **small)
    model.get_layer("backbone").enable_lora(2)
    rng = np.random.default_rng(0)
    lora = [w for w in model.weights if "lora_kernel" in w.path]
    trainable = [w.path for w in model.get_layer("backbone").trainable_weights]
    assert lora and all("lora" in p or p.endswith("bias") for p in trainable)  # kernels frozen
    for w in lora:
        w.assign(rng.normal(0, 0.5, w.shape).astype("float32"))
    ids = rng.integers(1, 50, size=(3, 12)).astype("int32")
    expected = model.predict({"text": ids}, verbose=0)
    path = save_shipped_weights(model, tmp_path / "m.weights.h5", None)
    plain = build_text_minilm(intermediate_dim=16, sequence_length=12, **small)
    plain.load_weights(path)
    assert not any("lora" in w.path for w in plain.weights)
    np.testing.assert_allclose(plain.predict({"text": ids}, verbose=0), expected, atol=1e-5)
