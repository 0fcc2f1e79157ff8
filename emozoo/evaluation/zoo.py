"""Evaluate registered models on the test sets their recipes name."""

from __future__ import annotations

from pathlib import Path

from emozoo.evaluation.report import EvaluationReport, evaluate


def evaluation_sets(recipe: dict) -> dict[str, list | dict]:
    """``{report name: spec}`` from a recipe's ``evaluate`` block.

    A spec is a list of ``[dataset, split, {kwargs}?]`` or, for fused models,
    ``{"pairs": "test", "modalities": ["face", "text"]}`` (missing modalities zeroed;
    ``"model": "face_cnn"`` evaluates that unimodal model on the same pairs instead).
    ``"sample": n`` (in the kwargs, or in a pairs spec) keeps a fixed random subset of
    ``n`` items: the quick re-checks of slow models in the default test suite.
    """
    sets = recipe.get("evaluate")
    if not sets:
        raise ValueError("The recipe names no evaluation sets ('evaluate')")
    return dict(sets)


def evaluate_registered(
    name: str,
    weights="default",
    out_dir: str | Path | None = None,
    root=None,
    sets: list[str] | None = None,
) -> dict[str, EvaluationReport]:
    """Evaluate registered model ``name`` on each of its recipe's evaluation sets.

    ``sets`` restricts the run to some of them. With ``out_dir`` each report is saved
    as JSON, a text table and a confusion PNG.
    """
    import emozoo
    from emozoo.data import make_dataset
    from emozoo.registry import get_entry
    from emozoo.training.recipes import records_for

    entry = get_entry(name)
    model = emozoo.load(name, weights=weights)
    preprocessor = emozoo.load_preprocessor(name)
    reports = {}
    pair_splits = {}
    all_sets = evaluation_sets(entry.recipe)
    unknown = set(sets or []) - set(all_sets)
    if unknown:
        raise ValueError(
            f"{name} has no evaluation sets {sorted(unknown)}; it has {list(all_sets)}"
        )
    for set_name, specs in all_sets.items():
        if sets is not None and set_name not in sets:
            continue
        evaluated, evaluated_name = model, name
        if isinstance(specs, dict) and "pairs" in specs:
            ds = _pairs_for_evaluation(specs, preprocessor, pair_splits, root)
            if "model" in specs:  # a unimodal reference model on the same pairs
                evaluated_name = specs["model"]
                evaluated = emozoo.load(evaluated_name)
                keep = [t.name for t in evaluated.inputs]
                ds = ds.map(lambda x, y, keep=keep: ({k: x[k] for k in keep}, y))
        else:
            ds = make_dataset(records_for(specs, root), preprocessor, batch_size=256, shuffle=False)
        report = evaluate(evaluated, ds, name=f"{evaluated_name} on {set_name}")
        reports[set_name] = report
        if out_dir is not None:
            report.save(out_dir, set_name.replace("/", "_"))
    return reports


def _pairs_for_evaluation(spec: dict, preprocessor, cache: dict, root=None):
    """Test pseudo-pairs (``{"pairs": "test", "modalities": [...]}``) as a dataset."""
    from emozoo.data.pairs import MODALITY_ORDER, load_pairs, pairs_dataset

    split = spec["pairs"]
    if split not in cache:
        cache[split] = load_pairs(split, root=root)
    pairs, sources = cache[split]
    if "sample" in spec:
        pairs = sample_pairs(pairs, spec["sample"])
    modalities = spec.get("modalities", MODALITY_ORDER)
    return pairs_dataset(
        pairs.with_modalities(set(modalities)), sources, preprocessor, batch_size=256, shuffle=False
    )


def sample_pairs(pairs, count: int):
    """A fixed random subset of ``count`` pairs (seed 0), in their original order."""
    import numpy as np

    from emozoo.data.pairs import PairList

    if not isinstance(count, int) or not 0 < count <= len(pairs):
        raise ValueError(f"sample must be an int in 1..{len(pairs)}, got {count!r}")
    keep = np.sort(np.random.default_rng(0).permutation(len(pairs))[:count])
    return PairList(
        pairs.face[keep],
        pairs.text[keep],
        pairs.audio[keep],
        pairs.labels[keep],
        pairs.label_names,
    )
