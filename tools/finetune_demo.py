"""Fine-tune the pretrained fusion model on a 4-label data set "of your own", as a user would.

    python tools/finetune_demo.py [--model cnn_lstm_fusion] [--epochs 5] [--freeze encoders]
                                  [--out runs/finetune_demo] [--train-per-label 60]

Builds calm/happy/sad/angry manifests from the shared datasets
(``emozoo.training.demo``: FER2013 faces written as PNG files, GoEmotions texts, RAVDESS
clips), loads the pretrained model with a new 4-label head, trains with
``emozoo.train.fit`` on ``train.csv`` (validation on ``val.csv``), then scores
``test.csv``. Prints the test report and ends with one JSON line: accuracy against
chance (25%), macro-F1, time.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="cnn_lstm_fusion")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--freeze", default="encoders")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--train-per-label", type=int, default=60)
    parser.add_argument("--test-per-label", type=int, default=40)
    parser.add_argument("--out", type=Path, default=Path("runs/finetune_demo"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--verbose", type=int, default=2)
    args = parser.parse_args(argv)

    start = time.time()
    import keras

    import emozoo
    from emozoo.evaluation import evaluate
    from emozoo.training.demo import DEMO_LABELS, make_demo_manifests

    manifests = make_demo_manifests(
        args.out / "data",
        per_label={"train": args.train_per_label, "val": 20, "test": args.test_per_label},
        seed=args.seed,
    )
    keras.utils.set_random_seed(args.seed)
    model = emozoo.load(args.model, labels=list(DEMO_LABELS))
    train = emozoo.data.from_manifest(
        manifests["train"], model=model, batch_size=args.batch_size, augment=True, seed=args.seed
    )
    val = emozoo.data.from_manifest(
        manifests["val"], model=model, batch_size=args.batch_size, shuffle=False
    )
    test = emozoo.data.from_manifest(
        manifests["test"], model=model, batch_size=args.batch_size, shuffle=False
    )
    fit_start = time.time()
    history = emozoo.train.fit(
        model,
        train,
        val,
        epochs=args.epochs,
        freeze=args.freeze,
        learning_rate=args.learning_rate,
        log_dir=args.out / f"run_{args.freeze}",
        resume=False,
        seed=args.seed,
        verbose=args.verbose,
    )
    fit_seconds = time.time() - fit_start
    report = evaluate(model, test.as_numpy_iterator(), DEMO_LABELS, name="demo test.csv")
    report.save(args.out / f"run_{args.freeze}", "test")
    print(report.table())
    chance = 1 / len(DEMO_LABELS)
    print(
        json.dumps(
            {
                "model": args.model,
                "freeze": args.freeze,
                "epochs": history.summary["epochs"],
                "train_rows": 4 * args.train_per_label,
                "test_rows": report.metrics["samples"],
                "test_accuracy": round(report.metrics["accuracy"], 4),
                "test_macro_f1": round(report.metrics["macro_f1"], 4),
                "chance": chance,
                "best_val_accuracy": round(history.summary["best"]["value"], 4),
                "fit_seconds": round(fit_seconds, 1),
                "total_seconds": round(time.time() - start, 1),
                "cpu_cores": os.cpu_count(),
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
