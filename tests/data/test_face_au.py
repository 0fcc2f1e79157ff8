"""The RAVDESS facial action-unit dataset adapter."""

from __future__ import annotations

import pytest


def test_ravdess_face_au_adapter(data_root):
    from emozoo.data import load_source
    from emozoo.data.datasets import load_ravdess_au_pairs

    if not (data_root / "ravdess_face_au").is_dir():
        pytest.skip(f"ravdess_face_au not found under {data_root}")
    sizes = {
        s: len(load_source("ravdess_face_au", s, root=data_root)) for s in ("train", "val", "test")
    }
    assert sizes == {"train": 1080, "val": 120, "test": 240}
    pairs = load_ravdess_au_pairs("test", root=data_root)
    assert pairs["face_au"].items.shape == (240, 35) and len(pairs["audio"]) == 240
    assert (pairs["face_au"].labels == pairs["audio"].labels).all()
    assert all(p.endswith(".flac") and "/Actor_2" in p for p in pairs["audio"].items)


def test_adapter_says_where_the_data_is_missing(tmp_path):
    from emozoo.data import DatasetNotFoundError, load_source

    with pytest.raises(DatasetNotFoundError, match="ravdess_face_au"):
        load_source("ravdess_face_au", "train", root=tmp_path)
