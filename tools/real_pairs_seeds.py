"""How much the real-pair and pseudo-pair fusion heads vary with the training seed.

    python tools/real_pairs_seeds.py --seeds 5

Trains ``au_whisper_fusion``'s head on real pairs and on pseudo-pairs (the recipes of
``au_whisper_fusion`` and ``au_whisper_fusion_pseudo``) with each seed, over the shipped
``face_au`` and ``audio_whisper`` encoders (audio statistics from the cache that
``tools/train_real_pairs.py`` writes), and prints validation and real-test figures per
seed, then mean and standard deviation. Ends with one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args(argv)

    import numpy as np

    import emozoo
    from emozoo.data.datasets.face_au_sources import load_ravdess_au_pairs
    from emozoo.evaluation.machine import machine_info
    from emozoo.evaluation.metrics import confusion_matrix, summary_metrics
    from emozoo.models.fusion.compose import build_head
    from emozoo.registry import builder_kwargs, get_entry
    from emozoo.training.real_pairs import (
        audio_embeddings_from_statistics,
        cached_audio_statistics,
        evaluation_inputs,
        train_fusion_head,
    )

    entries = {
        p: get_entry(n)
        for p, n in (("real", "au_whisper_fusion"), ("pseudo", "au_whisper_fusion_pseudo"))
    }
    recipe = entries["real"].recipe
    audio_name, face_name = recipe["encoders"]["audio"], recipe["encoders"]["face_au"]
    audio_full, audio_encoder = emozoo.load(audio_name), emozoo.load(audio_name, include_top=False)
    face_encoder = emozoo.load(face_name, include_top=False)
    key = f"ravdess_au_pairs_{get_entry(audio_name).weights.sha256[:12]}"
    data = {}
    for split, copies in (("train", recipe["augmented_copies"]), ("val", 0), ("test", 0)):
        pairs = load_ravdess_au_pairs(split)
        statistics = cached_audio_statistics(
            audio_full,
            emozoo.load_preprocessor(audio_name),
            split,
            cache_dir="runs/real_pairs",
            cache_key=key,
            augmented_copies=copies,
        )
        face = np.asarray(face_encoder.predict({"face_au": pairs["face_au"].items}, verbose=0))
        data[split] = (
            {
                "face_au": face[:, None],
                "audio": audio_embeddings_from_statistics(audio_encoder, statistics),
            },
            pairs["face_au"].labels,
        )
    dims = {m: int(v.shape[-1]) for m, v in data["train"][0].items()}
    labels = entries["real"].labels
    rows = []
    for pairing, entry in entries.items():
        r = entry.recipe
        kwargs = {k: v for k, v in builder_kwargs(entry).items() if k != "encoders"}
        for seed in range(args.seeds):
            head = build_head(entry.architecture, kwargs, dims, labels)
            history = train_fusion_head(
                head,
                data["train"],
                data["val"],
                pairing=pairing,
                epochs=r["epochs"],
                batch_size=r["batch_size"],
                learning_rate=r["learning_rate"],
                weight_decay=r["weight_decay"],
                label_smoothing=r["label_smoothing"],
                repeats=r["repeats"],
                full_probability=r["full_probability"],
                seed=seed,
                log_dir=f"runs/real_pairs_seeds/{pairing}_{seed}",
            )
            row = {
                "pairing": pairing,
                "seed": seed,
                "val_accuracy": float(max(history.history["val_accuracy"])),
            }
            for shown, modalities in (
                ("both", None),
                ("face_au", ["face_au"]),
                ("audio", ["audio"]),
            ):
                probabilities = head.predict(
                    evaluation_inputs(data["test"][0], modalities), verbose=0
                )
                m = summary_metrics(
                    confusion_matrix(data["test"][1], probabilities.argmax(-1), len(labels)), labels
                )
                row[shown] = {"accuracy": m["accuracy"], "uar": m["uar"]}
            rows.append(row)
            print(json.dumps(row), flush=True)
    summary = {}
    for pairing in entries:
        for shown in ("both", "face_au", "audio"):
            for metric in ("accuracy", "uar"):
                values = [r[shown][metric] for r in rows if r["pairing"] == pairing]
                summary[f"{pairing}/{shown}/{metric}"] = [
                    round(float(np.mean(values)), 4),
                    round(float(np.std(values)), 4),
                ]
    for name, (mean, sd) in summary.items():
        print(f"{name:28s} {mean:.1%} +- {sd:.1%}")
    print(
        json.dumps(
            {"seeds": args.seeds, "summary": summary, "runs": rows, "machine": machine_info()}
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
