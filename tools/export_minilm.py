"""Export ``text_minilm`` (SavedModel, TFLite float32 and int8) and time it on one core.

    python tools/export_minilm.py [--out exported/text_minilm] [--runs 50]

Uses ``emozoo.export`` (the export capability): a SavedModel folder, a builtin-ops
TFLite file in float32 and one in int8 (weights and activations, calibrated on real
training texts), each checked for parity against the Keras model on test texts. The
model's input is fixed at 64 token ids (``[CLS] ... [SEP]`` and padding), so every
call costs 64 tokens; the latency is the median of ``--runs`` single-text calls with
one interpreter thread, after 5 warm-up calls. Prints the figures and ends with one
JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

NAME = "text_minilm"
SENTENCE = (
    "I can't believe they cancelled the concert at the last minute, I was so looking forward to it!"
)


def one_core_latency_ms(path: Path, inputs: dict, runs: int) -> float:
    """Median milliseconds of one ``TFLiteModel`` call with one thread."""
    from emozoo.export import TFLiteModel

    model = TFLiteModel(path, num_threads=1)
    for _ in range(5):
        model(inputs)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        model(inputs)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("exported") / NAME)
    parser.add_argument("--runs", type=int, default=50, help="timed calls per TFLite file")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    import emozoo
    from emozoo.export import non_builtin_operators, to_saved_model, to_tflite

    args.out.mkdir(parents=True, exist_ok=True)
    inputs = emozoo.load_preprocessor(NAME)(text=SENTENCE)
    figures: dict = {"model": NAME, "sequence_length": int(inputs["text"].shape[1])}

    saved = to_saved_model(NAME, args.out / f"{NAME}_savedmodel")
    print(saved.summary())
    figures["saved_model_bytes"] = saved.size_bytes
    figures["saved_model_parity"] = saved.parity.passed

    for quantize in (None, "int8"):
        kind = quantize or "float32"
        path = args.out / f"{NAME}_{kind}.tflite"
        result = to_tflite(
            NAME,
            path,
            quantize=quantize,
            representative_data="auto" if quantize == "int8" else None,
        )
        print(result.summary())
        custom = non_builtin_operators(path)
        if custom:
            raise RuntimeError(f"{path} uses non-builtin operators: {custom}")
        latency = one_core_latency_ms(path, inputs, args.runs)
        print(
            f"{kind}: {path.stat().st_size / 2**20:.1f} MiB, {latency:.1f} ms per 64-token text on one core"
        )
        figures[f"tflite_{kind}_bytes"] = path.stat().st_size
        figures[f"tflite_{kind}_parity"] = result.parity.passed
        figures[f"tflite_{kind}_latency_ms_1core_64_tokens"] = round(latency, 2)
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
