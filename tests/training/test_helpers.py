"""Small pieces of the training package: schedule, run-folder files, manifests, devices."""

from __future__ import annotations

import json

import keras
import pytest

from emozoo.training import distribution, split_cpu, split_manifest, warmup_cosine
from emozoo.training.callbacks import plot_history, read_state, write_history_csv


def test_warmup_cosine_rises_then_decays_to_one_percent():
    schedule = warmup_cosine(1e-3, steps_per_epoch=10, epochs=5, warmup_epochs=1)
    values = [float(schedule(step)) for step in (0, 10, 30, 50)]
    assert values[0] == pytest.approx(1e-5)
    assert values[1] == pytest.approx(1e-3)
    assert values[1] > values[2] > values[3] == pytest.approx(1e-5, rel=0.05)


def test_history_files(tmp_path):
    history = {"loss": [1.0, 0.5], "val_accuracy": [0.4, 0.6], "learning_rate": [1e-3, 1e-4]}
    png = plot_history(history, tmp_path / "curves.png", title="t")
    assert png.read_bytes()[:4] == b"\x89PNG"
    csv = write_history_csv(history, tmp_path / "history.csv").read_text().splitlines()
    assert csv[0] == "epoch,learning_rate,loss,val_accuracy" and csv[2].startswith("2,")
    with pytest.raises(ValueError, match="nothing|no loss"):
        plot_history({"other": [1.0]}, tmp_path / "empty.png")


def test_read_state_errors_name_the_file(tmp_path):
    assert read_state(tmp_path) is None
    (tmp_path / "state.json").write_text("{broken")
    with pytest.raises(ValueError, match="state.json is unreadable"):
        read_state(tmp_path)
    (tmp_path / "state.json").write_text(json.dumps({"epoch": 2}))
    with pytest.raises(ValueError, match="no last.weights.h5"):
        read_state(tmp_path)
    (tmp_path / "state.json").write_text(json.dumps({"history": {}}))
    with pytest.raises(ValueError, match="lacks 'epoch'"):
        read_state(tmp_path)


def test_split_manifest_is_stratified_and_absolute(tmp_path):
    rows = ["face_path,text,audio_path,label"]
    rows += [f"f{i}.png,text {i},,{'happy' if i % 2 else 'sad'}" for i in range(20)]
    manifest = tmp_path / "data" / "m.csv"
    manifest.parent.mkdir()
    manifest.write_text("\n".join(rows) + "\n")
    train, val = split_manifest(manifest, tmp_path / "out", val_fraction=0.2, seed=1)
    train_rows = train.read_text().splitlines()[1:]
    val_rows = val.read_text().splitlines()[1:]
    assert len(train_rows) == 16 and len(val_rows) == 4
    assert sorted(r.split(",")[-1] for r in val_rows) == ["happy", "happy", "sad", "sad"]
    assert all(r.startswith(str(tmp_path / "data" / "f")) for r in train_rows + val_rows)
    assert (
        split_manifest(manifest, tmp_path / "again", 0.2, seed=1)[1].read_text() == val.read_text()
    )


def test_split_manifest_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.csv"):
        split_manifest(tmp_path / "nope.csv", tmp_path)
    bad = tmp_path / "bad.csv"
    bad.write_text("path,label\nx,happy\n")
    with pytest.raises(ValueError, match="lacks columns"):
        split_manifest(bad, tmp_path)
    with pytest.raises(ValueError, match="val_fraction"):
        split_manifest(bad, tmp_path, val_fraction=1.0)
    lonely = tmp_path / "lonely.csv"
    lonely.write_text("face_path,text,audio_path,label\n,a,,happy\n,b,,sad\n")
    with pytest.raises(ValueError, match="too few rows per label"):
        split_manifest(lonely, tmp_path)


@pytest.mark.distributed
def test_device_setup_errors():
    assert distribution("none").num_replicas == 1
    assert distribution(None).kind == "none"
    with pytest.raises(TypeError, match="strategy must be"):
        distribution(3)
    with pytest.raises(ValueError, match="positive integer"):
        split_cpu(0)
    keras.ops.ones(1)  # TensorFlow is running in this process now
    split_cpu(1)  # what it already has: fine
    with pytest.raises(RuntimeError, match="already initialised"):
        split_cpu(2)
