"""Speech off its training corpora: audio_whisper's head trained on one corpus, tested on
the other (RAVDESS actors 1-20 -> TESS, and TESS -> RAVDESS actors 21-24), as shipped and
with per-speaker or per-recording normalisation of the frozen Whisper statistics.

The frozen Whisper-base statistics (``layer_statistics``) of every clean clip are
computed once and cached under ``runs/features/``; each head is trained on them for a
fixed number of epochs (no epoch is chosen on the target corpus).

Normalisations compared (each applied to training and test features alike):
- ``none``: as shipped.
- ``per_recording``: each clip's statistics standardised over their own values (a
  per-clip gain and offset removed).
- ``per_speaker``: each speaker's clips standardised by that speaker's mean and
  standard deviation (needs several clips of a speaker at test time: batch use).

    python tools/cross_corpus.py [--epochs 40]

Prints a table and ends with one JSON line.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

FEATURES = Path("runs") / "features"
NORMALISATIONS = ("none", "per_recording", "per_speaker")


def _speakers(records) -> np.ndarray:
    """A speaker id per clip: RAVDESS actor number, TESS speaker (OAF / YAF)."""
    out = []
    for path in records.items:
        stem = Path(path).stem
        out.append(stem.split("_")[0] if records.name == "tess" else stem.split("-")[-1])
    return np.asarray(out)


def _normalise(x: np.ndarray, kind: str, speakers: np.ndarray) -> np.ndarray:
    flat = x.reshape(len(x), -1)
    if kind == "per_recording":
        flat = (flat - flat.mean(1, keepdims=True)) / (flat.std(1, keepdims=True) + 1e-6)
    elif kind == "per_speaker":
        flat = flat.copy()
        for s in np.unique(speakers):
            rows = speakers == s
            flat[rows] = (flat[rows] - flat[rows].mean(0)) / (flat[rows].std(0) + 1e-6)
    return flat.reshape(x.shape).astype(np.float32)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    import keras

    import emozoo
    from emozoo.data import load_source
    from emozoo.evaluation.machine import machine_info
    from emozoo.evaluation.metrics import confusion_matrix, summary_metrics
    from emozoo.training.frozen_features import compute_features, feature_model, head_model

    model = emozoo.load("audio_whisper")
    preprocessor = emozoo.load_preprocessor("audio_whisper")
    features = feature_model(model, "layer_statistics")
    corpora = {
        "ravdess_train": load_source("ravdess_speech", "trainval"),
        "ravdess_test": load_source("ravdess_speech", "test"),
        "tess": load_source("tess", "all"),
    }
    data = {}
    for name, records in corpora.items():
        x = compute_features(
            features, records, preprocessor, cache=FEATURES / f"cross_corpus_{name}.npy"
        )[:, 0]
        data[name] = (x, records.labels.astype(np.int64), _speakers(records))
    labels = emozoo.model_info("audio_whisper")["labels"]
    experiments = {
        "RAVDESS 1-20 -> TESS": ("ravdess_train", ["tess", "ravdess_test"]),
        "TESS -> RAVDESS 21-24": ("tess", ["ravdess_test"]),
    }
    results: dict = {}
    for kind in NORMALISATIONS:
        for title, (train, tests) in experiments.items():
            keras.utils.set_random_seed(args.seed)
            fresh = emozoo.load("audio_whisper", weights=None)
            head = head_model(fresh, "layer_statistics")
            head.compile(
                optimizer=keras.optimizers.AdamW(1e-3, weight_decay=0.01),
                loss=keras.losses.SparseCategoricalCrossentropy(),
                metrics=["accuracy"],
            )
            x, y, s = data[train]
            head.fit(_normalise(x, kind, s), y, epochs=args.epochs, batch_size=64, verbose=0)
            for test in tests:
                tx, ty, ts = data[test]
                p = head.predict(_normalise(tx, kind, ts), batch_size=256, verbose=0)
                metrics = summary_metrics(confusion_matrix(ty, p.argmax(-1), len(labels)), labels)
                key = f"{title} [{test}]"
                results.setdefault(key, {})[kind] = {
                    "accuracy": round(float(metrics["accuracy"]), 4),
                    "uar": round(float(metrics["uar"]), 4),
                }
                print(
                    f"{key:<42} {kind:<14} accuracy {metrics['accuracy']:.3f}  UAR {metrics['uar']:.3f}"
                )
    print(json.dumps({"machine": machine_info(), "epochs": args.epochs, "cross_corpus": results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
