"""Build the LiteRT files that inference runs without TensorFlow (release time).

    python tools/build_lite.py cnn_lstm_fusion face_vgg [--quantize float16]
    python tools/build_lite.py text_minilm --parts --quantize dynamic
    python tools/build_lite.py audio_whisper --parts --quantize float16
    python tools/build_lite.py face_vgg --parts --quantize int8 --parity-samples 3589
    python tools/build_lite.py vgg_minilm_whisper_fusion --parts

For each registered model: export its shipped weights to ``emozoo/weights/<name>.tflite``
with :func:`emozoo.export.to_tflite` (builtin operators only, parity against the Keras
model on real test samples from ../shared/data), then record the file in the model's
card (``"lite"``: file, sha256, size, quantization, the sha256 of the weights it was
built from, and the parity figures). :class:`emozoo.EmotionRecognizer` and
``emozoo predict`` then run the model on the LiteRT interpreter. Rebuild after
retraining: a card whose ``lite.weights_sha256`` differs from its weights is refused.

``--parts`` builds one file per modality encoder and one for the head
(:mod:`emozoo.export.lite_parts`): a fused model whose encoder is a registered model's
(same weights) reuses that model's encoder file, so build the encoders' models first;
``--quantize`` applies to the encoder files this call writes, the head stays float32.

``--quantize int8`` (weights and activations, calibrated on real training samples) is
checked harder than a user's own export: a shipped file changes every user's answers, so
it must agree with the Keras model on at least 97% of the parity samples, real ones
(200 real test samples, or ``--parity-samples N``: N of them, all of a test set when N is
its size). An encoder is calibrated on the training samples that carry its modality.
Files are built and checked in a staging folder and replace the shipped ones only when
every check passed. Ends with one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

if TYPE_CHECKING:
    import numpy as np

    from emozoo.export.parity import ParityReport
    from emozoo.export.samples import Samples


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


#: Top-1 agreement an int8 file needs to ship (``emozoo export``'s own bound, 85%, is
#: for a user's exports, where a sample near a decision boundary may flip).
SHIPPED_INT8_AGREEMENT = 0.97


def _check_shipped(name: str, quantize: str | None, report: ParityReport) -> None:
    """Refuse a build whose parity report fails, or an int8 build that agrees with the
    Keras model on fewer than :data:`SHIPPED_INT8_AGREEMENT` of its real test samples."""
    if not report.passed:
        raise RuntimeError(f"{name}: parity failed: {report.summary()}")
    if quantize == "int8" and not report.real_samples:
        raise RuntimeError(f"{name}: an int8 file ships only when checked on real test samples")
    if quantize == "int8" and report.top1_agreement < SHIPPED_INT8_AGREEMENT:
        raise RuntimeError(
            f"{name}: int8 agrees with Keras on {report.top1_agreement:.1%} of the samples, "
            f"under the {SHIPPED_INT8_AGREEMENT:.0%} a shipped file needs"
        )


def build(name: str, quantize: str | None, parity_samples: int = 200) -> dict:
    from emozoo.export import to_tflite
    from emozoo.paths import WEIGHTS_DIR
    from emozoo.registry import get_entry, sha256_file, weights_stem, write_lite_card

    entry = get_entry(name)
    if entry.weights is None:
        raise ValueError(f"{name} has no shipped weights to build from")
    start = time.time()
    path = WEIGHTS_DIR / f"{weights_stem(name)}.tflite"
    # Built and checked in a staging folder: a refused build leaves the shipped files as
    # their cards describe them.
    with tempfile.TemporaryDirectory(prefix=".build-lite-", dir=WEIGHTS_DIR) as staging:
        staged = Path(staging) / path.name
        result = to_tflite(
            name,
            staged,
            quantize=quantize,
            representative_data="auto" if quantize == "int8" else None,
            parity_samples=parity_samples,
        )
        parity = result.parity
        _check_shipped(name, quantize, parity)
        missing = missing_modality_parity(name, staged)
        if missing["max_abs_diff"] > _missing_bound(parity):
            raise RuntimeError(f"{name}: with modalities missing the file differs: {missing}")
        for produced in Path(staging).iterdir():  # the file and its parity report
            produced.replace(WEIGHTS_DIR / produced.name)
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


def _part_record(path, quantize: str | None, model: str) -> dict:
    from emozoo.registry import get_entry, pinned_name, sha256_file

    return {
        "file": path.name,
        "sha256": sha256_file(path),
        "size_bytes": path.stat().st_size,
        "quantize": quantize or "float32",
        # The version too: when a later one becomes the default, the record still names
        # the weights the file was built from.
        "model": pinned_name(model),
        "weights_sha256": get_entry(model).weights.sha256,
    }


def parts_missing_parity(model, interpreter, name: str) -> dict:
    """Max |Keras - LiteRT parts| over each subset of modalities of synthetic and of
    all-zero inputs (absent ones are zeros with presence 0, as inference feeds them)."""
    import itertools

    import numpy as np

    from emozoo.export import synthetic_samples
    from emozoo.registry import get_entry, load_preprocessor

    modalities = tuple(get_entry(name).modalities)
    preprocessor = load_preprocessor(name)
    inputs = synthetic_samples(name, 4, seed=1).inputs
    zeros = {m: preprocessor.for_modality(m).zeros(4) for m in modalities}
    worst, checks = 0.0, 0
    for k in range(1, len(modalities) + 1):
        for keep in itertools.combinations(modalities, k):
            # real-looking inputs, then all-zero ones (silence, a blank face, no tokens)
            for given in (inputs, zeros):
                lite = interpreter.predict(given, present=keep)
                if not np.isfinite(lite).all():
                    return {"max_abs_diff": float("inf"), "checks": checks}
                feed = {}
                for m in modalities:
                    feed[m] = given[m] if m in keep else zeros[m]
                    if len(modalities) > 1:
                        feed[f"{m}_present"] = np.full((4, 1), float(m in keep), np.float32)
                keras_out = model.predict(feed, verbose=0)
                worst = max(worst, float(np.abs(lite - keras_out).max()))
                checks += 1
    return {"max_abs_diff": worst, "checks": checks}


def _missing_bound(report: ParityReport) -> float:
    """The largest difference allowed with modalities absent: the parity bound, but no
    looser than dynamic-range weights' (int8's own bound, 0.9, would let a head that
    mishandles an absent modality through)."""
    from emozoo.export.parity import default_tolerance

    dynamic = default_tolerance("tflite", "dynamic").max_abs_diff
    return min(report.tolerance["max_abs_diff"], dynamic)


def _calibration_rows(samples: Samples, modality: str) -> np.ndarray:
    """The rows of real training samples that carry ``modality`` (a fused model's
    samples leave some modalities out, as zeros an encoder never sees at inference)."""
    import numpy as np

    rows = samples.inputs[modality]
    present = samples.inputs.get(f"{modality}_present")
    if present is not None:
        rows = rows[np.asarray(present).reshape(len(rows)) > 0]
    if not len(rows):
        raise ValueError(f"no training sample carries {modality} to calibrate int8 on")
    return rows


def build_parts(name: str, quantize: str | None, parity_samples: int = 200) -> dict:
    """Build ``name`` as encoder files plus a head file and record them in its card."""
    from emozoo.export import common
    from emozoo.export.lite_parts import (
        EMBEDDING_OUTPUT,
        PartsInterpreter,
        convert_part,
        split_for_lite,
    )
    from emozoo.export.parity import as_tolerance, compare
    from emozoo.export.runtime import OUTPUT_NAME, keras_predict
    from emozoo.export.source import resolve
    from emozoo.paths import WEIGHTS_DIR
    from emozoo.registry import (
        get_entry,
        list_models,
        load_preprocessor,
        weights_stem,
        write_lite_card,
    )

    entry = get_entry(name)
    if entry.weights is None:
        raise ValueError(f"{name} has no shipped weights to build from")
    start = time.time()
    source = resolve(name)
    parts = split_for_lite(name, source.model)
    calibration = None  # real training samples, loaded when an int8 file is converted
    records, files, written = {}, {}, []
    # Files are built and checked in a staging folder, and moved beside the weights only
    # once every check passed: a refused build leaves the shipped files as their cards say.
    with tempfile.TemporaryDirectory(prefix=".build-lite-", dir=WEIGHTS_DIR) as staging:
        for modality, encoder in parts.encoders.items():
            owner = parts.sources[modality]
            if owner != name:
                owner_entry = get_entry(owner)
                part = owner_entry.lite_parts.get(modality)
                if part is not None and part.get("weights_sha256") != owner_entry.weights.sha256:
                    raise ValueError(
                        f"{name}'s {modality} encoder is {owner}'s, whose encoder file was "
                        f"built from other weights: rebuild it first (python "
                        f"tools/build_lite.py {owner} --parts)"
                    )
                if part is not None:
                    records[modality], files[modality] = dict(part), WEIGHTS_DIR / part["file"]
                    print(f"{name}: {modality} encoder from {owner}: {part['file']}")
                    continue
                # The owner ships no parts build: this model gets its own file of that
                # encoder, recorded as built from the owner's weights (a retrained owner
                # shows it stale).
            path = Path(staging) / f"{weights_stem(name)}.{modality}_encoder.tflite"
            representative = None
            if quantize == "int8":
                if calibration is None:
                    calibration = common.representative_samples(source, "auto", 200)
                representative = {modality: _calibration_rows(calibration, modality)}
            common.step(f"converting the {modality} encoder (quantize={quantize})")
            convert_part(encoder, path, quantize, EMBEDDING_OUTPUT, representative)
            records[modality], files[modality] = _part_record(path, quantize, owner), path
            if representative is not None:
                records[modality]["calibration_samples"] = len(representative[modality])
            written.append(path)
        head_path = Path(staging) / f"{weights_stem(name)}.head.tflite"
        common.step("converting the head (float32)")
        convert_part(parts.head, head_path, None, OUTPUT_NAME)
        written.append(head_path)
        multimodal = len(parts.encoders) > 1
        interpreter = PartsInterpreter(files, head_path, multimodal, load_preprocessor(name))
        samples = common.parity_samples(source, "auto", parity_samples)
        common.step(f"checking parity on {len(samples)} samples")
        reference = keras_predict(source.model, samples.inputs, batch_size=16)
        exported = interpreter.predict(samples.inputs, present=tuple(parts.encoders))
        # The parity bound is the loosest format's among the encoder files.
        formats = {r["quantize"] for r in records.values()}
        weakest = next((q for q in ("int8", "dynamic", "float16") if q in formats), None)
        report = compare(
            reference,
            exported,
            export=str(WEIGHTS_DIR / head_path.name),
            fmt="tflite",
            quantize=weakest,
            samples=samples,
            tolerance=as_tolerance(None, "tflite", weakest),
            runtime=interpreter.runtime,
        )
        _check_shipped(name, weakest, report)
        missing = parts_missing_parity(source.model, interpreter, name)
        if missing["max_abs_diff"] > _missing_bound(report):
            raise RuntimeError(f"{name}: with modalities missing the parts differ: {missing}")
        head_record = _part_record(head_path, None, name)
        size = sum(r["size_bytes"] for r in records.values()) + head_path.stat().st_size
        for path in written:
            path.replace(WEIGHTS_DIR / path.name)
    lite = {
        "format": "parts",
        "parts": records,
        "head": head_record,
        "weights_sha256": entry.weights.sha256,
        "size_bytes": size,
        "parity": {
            "samples": report.samples,
            "sample_source": report.sample_source,
            "max_abs_diff": report.max_abs_diff,
            "top1_agreement": report.top1_agreement,
            "keras_accuracy": report.keras_accuracy,
            "lite_accuracy": report.export_accuracy,
            "runtime": report.runtime,
            "missing_modalities": missing,
        },
        "built_by": "tools/build_lite.py --parts",
    }
    write_lite_card(name, lite)
    print(f"{name}: {lite['size_bytes'] / 2**20:.1f} MiB in parts, {report.summary()}")
    sharing = [
        other
        for other in list_models(versions=True)
        if other != name
        and any(
            get_entry(part["model"]) is get_entry(name)
            for part in get_entry(other).lite_parts.values()
        )
    ]
    if sharing:  # their cards name the previous files: they refuse to run until rebuilt
        print(
            f"{name}: {', '.join(sharing)} share its encoder files; rebuild them: "
            f"python tools/build_lite.py {' '.join(sharing)} --parts"
        )
    return {**lite, "seconds": round(time.time() - start, 1)}


def main(argv=None) -> int:
    from emozoo.export.lite_parts import PART_QUANTIZE

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="+", help="registered models with shipped weights")
    parser.add_argument(
        "--quantize",
        default="float32",
        choices=["float32", *(q for q in PART_QUANTIZE if q)],
        help="weights of the file (default float32: float16 turns the log-mel floor of "
        "1e-10 into 0, and silence into NaN, in a whole-model build; dynamic: int8 "
        "weights, float activations; int8: weights and activations, calibrated on 200 "
        "real training samples)",
    )
    parser.add_argument(
        "--parity-samples",
        type=int,
        default=200,
        metavar="N",
        help="real test samples to check the build on (default 200)",
    )
    parser.add_argument(
        "--parts",
        action="store_true",
        help="one file per modality encoder and one for the head (shared encoder files)",
    )
    args = parser.parse_args(argv)
    quantize = None if args.quantize == "float32" else args.quantize
    build_one = build_parts if args.parts else build
    figures = {name: build_one(name, quantize, args.parity_samples) for name in args.names}
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
