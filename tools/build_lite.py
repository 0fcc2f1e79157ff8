"""Build the LiteRT files that inference runs without TensorFlow (release time).

    python tools/build_lite.py cnn_lstm_fusion face_vgg [--quantize float16]

For each registered model: export its shipped weights to ``emozoo/weights/<name>.tflite``
with :func:`emozoo.export.to_tflite` (builtin operators only, parity against the Keras
model on real test samples from ../shared/data), then record the file in the model's
card (``"lite"``: file, sha256, size, quantization, the sha256 of the weights it was
built from, and the parity figures). :class:`emozoo.EmotionRecognizer` and
``emozoo predict`` then run the model on the LiteRT interpreter. Rebuild after
retraining: a card whose ``lite.weights_sha256`` differs from its weights is refused.
Ends with one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def missing_modality_parity(name: str, path) -> dict:
    """Max |Keras - LiteRT| over each subset of modalities of synthetic inputs (missing
    ones are zeros with presence 0, as inference feeds them) and over silence/blank."""
    import itertools

    import numpy as np

    import emozoo
    from emozoo.export import synthetic_samples
    from emozoo.inference.lite import LiteRunner

    model = emozoo.load(name)
    runner = LiteRunner(name, path=path)  # the new file, before the card names it
    inputs = synthetic_samples(name, 8, seed=1).inputs
    subsets = [
        set(c)
        for k in range(1, len(runner.modalities) + 1)
        for c in itertools.combinations(runner.modalities, k)
    ]
    worst, checks = 0.0, 0
    for keep in subsets:
        for zeros in (False, True):  # real-looking inputs, then all-zero ones (silence, blank)
            features = {m: (np.zeros_like(inputs[m]) if zeros else inputs[m]) for m in sorted(keep)}
            lite = runner.classify(features)
            feed = {}
            for m in runner.modalities:
                feed[m] = features.get(m, runner.preprocessor.for_modality(m).zeros(8))
                if runner.multimodal:
                    feed[f"{m}_present"] = np.full((8, 1), float(m in keep), np.float32)
            keras_out = model.predict(feed, verbose=0)
            if not np.isfinite(lite).all():
                return {"max_abs_diff": float("inf"), "subsets": len(subsets), "checks": checks}
            worst = max(worst, float(np.abs(lite - keras_out).max()))
            checks += 1
    return {"max_abs_diff": worst, "subsets": len(subsets), "checks": checks}


def build(name: str, quantize: str | None) -> dict:
    from emozoo.export import to_tflite
    from emozoo.paths import WEIGHTS_DIR
    from emozoo.registry import get_entry, sha256_file, write_lite_card

    entry = get_entry(name)
    if entry.weights is None:
        raise ValueError(f"{name} has no shipped weights to build from")
    start = time.time()
    path = WEIGHTS_DIR / f"{name}.tflite"
    result = to_tflite(name, path, quantize=quantize)
    parity = result.parity
    if not parity.passed:
        raise RuntimeError(f"{name}: parity failed: {parity.summary()}")
    missing = missing_modality_parity(name, path)
    if missing["max_abs_diff"] > parity.tolerance["max_abs_diff"]:
        raise RuntimeError(f"{name}: with modalities missing the file differs: {missing}")
    lite = {
        "file": path.name,
        "sha256": sha256_file(path),
        "size_bytes": path.stat().st_size,
        "quantize": quantize or "float32",
        "weights_sha256": entry.weights.sha256,
        "parity": {
            "samples": parity.samples,
            "sample_source": parity.sample_source,
            "max_abs_diff": parity.max_abs_diff,
            "top1_agreement": parity.top1_agreement,
            "runtime": parity.runtime,
            "missing_modalities": missing,
        },
        "built_by": "tools/build_lite.py",
    }
    write_lite_card(name, lite)
    print(f"{name}: {path} ({lite['size_bytes'] / 2**20:.1f} MiB), {parity.summary()}")
    return {**lite, "seconds": round(time.time() - start, 1)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="+", help="registered models with shipped weights")
    parser.add_argument(
        "--quantize",
        default="float32",
        choices=["float32", "float16"],
        help="weights of the file (default float32: float16 turns the log-mel floor of "
        "1e-10 into 0, and silence into NaN)",
    )
    args = parser.parse_args(argv)
    quantize = None if args.quantize == "float32" else args.quantize
    figures = {name: build(name, quantize) for name in args.names}
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
