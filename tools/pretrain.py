"""Train a registered model from its zoo-config recipe and ship the result.

    python tools/pretrain.py face_cnn [--epochs N] [--log-dir runs/face_cnn]

Trains on the recipe's training data (augmented), keeps the weights with the best
validation accuracy, saves them to ``emozoo/weights/<name>.weights.h5``, then
evaluates them once on the recipe's test sets (``tools/evaluate.py``'s code) and
writes the weights card into ``zoo_configs/<name>.json``: file, sha256, size,
training data, recipe and the measured test metrics. Ends with one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


#: Encoder embeddings of pair sources, shared by the fused models trained in one run:
#: ``(split, encoder name, augmented copies) -> array``.
_EMBEDDINGS: dict = {}


def train_fused(entry, recipe: dict, fit_options: dict, weights_path: Path, seed: int):
    """Train a fused model's head on pseudo-pair embeddings of frozen pretrained encoders.

    ``recipe["embedding_copies"]`` (default 0) trains on that many augmented copies of
    each training item's embedding instead of the clean one; ``recipe["alignment"]``
    adds the cross-modal contrastive loss (Transformer fusion only).
    """
    import emozoo
    from emozoo.data.pairs import PAIR_DEFAULTS, load_pairs
    from emozoo.registry import build_model, builder_kwargs
    from emozoo.training import train
    from emozoo.training.fusion import (
        assemble,
        build_head,
        compute_embeddings,
        pair_embedding_dataset,
    )

    encoders = {m: emozoo.load(name, include_top=False) for m, name in recipe["encoders"].items()}
    preprocessors = {m: emozoo.load_preprocessor(name) for m, name in recipe["encoders"].items()}
    copies = recipe.get("embedding_copies", 0)
    datasets = {}
    for split in ("train", "val"):
        pairs, sources = load_pairs(split)
        embeddings = {}
        for modality, records in sources.items():
            split_copies = copies if split == "train" else 0
            key = (split, recipe["encoders"][modality], split_copies)
            if key not in _EMBEDDINGS:
                print(
                    f"{split}: embedding {len(records)} {modality} items with {key[1]}"
                    + (f" ({split_copies} augmented copies)" if split_copies else "")
                )
                _EMBEDDINGS[key] = compute_embeddings(
                    encoders[modality],
                    records,
                    preprocessors[modality],
                    augmented_copies=split_copies,
                    seed=seed,
                )
            embeddings[modality] = _EMBEDDINGS[key]
        datasets[split] = pair_embedding_dataset(
            pairs, embeddings, recipe.get("batch_size", 256), shuffle=split == "train", seed=seed
        )
    dims = {m: int(e.output_shape[-1]) for m, e in encoders.items()}
    head = build_head(entry.architecture, builder_kwargs(entry), dims, entry.labels)
    print(
        f"{entry.name}: training {head.count_params():,} head parameters on pseudo-pair embeddings"
    )
    checkpoint = Path(fit_options["log_dir"]) / "head.weights.h5"
    history = train(
        head,
        datasets["train"],
        datasets["val"],
        checkpoint_path=checkpoint,
        alignment=recipe.get("alignment"),
        **fit_options,
    )
    model = assemble(build_model(entry), head, encoders)
    weights_path.parent.mkdir(parents=True, exist_ok=True)
    model.save_weights(weights_path)
    count, pair_seed, full = PAIR_DEFAULTS["train"]
    training_data = (
        "cross-dataset pseudo-pairs, matched by label only (not recordings of one moment): "
        f"{count:,} training pairs (seed {pair_seed}, {1 - full:.0%} with a random subset of modalities dropped) "
        "from fer2013/Training, carer_emotion/train + goemotions/train + meld_text/train, "
        "ravdess_speech/train + tess/all"
        + (f", each item's embedding drawn from {copies} augmented copies" if copies else "")
        + "; best epoch chosen on 2,000 validation pairs from the validation splits. "
        f"Encoders frozen from the pretrained {', '.join(recipe['encoders'].values())}; only the fusion head was trained"
        + (
            f", with the cross-modal alignment loss (weight {recipe['alignment'].get('weight', 1.0)}, "
            f"temperature {recipe['alignment'].get('temperature', 0.1)})."
            if recipe.get("alignment")
            else "."
        )
    )
    return model, history, training_data


def repack(name: str) -> int:
    """Re-save shipped weights lean (same values, so the recorded metrics still hold)."""
    import dataclasses

    import numpy as np

    import emozoo
    from emozoo.paths import WEIGHTS_DIR
    from emozoo.registry import get_entry, sha256_file, write_weights_card
    from emozoo.training import save_inference_weights

    entry = get_entry(name)
    model = emozoo.load(name)
    before = [w.copy() for w in model.get_weights()]
    path = save_inference_weights(model, WEIGHTS_DIR / f"{name}.weights.h5")
    card = dataclasses.replace(
        entry.weights, sha256=sha256_file(path), size_bytes=path.stat().st_size
    )
    write_weights_card(name, card)
    after = emozoo.load(name).get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(before, after, strict=True)), (
        "repacked weights differ"
    )
    print(json.dumps({"model": name, "size_bytes": card.size_bytes, "sha256": card.sha256}))
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "names", nargs="+", help="registered model name(s), trained one after the other"
    )
    parser.add_argument("--epochs", type=int, default=None, help="override the recipe's epochs")
    parser.add_argument(
        "--log-dir", type=Path, default=None, help="TensorBoard logs (default runs/<name>)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--repack",
        action="store_true",
        help="no training: re-save the shipped weights without optimizer state and refresh the card's hash and size",
    )
    parser.add_argument(
        "--verbose", type=int, default=2, help="Keras fit verbosity (1 = progress bar)"
    )
    args = parser.parse_args(argv)
    for name in args.names:
        status = pretrain(name, args)
        if status:
            return status
    return 0


def pretrain(name: str, args) -> int:
    """Train (or ``--repack``) one registered model; see the module docstring."""
    import keras

    import emozoo
    from emozoo.evaluation import evaluate_registered
    from emozoo.paths import WEIGHTS_DIR
    from emozoo.registry import WeightsInfo, get_entry, sha256_file, write_weights_card
    from emozoo.training import save_inference_weights, train
    from emozoo.training.recipes import describe_sources, recipe_datasets

    entry = get_entry(name)
    recipe = dict(entry.recipe)
    if not recipe:
        print(f"error: {name} has no recipe in its zoo config", file=sys.stderr)
        return 2
    if args.repack:
        return repack(name)
    if args.epochs is not None:
        recipe["epochs"] = args.epochs
    keras.utils.set_random_seed(args.seed)
    log_dir = args.log_dir or Path("runs") / name
    weights_path = WEIGHTS_DIR / f"{name}.weights.h5"
    start = time.time()
    fit_options = dict(
        epochs=recipe["epochs"],
        log_dir=log_dir,
        learning_rate=recipe.get("learning_rate", 1e-3),
        weight_decay=recipe.get("weight_decay", 1e-4),
        warmup_epochs=recipe.get("warmup_epochs", 1.0),
        label_smoothing=recipe.get("label_smoothing", 0.0),
        verbose=args.verbose,
    )
    if recipe["train"] == "pairs":
        model, history, training_data = train_fused(
            entry, recipe, fit_options, weights_path, args.seed
        )
    else:
        preprocessor = emozoo.load_preprocessor(name)
        train_ds, val_ds = recipe_datasets(recipe, preprocessor, seed=args.seed)
        model = emozoo.load(name, weights=None)
        print(
            f"{name}: {model.count_params():,} parameters; training on {describe_sources(recipe['train'])}"
        )
        checkpoint = Path(log_dir) / "best.weights.h5"
        history = train(model, train_ds, val_ds, checkpoint_path=checkpoint, **fit_options)
        save_inference_weights(model, weights_path)
        training_data = f"train: {describe_sources(recipe['train'])}; best epoch chosen on {describe_sources(recipe['val'])}"
    minutes = (time.time() - start) / 60
    best_val = max(history.history["val_accuracy"])
    card = WeightsInfo(
        file=weights_path.name,
        sha256=sha256_file(weights_path),
        size_bytes=weights_path.stat().st_size,
        training_data=training_data,
        recipe=(
            f"tools/pretrain.py {name} --seed {args.seed}: {recipe['epochs']} epochs, batch {recipe.get('batch_size', 64)}, "
            f"AdamW lr {recipe.get('learning_rate', 1e-3)} wd {recipe.get('weight_decay', 1e-4)}, "
            f"warm-up {recipe.get('warmup_epochs', 1.0)} epoch(s) then cosine, label smoothing "
            f"{recipe.get('label_smoothing', 0.0)}, augmentation {'on' if recipe.get('augment', True) else 'off'}"
            + (
                f", {recipe['embedding_copies']} augmented embedding copies per item"
                if recipe.get("embedding_copies")
                else ""
            )
            + (f", alignment loss {recipe['alignment']}" if recipe.get("alignment") else "")
            + "; "
            f"{minutes:.1f} min on {os.cpu_count()} CPU cores ({keras.backend.backend()} backend)"
        ),
        metrics={},
        notes=f"best validation accuracy {best_val:.4f}",
    )
    write_weights_card(name, card)
    reports = evaluate_registered(name, out_dir=Path("reports") / name)
    metrics = {set_name: report.metrics for set_name, report in reports.items()}
    card = WeightsInfo(**{**card.__dict__, "metrics": metrics})
    write_weights_card(name, card)
    for report in reports.values():
        print(report.table())
    print(
        json.dumps(
            {
                "model": name,
                "params": model.count_params(),
                "minutes": round(minutes, 1),
                "best_val_accuracy": best_val,
                "size_bytes": card.size_bytes,
                "metrics": metrics,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
