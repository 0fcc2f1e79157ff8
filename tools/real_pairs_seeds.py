"""How much the fusion heads of real face + voice pairs vary with the training seed.

    python tools/real_pairs_seeds.py --seeds 5
    python tools/real_pairs_seeds.py --seeds 2 --models au_whisper_fusion_per_speaker

Trains the head of each fused real-pair card (``--models``) with each seed, as
``tools/train_real_pairs.py`` does: over the card's own shipped encoders (its recipe's
``encoders``), on real or pseudo pairs (its recipe's ``pairing``), with its
``speaker_normalisation`` applied per actor (``real_pair_embeddings``; speech statistics
from the cache that ``tools/train_real_pairs.py`` writes). Prints validation and
real-test figures (both modalities, face only, voice only through the same head) per
seed, then mean and standard deviation per model. Ends with one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

MODELS = ("au_whisper_fusion", "au_whisper_fusion_pseudo", "au_whisper_fusion_per_speaker")
#: What each run reports: all modalities, or one of them through the same head.
GIVEN = (("both", None), ("face_au", ["face_au"]), ("audio", ["audio"]))
CACHE_DIR = "runs/real_pairs"


def seed_runs(name: str, seeds: int) -> list[dict]:
    """One row per seed: the card ``name``'s head trained with that seed, its best
    validation accuracy and its test accuracy and UAR for each of :data:`GIVEN`."""
    from emozoo.evaluation.metrics import confusion_matrix, summary_metrics
    from emozoo.models.fusion.compose import build_head
    from emozoo.registry import builder_kwargs, get_entry
    from emozoo.training.real_pairs import (
        evaluation_inputs,
        real_pair_embeddings,
        train_fusion_head,
    )

    entry = get_entry(name)
    recipe = entry.recipe
    data = real_pair_embeddings(
        entry,
        {"train": int(recipe.get("augmented_copies", 0)), "val": 0, "test": 0},
        cache_dir=CACHE_DIR,
    )
    dims = {m: int(v.shape[-1]) for m, v in data["train"][0].items()}
    labels = entry.labels
    kwargs = {k: v for k, v in builder_kwargs(entry).items() if k != "encoders"}
    rows = []
    for seed in range(seeds):
        head = build_head(entry.architecture, kwargs, dims, labels)
        history = train_fusion_head(
            head,
            data["train"],
            data["val"],
            pairing=recipe["pairing"],
            epochs=recipe["epochs"],
            batch_size=recipe["batch_size"],
            learning_rate=recipe["learning_rate"],
            weight_decay=recipe["weight_decay"],
            label_smoothing=recipe["label_smoothing"],
            repeats=recipe["repeats"],
            full_probability=recipe["full_probability"],
            seed=seed,
            log_dir=f"runs/real_pairs_seeds/{name}_{seed}",
        )
        row = {
            "model": name,
            "pairing": recipe["pairing"],
            "seed": seed,
            "val_accuracy": float(max(history.history["val_accuracy"])),
        }
        for shown, modalities in GIVEN:
            probabilities = head.predict(evaluation_inputs(data["test"][0], modalities), verbose=0)
            m = summary_metrics(
                confusion_matrix(data["test"][1], probabilities.argmax(-1), len(labels)), labels
            )
            row[shown] = {"accuracy": m["accuracy"], "uar": m["uar"]}
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def summarise(rows: list[dict], models: list[str]) -> dict[str, list[float]]:
    """``{"<model>/<given>/<metric>": [mean, standard deviation]}`` over the seeds."""
    import numpy as np

    summary = {}
    for name in models:
        for shown, _ in GIVEN:
            for metric in ("accuracy", "uar"):
                values = [r[shown][metric] for r in rows if r["model"] == name]
                summary[f"{name}/{shown}/{metric}"] = [
                    round(float(np.mean(values)), 4),
                    round(float(np.std(values)), 4),
                ]
    return summary


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument(
        "--models",
        nargs="+",
        default=list(MODELS),
        help="fused real-pair cards whose heads are trained (default: %(default)s)",
    )
    args = parser.parse_args(argv)

    from emozoo.evaluation.machine import machine_info

    rows = [row for name in args.models for row in seed_runs(name, args.seeds)]
    summary = summarise(rows, args.models)
    for key, (mean, sd) in summary.items():
        print(f"{key:48s} {mean:.1%} +- {sd:.1%}")
    print(
        json.dumps(
            {
                "seeds": args.seeds,
                "models": args.models,
                "summary": summary,
                "runs": rows,
                "machine": machine_info(),
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
