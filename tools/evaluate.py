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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="+", help="registered model names (or 'pretrained' for all)")
    parser.add_argument(
        "--out", type=Path, default=Path("reports"), help="report folder (one subfolder per model)"
    )
    parser.add_argument(
        "--write", action="store_true", help="write the metrics into the zoo configs"
    )
    args = parser.parse_args(argv)

    import emozoo
    from emozoo.evaluation import evaluate_registered
    from emozoo.registry import get_entry, write_weights_card

    names = emozoo.list_models(pretrained=True) if args.names == ["pretrained"] else args.names
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
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
