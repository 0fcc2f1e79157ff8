"""Train the models of real face + voice pairs (RAVDESS AUs + speech) and write their cards.

    python tools/train_real_pairs.py face_au
    python tools/train_real_pairs.py au_whisper_fusion_pseudo
    python tools/train_real_pairs.py au_whisper_fusion
    python tools/evaluate.py au_whisper_fusion --write   # after both heads exist

Actors 1-18 train, 19-20 choose the best epoch, 21-24 test (the card's recipe names the
splits). ``face_au`` trains on the AUs; a fused card (``"pairing": "real"`` or
``"pseudo"``) trains its Transformer fusion head on the frozen encoders' embeddings
(``audio_whisper``'s from its cached layer statistics, ``runs/real_pairs/``) and ships
the head alone. Weights go to ``emozoo/weights/<name>.weights.h5``; the card gets their
sha256, provenance and the figures of ``emozoo.evaluation.evaluate_registered``.
Ends with one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

CACHE_DIR = Path("runs/real_pairs")


def _split_of(specs) -> str:
    (source, split), *rest = specs
    if rest or source != "ravdess_face_au":
        raise ValueError(f"real-pair recipes read one ravdess_face_au split, got {specs}")
    return split


def train_unimodal(name: str, entry, seed: int, run_dir: Path):
    """The AU model: standardisation from the training AUs, then the MLP."""
    from emozoo.data.datasets.face_au_sources import trial_actors
    from emozoo.data.recipes import records_for
    from emozoo.preprocessing.speakers import standardise_by_speaker
    from emozoo.registry import build_model
    from emozoo.training.real_pairs import train_face_au_model

    recipe = entry.recipe
    train, val = records_for(recipe["train"]), records_for(recipe["val"])
    items = {"train": train.items, "val": val.items}
    norm = entry.speaker_normalisation
    if norm is not None and norm.inputs:
        # Each actor's AUs standardised by that actor's own mean and spread.
        for part in items:
            actors = trial_actors(_split_of(recipe[part]))
            items[part] = standardise_by_speaker(items[part], actors, min_clips=norm.min_clips)
    model = build_model(entry)
    history = train_face_au_model(
        model,
        items["train"],
        train.labels,
        items["val"],
        val.labels,
        epochs=recipe["epochs"],
        batch_size=recipe["batch_size"],
        learning_rate=recipe["learning_rate"],
        weight_decay=recipe["weight_decay"],
        label_smoothing=recipe["label_smoothing"],
        seed=seed,
        log_dir=run_dir,
    )
    data = (
        f"train: {train.name}/{train.split} ({len(train)} trials, actors 1-18); best epoch "
        f"chosen on {val.name}/{val.split} ({len(val)} trials, actors 19-20); OpenFace 2 AU "
        "means per clip (calm merged into neutral)"
    )
    if norm is not None and norm.inputs:
        data += "; each actor's AUs standardised by that actor's own mean and standard deviation"
    return model, history, data, {}


def train_fused(name: str, entry, seed: int, run_dir: Path):
    """The fusion head over frozen registered encoders, on real or pseudo pairs."""
    from emozoo.models.fusion.compose import build_head
    from emozoo.registry import builder_kwargs
    from emozoo.training.real_pairs import real_pair_embeddings, train_fusion_head

    recipe = entry.recipe
    norm = entry.speaker_normalisation
    encoder_names = dict(recipe["encoders"])
    splits = {"train": _split_of(recipe["train"]), "val": _split_of(recipe["val"])}
    copies = {"train": int(recipe.get("augmented_copies", 0)), "val": 0}
    by_split = real_pair_embeddings(
        entry,
        {splits[part]: copies[part] for part in splits},
        cache_dir=CACHE_DIR,
        seed=seed,
    )
    data = {part: by_split[split] for part, split in splits.items()}
    dims = {m: int(v.shape[-1]) for m, v in data["train"][0].items()}
    kwargs = {k: v for k, v in builder_kwargs(entry).items() if k != "encoders"}
    head = build_head(entry.architecture, kwargs, dims, entry.labels)
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
        log_dir=run_dir,
    )
    n_train, n_val = len(data["train"][1]), len(data["val"][1])
    if recipe["pairing"] == "real":
        what = (
            f"REAL pairs: the AUs and the speech of the same RAVDESS trial (one actor, one "
            f"moment); {n_train} training trials (actors 1-18)"
        )
    else:
        what = (
            "pseudo-pairs, matched by label only (not recordings of one moment): one trial's "
            "AUs with another trial's voice of the same label, redrawn each pass, from the "
            f"{n_train} training trials (actors 1-18)"
        )
    text = (
        f"{what}, x{recipe['repeats']} passes, {recipe['full_probability']:.0%} of them with "
        f"both modalities, the rest with one dropped; each clip's embedding drawn from "
        f"{1 + copies['train']} copies (clean + augmented); best epoch chosen on {n_val} "
        f"validation pairs (actors 19-20, built the same way). Encoders frozen from the "
        f"pretrained {', '.join(encoder_names.values())}; only the fusion head was trained. "
        "Tested on the real pairs of actors 21-24."
    )
    if norm is not None:
        text += (
            f" Per-speaker standardisation: the {', '.join(norm.inputs)} inputs and the "
            f"{', '.join(norm.embeddings)} embeddings of each actor standardised by that "
            "actor's own mean and standard deviation (clean clips), in training and at test."
        )
    return head, history, text, encoder_names


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-evaluate", action="store_true", help="write weights, skip metrics")
    args = parser.parse_args(argv)

    import keras

    from emozoo.evaluation import evaluate_registered
    from emozoo.paths import WEIGHTS_DIR
    from emozoo.registry import WeightsInfo, get_entry, sha256_file, write_weights_card
    from emozoo.training.loop import save_inference_weights

    entry = get_entry(args.name)
    recipe = entry.recipe
    run_dir = Path("runs") / args.name
    start = time.time()
    trainer = train_fused if len(entry.modalities) > 1 else train_unimodal
    model, history, training_data, encoders = trainer(args.name, entry, args.seed, run_dir)
    minutes = (time.time() - start) / 60
    best_val = float(max(history.history["val_accuracy"]))
    path = save_inference_weights(model, WEIGHTS_DIR / f"{args.name}.weights.h5")
    card = WeightsInfo(
        file=path.name,
        sha256=sha256_file(path),
        size_bytes=path.stat().st_size,
        training_data=training_data,
        recipe=(
            f"tools/train_real_pairs.py {args.name} --seed {args.seed}: {recipe['epochs']} "
            f"epochs, batch {recipe['batch_size']}, AdamW lr {recipe['learning_rate']} wd "
            f"{recipe['weight_decay']}, warm-up {recipe['warmup_epochs']} epoch then cosine, "
            f"label smoothing {recipe['label_smoothing']}; {minutes:.1f} min on "
            f"{os.cpu_count()} CPU cores ({keras.backend.backend()} backend)"
        ),
        notes=f"best validation accuracy {best_val:.4f}",
        encoders=encoders,
    )
    write_weights_card(args.name, card)
    metrics = {}
    if not args.no_evaluate:
        reports = evaluate_registered(args.name, out_dir=Path("reports") / args.name)
        metrics = {set_name: report.metrics for set_name, report in reports.items()}
        write_weights_card(args.name, WeightsInfo(**{**card.__dict__, "metrics": metrics}))
        for report in reports.values():
            print(report.table())
    print(
        json.dumps(
            {
                "model": args.name,
                "minutes": round(minutes, 1),
                "best_val_accuracy": best_val,
                "size_bytes": card.size_bytes,
                "metrics": {k: round(v["accuracy"], 4) for k, v in metrics.items()},
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
