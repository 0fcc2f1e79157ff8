"""Evaluate registered models on the test sets their recipes name."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, cast

import numpy as np

from emozoo.evaluation.report import EvaluationReport, evaluate
from emozoo.evaluation.retrieval import RetrievalReport


def evaluation_sets(recipe: dict) -> dict[str, list | dict]:
    """``{report name: spec}`` from a recipe's ``evaluate`` block.

    A spec is a list of ``[dataset, split, {kwargs}?]`` or, for fused models,
    ``{"pairs": "test", "modalities": ["face", "text"]}`` (missing modalities zeroed;
    ``"model": "face_cnn"`` evaluates that unimodal model on the same pairs instead), or
    ``{"retrieval": "test", "query": "face", "gallery": "audio", "k": 10}``: cross-modal
    retrieval between the fusion head's tokens of the distinct items in those pairs, or
    ``{"real_pairs": "test", "modalities": ["face_au"]}``: real face + voice pairs (the
    AUs and the speech of the same RAVDESS trial), any modality left out, ``"model"``
    evaluating another registered model on the same pairs.
    ``"sample": n`` (in the kwargs, or in a pairs spec) keeps a fixed random subset of
    ``n`` items: the quick re-checks of slow models in the default test suite.
    """
    sets = recipe.get("evaluate")
    if not sets:
        raise ValueError("The recipe names no evaluation sets ('evaluate')")
    return dict(sets)


def report_stem(set_name: str) -> str:
    """A portable file-name stem for an evaluation set name."""
    return re.sub(r"[^A-Za-z0-9._+-]+", "_", set_name).strip("_")


def evaluate_registered(
    name: str,
    weights="default",
    out_dir: str | Path | None = None,
    root=None,
    sets: list[str] | None = None,
) -> dict[str, EvaluationReport | RetrievalReport]:
    """Evaluate registered model ``name`` on each of its recipe's evaluation sets.

    ``sets`` restricts the run to some of them. With ``out_dir`` each report is saved
    as JSON, a text table and a confusion PNG.
    """
    import emozoo
    from emozoo.data import make_dataset
    from emozoo.data.recipes import records_for
    from emozoo.models.fusion.compose import split_fused
    from emozoo.registry import builder_kwargs, get_entry

    entry = get_entry(name)
    model = emozoo.load(name, weights=weights)
    preprocessor = emozoo.load_preprocessor(name)
    split = None
    if len(entry.modalities) > 1:
        parts = split_fused(model, entry.architecture, builder_kwargs(entry), entry.labels)
        split = (
            None if parts is None else {"encoders": parts[0], "head": parts[1], "embeddings": {}}
        )
    reports: dict[str, EvaluationReport | RetrievalReport] = {}
    pair_splits: dict[Any, Any] = {}
    real_pairs: dict = {"models": {name: (model, split)}}
    all_sets = evaluation_sets(entry.recipe)
    unknown = set(sets or []) - set(all_sets)
    if unknown:
        raise ValueError(
            f"{name} has no evaluation sets {sorted(unknown)}; it has {list(all_sets)}"
        )
    report: EvaluationReport | RetrievalReport
    for set_name, specs in all_sets.items():
        if sets is not None and set_name not in sets:
            continue
        evaluated, evaluated_name = model, name
        if isinstance(specs, dict) and "retrieval" in specs:
            report = _retrieval_report(model, specs, preprocessor, pair_splits, root)
            report.name = f"{name} on {set_name}"
            reports[set_name] = report
            if out_dir is not None:
                report.save(out_dir, report_stem(set_name))
            continue
        if isinstance(specs, dict) and "real_pairs" in specs:
            evaluated_name = specs.get("model", name)
            labels, probabilities = _real_pair_predictions(evaluated_name, specs, real_pairs, root)
            report = EvaluationReport.from_predictions(
                f"{evaluated_name} on {set_name}",
                labels,
                probabilities,
                get_entry(evaluated_name).labels,
            )
            reports[set_name] = report
            if out_dir is not None:
                report.save(out_dir, report_stem(set_name))
            continue
        if isinstance(specs, dict) and "pairs" in specs and "model" not in specs and split:
            # Each item's embedding once, then the head over the pairs' combinations.
            labels, probabilities = _split_pair_predictions(
                specs, split, preprocessor, pair_splits, root
            )
            report = EvaluationReport.from_predictions(
                f"{name} on {set_name}", labels, probabilities, entry.labels
            )
            reports[set_name] = report
            if out_dir is not None:
                report.save(out_dir, report_stem(set_name))
            continue
        if isinstance(specs, dict) and "pairs" in specs:
            ds = _pairs_for_evaluation(specs, preprocessor, pair_splits, root)
            if "model" in specs:  # a unimodal reference model on the same pairs
                evaluated_name = specs["model"]
                evaluated = emozoo.load(evaluated_name)
                keep = [t.name for t in evaluated.inputs]
                ds = ds.map(lambda x, y, keep=keep: ({k: x[k] for k in keep}, y))
        else:
            # A list spec ([dataset, split, {kwargs}?] ...): the dict specs are above.
            specs, condition = _split_condition(cast(list, specs))
            records = records_for(specs, root)
            if condition is None:
                ds = make_dataset(records, preprocessor, batch_size=256, shuffle=False)
            else:
                ds = _conditioned_dataset(records, preprocessor, condition)
        report = evaluate(evaluated, ds, name=f"{evaluated_name} on {set_name}")
        reports[set_name] = report
        if out_dir is not None:
            report.save(out_dir, report_stem(set_name))
    return reports


def _split_pair_predictions(spec: dict, split: dict, preprocessor, cache: dict, root=None):
    """``(labels, probabilities)`` of a fused model on test pairs, from each item's
    embedding computed once per split (the same values as the whole model: a missing
    modality's encoder output never reaches the head)."""
    from emozoo.data.pairs import MODALITY_ORDER, bank_inputs
    from emozoo.models import presence_input_name

    pairs, sources, banks = _pair_split(spec["pairs"], preprocessor, cache, root)
    embeddings = split["embeddings"].setdefault(spec["pairs"], {})
    for modality in MODALITY_ORDER:
        if modality not in embeddings:
            used = np.unique(getattr(pairs, modality)[getattr(pairs, modality) >= 0])
            encoder = split["encoders"][modality]
            values = np.asarray(
                encoder.predict(
                    {modality: bank_inputs(banks, modality, used)}, batch_size=256, verbose=0
                )
            )
            bank = np.zeros((len(sources[modality]), values.shape[-1]), np.float32)
            bank[used] = values
            embeddings[modality] = bank
    if "sample" in spec:
        pairs = sample_pairs(pairs, spec["sample"])
    pairs = pairs.with_modalities(set(spec.get("modalities", MODALITY_ORDER)))
    inputs = {}
    for modality in MODALITY_ORDER:
        index = getattr(pairs, modality)
        present = index >= 0
        inputs[modality] = embeddings[modality][np.maximum(index, 0)] * present[:, None]
        inputs[presence_input_name(modality)] = present[:, None].astype(np.float32)
    probabilities = split["head"].predict(inputs, batch_size=1024, verbose=0)
    return pairs.labels, probabilities


def _split_condition(specs: list) -> tuple[list, str | None]:
    """``(specs without "condition", the condition)``: one condition per set."""
    found, plain = set(), []
    for spec in specs:
        source, split, *rest = spec
        kwargs = dict(rest[0]) if rest else {}
        if "condition" in kwargs:
            found.add(kwargs.pop("condition"))
        plain.append([source, split, kwargs] if kwargs else [source, split])
    if len(found) > 1:
        raise ValueError(f"one condition per evaluation set, got {sorted(found)}")
    return plain, found.pop() if found else None


def _conditioned_dataset(records, preprocessor, condition: str):
    """Test clips under a recording condition (:mod:`emozoo.evaluation.conditions`)."""
    import tensorflow as tf

    from emozoo.evaluation.conditions import apply_condition

    inputs = preprocessor.for_modality(records.modality)
    if not hasattr(inputs, "sample_rate"):
        raise ValueError(f"recording conditions apply to audio, not to {records!r}")
    clips = apply_condition(condition, inputs.from_items(records.items), inputs.sample_rate)
    features = {records.modality: clips}
    return tf.data.Dataset.from_tensor_slices((features, records.labels.astype("int32"))).batch(256)


def _pair_split(split: str, preprocessor, cache: dict, root=None):
    """``(pairs, sources, banks)`` of a pair split, loaded and decoded once per evaluation
    (the banks cover the whole split, so that subsets of it use them too)."""
    from emozoo.data.pairs import load_pairs, pair_banks

    if split not in cache:
        pairs, sources = load_pairs(split, root=root)
        cache[split] = (pairs, sources, pair_banks(pairs, sources, preprocessor))
    return cache[split]


def _pairs_for_evaluation(spec: dict, preprocessor, cache: dict, root=None):
    """Test pseudo-pairs (``{"pairs": "test", "modalities": [...]}``) as a dataset."""
    from emozoo.data.pairs import MODALITY_ORDER, pairs_dataset

    pairs, sources, banks = _pair_split(spec["pairs"], preprocessor, cache, root)
    if "sample" in spec:
        pairs = sample_pairs(pairs, spec["sample"])
    modalities = spec.get("modalities", MODALITY_ORDER)
    return pairs_dataset(
        pairs.with_modalities(set(modalities)),
        sources,
        preprocessor,
        batch_size=256,
        shuffle=False,
        banks=banks,
    )


def _retrieval_report(model, spec: dict, preprocessor, cache: dict, root=None) -> RetrievalReport:
    """Query -> gallery retrieval between the distinct items of a pair split."""
    from emozoo.data.pairs import bank_inputs
    from emozoo.models import modality_token_encoder

    pairs, sources, banks = _pair_split(spec["retrieval"], preprocessor, cache, root)
    embedded = []
    for modality in (spec["query"], spec["gallery"]):
        used = getattr(pairs, modality)
        index = np.unique(used[used >= 0])
        items = bank_inputs(banks, modality, index)
        encoder = modality_token_encoder(model, modality)
        embedded += [
            np.asarray(encoder.predict(items, batch_size=256, verbose=0)),
            sources[modality].labels[index],
        ]
    queries, query_labels, gallery, gallery_labels = embedded
    return RetrievalReport.from_embeddings(
        "", queries, query_labels, gallery, gallery_labels, k=spec.get("k", 10)
    )


def sample_pairs(pairs, count: int):
    """A fixed random subset of ``count`` pairs (seed 0), in their original order."""
    from emozoo.data import sample_indices

    return pairs.subset(sample_indices(len(pairs), count))


def _real_pair_predictions(name: str, spec: dict, cache: dict, root=None):
    """``(labels, probabilities)`` of registered model ``name`` on real pairs.

    A model with ``speaker_normalisation`` has its inputs or embeddings standardised
    per actor, over the actor's evaluated trials. Each modality's inputs are read once per evaluation; a fused model composed of
    registered encoders runs each encoder once per item (cached by encoder name, so
    two heads over the same encoders share them) and its head over the embeddings.
    """
    import emozoo
    from emozoo.data.datasets.face_au_sources import load_ravdess_au_pairs, trial_actors
    from emozoo.data.records import sample_indices
    from emozoo.models import presence_input_name
    from emozoo.models.fusion.compose import split_fused
    from emozoo.preprocessing.speakers import standardise_by_speaker
    from emozoo.registry import builder_kwargs, get_entry

    entry = get_entry(name)
    split_name = spec["real_pairs"]
    if ("pairs", split_name) not in cache:
        cache[("pairs", split_name)] = load_ravdess_au_pairs(split_name, root)
    pairs = cache[("pairs", split_name)]
    rows = np.arange(len(next(iter(pairs.values()))))
    if "sample" in spec:
        rows = sample_indices(len(rows), spec["sample"], f" for real_pairs/{split_name}")
    wanted = list(spec.get("modalities", entry.modalities))
    unknown = [m for m in wanted if m not in entry.modalities]
    if unknown:
        raise ValueError(f"{name} takes {list(entry.modalities)}, not {unknown}")
    if name not in cache["models"]:
        model = emozoo.load(name)
        parts = None
        if len(entry.modalities) > 1:
            parts = split_fused(model, entry.architecture, builder_kwargs(entry), entry.labels)
        cache["models"][name] = (model, parts)
    model, parts = cache["models"][name]
    if isinstance(parts, dict):  # evaluate_registered's own split
        parts = (parts["encoders"], parts["head"])
    preprocessor = emozoo.load_preprocessor(name)
    labels = pairs[wanted[0]].labels[rows]

    norm = entry.speaker_normalisation
    speakers = trial_actors(split_name, root)[rows] if norm is not None else None

    def by_speaker(values: np.ndarray) -> np.ndarray:
        assert norm is not None and speakers is not None
        return standardise_by_speaker(values, speakers, min_clips=norm.min_clips)

    def raw(modality):
        inputs = preprocessor.for_modality(modality)
        key = ("inputs", split_name, modality, repr(vars(inputs)), tuple(rows.tolist()))
        if key not in cache:
            cache[key] = inputs.from_items(pairs[modality].subset(rows).items)
        if norm is not None and modality in norm.inputs:
            return by_speaker(cache[key])
        return cache[key]

    if parts is None:
        if norm is not None and norm.embeddings:
            raise ValueError(f"{name} standardises embeddings per speaker but runs unsplit")
        if len(entry.modalities) > 1:
            given: dict[str, Any] = {m: list(raw(m)) for m in wanted}
            inputs = preprocessor(**given)
        else:
            inputs = {wanted[0]: raw(wanted[0])}
        return labels, np.asarray(model.predict(inputs, batch_size=64, verbose=0))
    encoders, head = parts
    composed = entry.weights.encoders if entry.weights else {}
    head_inputs = {}
    for modality in entry.modalities:
        present = modality in wanted
        flags = np.full((len(rows), 1), float(present), np.float32)
        width = int(encoders[modality].output.shape[-1])
        values = np.zeros((len(rows), width), np.float32)
        if present:
            owner = composed.get(modality, f"{name}:{modality}")
            # Inputs standardised per speaker give other embeddings: part of the key.
            standardised = norm is not None and modality in norm.inputs
            key = ("embeddings", owner, split_name, tuple(rows.tolist()), standardised)
            if key not in cache:
                cache[key] = np.asarray(
                    encoders[modality].predict({modality: raw(modality)}, batch_size=64, verbose=0)
                )
            values = cache[key]
            if norm is not None and modality in norm.embeddings:
                values = by_speaker(values)
        head_inputs[modality] = values
        head_inputs[presence_input_name(modality)] = flags
    return labels, np.asarray(head.predict(head_inputs, batch_size=256, verbose=0))
