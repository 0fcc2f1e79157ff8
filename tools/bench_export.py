"""Benchmark exports: size, test accuracy and batch-1 latency on one core, per format.

    python tools/bench_export.py --models face_cnn cnn_lstm_fusion [--quick]

For each model: exports it as a SavedModel and as TFLite float32, float16,
dynamic-range and int8 (calibrated on real training samples), scores every format on
the test split (the same samples the parity checks draw from; every model and export
is run one sample at a time where batching would change the log-mel front end), and
times one-sample inference: the median of ``--repeats`` calls after ``--warmup``, in a
fresh process pinned to one core (``taskset -c CORE``) with one thread, for Keras
(``predict_on_batch``), the SavedModel signature and the LiteRT interpreter. Checks
that int8 loses at most 1 point of accuracy against float32. fer's face classifier
(:mod:`emozoo.evaluation.reference`) is timed the same way before and after the models,
and every latency is also given as a multiple of it (``x fer``, ``ratio_to_fer``): the
figure that compares across machines. Ends with one JSON line (the CPU's model name and
vector flags under ``machine``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROOT = Path(__file__).resolve().parent.parent
FORMATS = ("keras", "saved_model", "tflite", "tflite_float16", "tflite_dynamic", "tflite_int8")
GOAL_MS = 5.0
PROGRESS = sys.stdout.isatty()


def _quantize(fmt: str):
    return {"tflite": None}.get(fmt, fmt.removeprefix("tflite_"))


def _has_spectrogram(model) -> bool:
    import keras

    return any(
        isinstance(layer, keras.layers.MelSpectrogram)
        for layer in model._flatten_layers(include_self=False, recursive=True)
    )


def _latency(fmt: str, target: str, sample: Path, repeats: int, warmup: int, core: int | None):
    """Median / p90 milliseconds of one-sample calls, measured in a fresh pinned process."""
    command = [sys.executable, __file__, "--latency-worker", fmt, target, str(sample)]
    command += ["--repeats", str(repeats), "--warmup", str(warmup)]
    pinned = core is not None and shutil.which("taskset")
    if pinned:
        command = ["taskset", "-c", str(core), *command]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TF_NUM_INTRAOP_THREADS": "1"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=3600)
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip().splitlines()[-1] if done.stderr else "failed")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["pinned_core"] = core if pinned else None
    return result


def _latency_worker(fmt: str, target: str, sample_path: str, repeats: int, warmup: int) -> None:
    import numpy as np

    with np.load(sample_path, allow_pickle=False) as data:
        sample = {k: data[k] for k in data.files}
    if fmt == "reference":
        from emozoo.evaluation.reference import fer_classifier_call

        call = fer_classifier_call(target)
    elif fmt == "keras":
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
        import emozoo

        model = emozoo.load(target)

        def call():
            model.predict_on_batch(sample)

    elif fmt == "saved_model":
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
        serve = tf.saved_model.load(target).signatures["serving_default"]
        feed = {k: tf.constant(v) for k, v in sample.items()}

        def call():
            serve(**feed)

    else:
        from emozoo.export import TFLiteModel

        model = TFLiteModel(target, num_threads=1)

        def call():
            model(sample)

    for _ in range(warmup):
        call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    print(
        json.dumps(
            {
                "median_ms": statistics.median(times),
                "p10_ms": times[len(times) // 10],
                "p90_ms": times[(len(times) * 9) // 10],
                "repeats": repeats,
            }
        )
    )


def bench_model(name: str, args) -> dict:
    import numpy as np

    import emozoo
    from emozoo.export import SavedModelRunner, TFLiteModel, real_samples, to_saved_model, to_tflite
    from emozoo.export.common import folder_size
    from emozoo.export.runtime import keras_predict

    out = args.out / name
    out.mkdir(parents=True, exist_ok=True)
    model = emozoo.load(name)
    batch = 1 if _has_spectrogram(model) else 128
    print(f"== {name}: loading test samples", flush=True)
    test = real_samples(name, "test", n=args.test_samples, seed=0)
    sample_path = out / "latency_sample.npz"
    np.savez(sample_path, **test.row(0))
    print(f"   {len(test)} samples: {test.description}; Keras predictions", flush=True)
    keras_probabilities = keras_predict(model, test.inputs, batch_size=batch, progress=PROGRESS)
    rows = {}
    for fmt in args.formats:
        row: dict = {}
        try:
            started = time.perf_counter()
            if fmt == "keras":
                probabilities = keras_probabilities
                target = name
                from emozoo.registry import get_entry

                row["size_bytes"] = get_entry(name).weights.size_bytes  # the .weights.h5 file
            else:
                if fmt == "saved_model":
                    path = out / "saved_model"
                    result = to_saved_model(name, path)
                else:
                    quantize = _quantize(fmt)
                    path = out / f"{fmt}.tflite"
                    result = to_tflite(
                        name,
                        path,
                        quantize,
                        representative_data="auto" if quantize == "int8" else None,
                    )
                row["export_s"] = round(time.perf_counter() - started, 1)
                row["size_bytes"] = folder_size(path)
                row["parity"] = {
                    "max_abs_diff": result.parity.max_abs_diff,
                    "top1_agreement": result.parity.top1_agreement,
                    "samples": result.parity.samples,
                }
                if result.float_operators:
                    row["float_operators"] = sum(result.float_operators.values())
                    row["operators"] = sum(result.operators.values())
                print(result.summary(), flush=True)
                print(f"   scoring {fmt} on {len(test)} samples", flush=True)
                if fmt == "saved_model":
                    runner = SavedModelRunner(path)
                    probabilities = runner.predict(test.inputs, batch_size=batch, progress=PROGRESS)
                else:
                    probabilities = TFLiteModel(path).predict(test.inputs, progress=PROGRESS)
                target = str(path)
            row["accuracy"] = float(np.mean(probabilities.argmax(-1) == test.labels))
            row["agreement_with_keras"] = float(
                np.mean(probabilities.argmax(-1) == keras_probabilities.argmax(-1))
            )
            if args.repeats:
                print(f"   timing {fmt} ({args.repeats} calls, one core)", flush=True)
                row["latency"] = _latency(
                    fmt, target, sample_path, args.repeats, args.warmup, args.core
                )
        except Exception as error:  # keep going: one broken format is a figure too
            row["error"] = f"{type(error).__name__}: {error}"
            print(f"   {fmt}: {row['error']}", flush=True)
        rows[fmt] = row
    float_accuracy = rows.get("tflite", {}).get("accuracy")
    int8 = rows.get("tflite_int8", {})
    summary = {"test_samples": len(test), "test_set": test.description, "formats": rows}
    if float_accuracy is not None and "accuracy" in int8:
        drop = (float_accuracy - int8["accuracy"]) * 100
        summary["int8_drop_points"] = round(drop, 2)
        summary["int8_drop_ok"] = drop <= 1.0
    if "latency" in int8:
        summary["int8_latency_goal_ms"] = GOAL_MS
        summary["int8_latency_ok"] = int8["latency"]["median_ms"] <= GOAL_MS
    return summary


def _table(name: str, summary: dict) -> str:
    lines = [
        f"{name} ({summary['test_samples']} test samples: {summary['test_set']})",
        f"{'format':<16}{'size MiB':>9}{'accuracy':>10}{'agree':>8}{'max|dp|':>9}"
        f"{'ms p10':>8}{'ms p50':>8}{'ms p90':>8}{'x fer':>8}",
    ]
    for fmt, row in summary["formats"].items():
        if "error" in row:
            lines.append(f"{fmt:<16} ERROR {row['error'][:90]}")
            continue
        size = f"{row['size_bytes'] / 2**20:.2f}" if row.get("size_bytes") else "-"
        latency = row.get("latency", {})
        diff = row.get("parity", {}).get("max_abs_diff")
        lines.append(
            f"{fmt:<16}{size:>9}{row['accuracy']:>10.1%}{row['agreement_with_keras']:>8.1%}"
            f"{(f'{diff:.1e}' if diff is not None else '-'):>9}"
            f"{latency.get('p10_ms', float('nan')):>8.2f}{latency.get('median_ms', float('nan')):>8.2f}"
            f"{latency.get('p90_ms', float('nan')):>8.2f}"
            f"{latency.get('ratio_to_fer', float('nan')):>8.2f}"
        )
    if "int8_drop_points" in summary:
        verdict = "ok" if summary["int8_drop_ok"] else "OVER 1 POINT"
        lines.append(
            f"int8 accuracy drop vs TFLite float32: {summary['int8_drop_points']:.2f} points ({verdict})"
        )
    if "int8_latency_ok" in summary:
        verdict = "met" if summary["int8_latency_ok"] else "NOT met"
        lines.append(f"int8 latency goal <= {GOAL_MS} ms: {verdict}")
    return "\n".join(lines)


def markdown(results: dict) -> str:
    """The figures as one markdown table (for the README)."""
    lines = [
        "| model | format | size | test accuracy | top-1 agreement with Keras | ms/sample p50 (p10-p90) |",
        "|---|---|---|---|---|---|",
    ]
    for name, summary in results.items():
        for fmt, row in summary["formats"].items():
            if "error" in row:
                lines.append(f"| `{name}` | {fmt} | error: {row['error'][:60]} | | | |")
                continue
            latency = row.get("latency")
            timing = (
                f"{latency['median_ms']:.2f} ({latency['p10_ms']:.2f}-{latency['p90_ms']:.2f})"
                if latency
                else "-"
            )
            lines.append(
                f"| `{name}` | {fmt} | {row['size_bytes'] / 2**20:.2f} MiB | {row['accuracy']:.1%} "
                f"| {row['agreement_with_keras']:.1%} | {timing} |"
            )
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=None, help="default: every pretrained model")
    parser.add_argument("--formats", nargs="+", default=list(FORMATS), choices=FORMATS)
    parser.add_argument("--out", type=Path, default=ROOT / "exported" / "bench")
    parser.add_argument(
        "--test-samples", type=int, default=None, help="default: the whole test split"
    )
    parser.add_argument("--repeats", type=int, default=200, help="timed calls (0: no timing)")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--core", type=int, default=0, help="CPU core to pin timing runs to")
    parser.add_argument(
        "--quick", action="store_true", help="300 test samples, 30 timed calls: a smoke run"
    )
    parser.add_argument("--markdown", action="store_true", help="also print a markdown table")
    parser.add_argument(
        "--table-from",
        type=Path,
        metavar="LOG",
        help="no benchmark: print the markdown table of an earlier run's final JSON line",
    )
    parser.add_argument("--latency-worker", nargs=3, metavar=("FORMAT", "TARGET", "SAMPLE"))
    args = parser.parse_args(argv)
    if args.table_from:
        line = args.table_from.read_text().strip().splitlines()[-1]
        print(markdown(json.loads(line)["models"]))
        return 0
    if args.latency_worker:
        _latency_worker(*args.latency_worker, args.repeats, args.warmup)
        return 0
    if args.quick:
        args.test_samples = args.test_samples or 300
        args.repeats, args.warmup = min(args.repeats, 30), min(args.warmup, 5)

    import emozoo
    from emozoo.evaluation.machine import machine_info
    from emozoo.evaluation.reference import fer_classifier_path

    names = args.models or emozoo.list_models(pretrained=True)
    reference = _reference_latency(args) if args.repeats else None
    results = {}
    for name in names:
        results[name] = bench_model(name, args)
    if reference is not None:
        # Timed again after the models: the ratio uses the median of both runs.
        after = _reference_latency(args)
        reference = statistics.median([reference, after])
        for summary in results.values():
            _add_ratios(summary, reference)
        print(
            f"fer's classifier ({fer_classifier_path().name}, same worker, same core): "
            f"{reference:.3f} ms per face; 'x fer' columns are ratios to it"
        )
    for name, summary in results.items():
        print(_table(name, summary), flush=True)
    if args.markdown:
        print(markdown(results))
    print(json.dumps({"machine": machine_info(), "reference_ms": reference, "models": results}))
    return 0


def _reference_latency(args) -> float | None:
    """fer's classifier timed like the formats (a fresh process pinned to the same core);
    ``None`` where the reference file is absent."""
    from emozoo.evaluation.reference import fer_classifier_path

    path = fer_classifier_path()
    if not path.is_file():
        print(f"no ratios: fer's classifier not found at {path}", flush=True)
        return None
    dummy = args.out / "reference_sample.npz"
    dummy.parent.mkdir(parents=True, exist_ok=True)
    import numpy as np

    np.savez(dummy, unused=np.zeros(1))
    return _latency("reference", str(path), dummy, args.repeats, args.warmup, args.core)[
        "median_ms"
    ]


def _add_ratios(summary: dict, reference_ms: float) -> None:
    """Each timed format's median as a multiple of fer's classifier's."""
    for row in summary["formats"].values():
        if "latency" in row:
            row["latency"]["ratio_to_fer"] = round(row["latency"]["median_ms"] / reference_ms, 2)


if __name__ == "__main__":
    sys.exit(main())
