"""Evaluate shipped weights on the test sets their recipe names; record the figures.

    python tools/evaluate.py face_cnn [--write] [--out reports/face_cnn]

Prints a per-class table per test set, writes JSON, text and a confusion-matrix PNG
per set under ``--out``, and with ``--write`` stores the metrics in the model's zoo
config (so every figure in a card comes from this tool). Ends with one JSON line.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def markdown_table(summary: dict) -> str:
    """Model, parameters, file size and each test set's figures, as markdown.

    Classification sets come first; cross-modal retrieval sets, if any, get a second
    table with their chance levels.
    Quick-check subsets (``... (sample N)``, re-checked by the default test suite) are
    left out: the full sets they are drawn from are in the table.
    """
    import emozoo
    from emozoo.registry import get_entry

    lines = [
        "| model | params | weights file | test set | n | accuracy | macro-F1 | weighted-F1 | UAR |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    retrieval = [
        "| model | retrieval set | queries | gallery | recall@10 (chance) | precision@10 (chance) |",
        "|---|---|---|---|---|---|",
    ]
    for name, metrics in summary.items():
        params = emozoo.model_info(name)["params"]
        size = get_entry(name).weights.size_bytes / 2**20
        for set_name, m in metrics.items():
            if "recall@10" in m:
                retrieval.append(
                    f"| `{name}` | {set_name} | {m['queries']} | {m['gallery']} | "
                    f"{m['recall@10']:.1%} ({m['chance_recall@10']:.1%}) | "
                    f"{m['precision@10']:.1%} ({m['chance_precision@10']:.1%}) |"
                )
                continue
            if "(sample " in set_name:
                continue
            lines.append(
                f"| `{name}` | {params:,} | {size:.1f} MiB | {set_name} | {m['samples']} | {m['accuracy']:.1%} | "
                f"{m['macro_f1']:.3f} | {m['weighted_f1']:.3f} | {m['uar']:.1%} |"
            )
    if len(retrieval) > 2:
        lines += ["", *retrieval]
    return "\n".join(lines)


def summary_table(names) -> str:
    """One line per model: its headline figure beside its peer's on the same test."""
    import emozoo
    from emozoo.registry import get_entry

    lines = [
        "| model | params | weights | test set | metric | emozoo | peer on the same test |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in names:
        entry = get_entry(name)
        metrics = entry.weights.metrics
        head = dict(entry.headline) or {"set": next(iter(metrics)), "metric": "accuracy"}
        value = metrics[head["set"]][head["metric"]]
        info = emozoo.model_info(name, build=False)
        shown = f"{value:.1%}" if head["metric"] in ("accuracy", "uar") else f"{value:.3f}"
        peer = "-"
        if "peer_value" in head:
            peer_value = head["peer_value"]
            peer_shown = (
                f"{peer_value:.1%}"
                if peer_value <= 1 and head["metric"] in ("accuracy", "uar")
                else f"{peer_value:.3f}"
            )
            peer = f"{head['peer']}: {peer_shown}"
        metric = head["metric"].replace("_", "-").replace("weighted-f1", "weighted-F1")
        mark = " *" if entry.headline.get("recommended") == name else ""
        lines.append(
            f"| `{name}`{mark} | {info['params']:,} | {entry.weights.size_bytes / 2**20:.1f} MiB | "
            f"{head['set']} | {metric} | {shown} | {peer} |"
        )
    if any(" * |" in line for line in lines):
        lines += [
            "",
            "\\* the recommended encoder for its modality (`emozoo.recommended_encoders()`)",
        ]
    return "\n".join(lines)


REPORT_INTRO = """# Recorded metrics of the shipped weights

Every figure the cards record (`emozoo/models/<family>/<name>.json`, `weights.metrics`),
written by `python tools/pretrain.py NAME` or `python tools/evaluate.py NAME --write`
from the shipped weights; regenerate this file with
`python tools/evaluate.py pretrained --cards-only --report reports/model_metrics.md`.
Per-class tables and confusion matrices are in `reports/<model>/`; the docs' model
pages (`docs/models/`) and Benchmarks page show them beside each model's peer.
"""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="+", help="registered model names (or 'pretrained' for all)")
    parser.add_argument(
        "--out", type=Path, default=Path("reports"), help="report folder (one subfolder per model)"
    )
    parser.add_argument(
        "--write", action="store_true", help="write the metrics into the zoo configs"
    )
    parser.add_argument(
        "--markdown", action="store_true", help="also print a markdown table (for the README)"
    )
    parser.add_argument(
        "--summary",
        action="store_true",
        help="no evaluation: one line per model (headline figure and peer), markdown",
    )
    parser.add_argument(
        "--cards-only",
        action="store_true",
        help="no evaluation: print the markdown table of the metrics recorded in the zoo configs",
    )
    parser.add_argument(
        "--report",
        type=Path,
        default=None,
        help="with --cards-only: write the table, with a short introduction, to this file",
    )
    args = parser.parse_args(argv)
    if args.report and not args.cards_only:
        parser.error("--report writes the recorded metrics table: use it with --cards-only")

    import emozoo
    from emozoo.evaluation import evaluate_registered
    from emozoo.registry import get_entry, write_weights_card

    names = emozoo.list_models(pretrained=True) if args.names == ["pretrained"] else args.names
    if args.summary:
        print(summary_table(names))
        return 0
    if args.cards_only:
        table = markdown_table({name: get_entry(name).weights.metrics for name in names})
        if args.report:
            args.report.parent.mkdir(parents=True, exist_ok=True)
            args.report.write_text(f"{REPORT_INTRO}\n{table}\n", encoding="utf-8")
            print(f"wrote {args.report}")
        else:
            print(table)
        return 0
    summary = {}
    for name in names:
        reports = evaluate_registered(name, out_dir=args.out / name)
        metrics = {set_name: report.metrics for set_name, report in reports.items()}
        for report in reports.values():
            print(report.table(), end="\n\n")
        if args.write:
            entry = get_entry(name)
            write_weights_card(name, dataclasses.replace(entry.weights, metrics=metrics))
        summary[name] = metrics
    if args.markdown:
        print(markdown_table(summary))
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
