"""Weights files: float16 copies that load into float32 models, and bad inputs."""

from __future__ import annotations

import numpy as np
import pytest

from emozoo.registry.weights import cast_weights_file


def test_float16_weights_load_into_float32(tmp_path):
    from emozoo.models import build_text_minilm

    small = {"vocabulary_size": 50, "num_layers": 1, "num_heads": 2, "hidden_dim": 8}
    model = build_text_minilm(intermediate_dim=16, sequence_length=12, **small)
    path = tmp_path / "m.weights.h5"
    model.save_weights(path)
    half = cast_weights_file(path, tmp_path / "half.weights.h5")
    assert half.stat().st_size < path.stat().st_size
    twin = build_text_minilm(intermediate_dim=16, sequence_length=12, **small)
    twin.load_weights(half)
    assert {str(w.dtype) for w in twin.weights} == {"float32"}
    for a, b in zip(model.get_weights(), twin.get_weights(), strict=True):
        np.testing.assert_array_equal(a.astype(np.float16).astype(np.float32), b)


def test_cast_weights_file_bad_input(tmp_path):
    with pytest.raises(FileNotFoundError):
        cast_weights_file(tmp_path / "missing.weights.h5")
    bad = tmp_path / "bad.weights.h5"
    bad.write_bytes(b"not hdf5")
    with pytest.raises(ValueError, match="HDF5"):
        cast_weights_file(bad)
