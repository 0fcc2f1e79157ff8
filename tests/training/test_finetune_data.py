"""Done-when of fine-tuning: a user's 4-label manifest (built from the shared datasets),
the pretrained fusion model with a new head, better than chance in a few minutes on CPU."""

from __future__ import annotations

import csv

import pytest

import emozoo
from emozoo.data import DatasetNotFoundError
from emozoo.evaluation import evaluate
from emozoo.training.demo import DEMO_LABELS, make_demo_manifests

pytestmark = pytest.mark.needs_data


def test_pretrained_fusion_fine_tunes_to_a_new_label_set(data_root, tmp_path):
    manifests = make_demo_manifests(
        tmp_path / "data", per_label={"train": 24, "val": 8, "test": 16}, root=data_root
    )
    with manifests["train"].open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 4 * 24 and {r["label"] for r in rows} == set(DEMO_LABELS)
    assert any(not r["audio_path"] for r in rows) and any(r["face_path"] for r in rows)

    model = emozoo.load("cnn_lstm_fusion", labels=["calm", "happy", "sad", "angry"])
    ds = emozoo.data.from_manifest(manifests["train"], model=model, augment=True)
    val_ds = emozoo.data.from_manifest(manifests["val"], model=model, shuffle=False)
    history = emozoo.train.fit(
        model, ds, val_ds, epochs=2, freeze="encoders", log_dir=tmp_path / "runs", verbose=0
    )
    assert history.summary["epochs"] == 2
    test = emozoo.data.from_manifest(manifests["test"], model=model, shuffle=False)
    report = evaluate(model, test.as_numpy_iterator(), DEMO_LABELS)
    print(report.table())
    chance = 1 / len(DEMO_LABELS)
    assert report.metrics["samples"] == 4 * 16
    assert report.metrics["accuracy"] > chance + 0.2


def test_demo_manifest_errors(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="not found"):
        make_demo_manifests(tmp_path / "out", root=tmp_path / "no_data")
    with pytest.raises(ValueError, match="missing"):
        make_demo_manifests(tmp_path / "out", missing=1.0)
