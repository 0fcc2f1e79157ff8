"""Speech off its training corpora: audio_whisper's head trained on one corpus, tested on
the other (RAVDESS actors 1-20 -> TESS, and TESS -> RAVDESS actors 21-24), as shipped,
with per-speaker or per-recording normalisation of the frozen Whisper statistics, and
with per-speaker standardisation of the head's 256-d embedding.

The frozen Whisper-base statistics (``layer_statistics``) of every clean clip are
computed once and cached under ``runs/features/``; each head is trained on them for a
fixed number of epochs (no epoch is chosen on the target corpus).

Normalisations compared (each applied to training and test features alike):
- ``none``: as shipped.
- ``per_recording``: each clip's statistics standardised over their own values (a
  per-clip gain and offset removed).
- ``per_speaker``: each speaker's clips standardised by that speaker's mean and
  standard deviation (needs several clips of a speaker at test time: batch use).
- ``per_speaker_embedding``: the head trained on the unnormalised statistics (the
  ``none`` head itself), cut at its ``embedding`` layer; the source corpus's embeddings
  standardised per speaker (as ``per_speaker``) train a new softmax classifier, and each
  test corpus's embeddings, standardised per test speaker, are classified by it. Only
  source-corpus labels are used; a test speaker's mean and deviation come from that
  speaker's own clips.

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
NORMALISATIONS = ("none", "per_recording", "per_speaker", "per_speaker_embedding")
KIND_WIDTH = max(14, *map(len, NORMALISATIONS))
# The normalisation of the Whisper statistics a head is trained on, per row.
STATISTICS_NORMALISATION = {"per_speaker_embedding": "none"}


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
        from emozoo.preprocessing.speakers import standardise_by_speaker

        flat = standardise_by_speaker(flat, speakers)
    return flat.reshape(x.shape).astype(np.float32)


def _embedding_cut(head):
    """The sub-model from ``head``'s input to its ``embedding`` layer (shares weights).

    ``head.get_layer(...).output`` is that layer's first call, which lies in the full
    model's graph rather than the head's, so the head's chain is called again up to it.
    """
    import keras

    from emozoo.models import EMBEDDING_LAYER

    x = head.inputs[0]
    for layer in head.layers[1:]:
        x = layer(x)
        if layer.name == EMBEDDING_LAYER:
            return keras.Model(head.inputs, x, name=f"{head.name}_{EMBEDDING_LAYER}")
    raise ValueError(f"{head.name} has no {EMBEDDING_LAYER!r} layer")


def _speaker_standardised_classifier(
    embed,
    x: np.ndarray,
    y: np.ndarray,
    speakers: np.ndarray,
    num_classes: int,
    epochs: int,
    seed: int,
):
    """A softmax classifier trained on ``x``'s embeddings standardised per speaker."""
    import keras

    z = _normalise(embed.predict(x, batch_size=256, verbose=0), "per_speaker", speakers)
    keras.utils.set_random_seed(seed)
    classifier = keras.Sequential(
        [keras.Input(z.shape[1:]), keras.layers.Dense(num_classes, activation="softmax")]
    )
    classifier.compile(
        optimizer=keras.optimizers.AdamW(1e-3, weight_decay=0.01),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=["accuracy"],
    )
    classifier.fit(z, y, epochs=epochs, batch_size=64, verbose=0)
    return classifier


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
    heads: dict = {}  # (statistics normalisation, training corpus) -> trained head
    for kind in NORMALISATIONS:
        stats_kind = STATISTICS_NORMALISATION.get(kind, kind)
        for title, (train, tests) in experiments.items():
            x, y, s = data[train]
            if (stats_kind, train) not in heads:
                keras.utils.set_random_seed(args.seed)
                fresh = emozoo.load("audio_whisper", weights=None)
                head = head_model(fresh, "layer_statistics")
                head.compile(
                    optimizer=keras.optimizers.AdamW(1e-3, weight_decay=0.01),
                    loss=keras.losses.SparseCategoricalCrossentropy(),
                    metrics=["accuracy"],
                )
                head.fit(
                    _normalise(x, stats_kind, s), y, epochs=args.epochs, batch_size=64, verbose=0
                )
                heads[stats_kind, train] = head
            head = heads[stats_kind, train]
            if kind == "per_speaker_embedding":
                embed = _embedding_cut(head)
                classifier = _speaker_standardised_classifier(
                    embed, x, y, s, len(labels), args.epochs, args.seed
                )
            for test in tests:
                tx, ty, ts = data[test]
                if kind == "per_speaker_embedding":
                    z = _normalise(embed.predict(tx, batch_size=256, verbose=0), "per_speaker", ts)
                    p = classifier.predict(z, batch_size=256, verbose=0)
                else:
                    p = head.predict(_normalise(tx, kind, ts), batch_size=256, verbose=0)
                metrics = summary_metrics(confusion_matrix(ty, p.argmax(-1), len(labels)), labels)
                key = f"{title} [{test}]"
                results.setdefault(key, {})[kind] = {
                    "accuracy": round(float(metrics["accuracy"]), 4),
                    "uar": round(float(metrics["uar"]), 4),
                }
                print(
                    f"{key:<42} {kind:<{KIND_WIDTH}} accuracy {metrics['accuracy']:.3f}  UAR {metrics['uar']:.3f}"
                )
    print(json.dumps({"machine": machine_info(), "epochs": args.epochs, "cross_corpus": results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
