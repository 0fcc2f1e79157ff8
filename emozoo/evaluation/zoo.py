"""Evaluate registered models on the test sets their recipes name."""

from __future__ import annotations

from pathlib import Path

from emozoo.evaluation.report import EvaluationReport, evaluate


def evaluation_sets(recipe: dict) -> dict[str, list]:
    """``{report name: [[dataset, split, {kwargs}?], ...]}`` from a recipe's ``evaluate`` block."""
    sets = recipe.get("evaluate")
    if not sets:
        raise ValueError("The recipe names no evaluation sets ('evaluate')")
    return dict(sets)


def evaluate_registered(
    name: str, weights="default", out_dir: str | Path | None = None, root=None
) -> dict[str, EvaluationReport]:
    """Evaluate registered model ``name`` on each of its recipe's evaluation sets.

    With ``out_dir`` each report is saved as JSON, a text table and a confusion PNG.
    """
    import emozoo
    from emozoo.data import make_dataset
    from emozoo.registry import get_entry
    from emozoo.training.recipes import records_for

    entry = get_entry(name)
    model = emozoo.load(name, weights=weights)
    preprocessor = emozoo.load_preprocessor(name)
    reports = {}
    for set_name, specs in evaluation_sets(entry.recipe).items():
        records = records_for(specs, root)
        ds = make_dataset(records, preprocessor, batch_size=256, shuffle=False)
        report = evaluate(model, ds, name=f"{name} on {set_name}")
        reports[set_name] = report
        if out_dir is not None:
            report.save(out_dir, set_name.replace("/", "_"))
    return reports
