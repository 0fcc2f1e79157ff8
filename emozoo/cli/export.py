"""``emozoo export``: SavedModel and TFLite files for serving and mobile.

emozoo export MODEL --format saved_model --out DIR
emozoo export MODEL --format tflite [--quantize float16|dynamic|int8] --out FILE.tflite
"""

from __future__ import annotations

import dataclasses
import json

FORMATS = ("saved_model", "tflite")
QUANTIZE_CHOICES = ("none", "float16", "dynamic", "int8")


def _calibration_data(source, count: int):
    """Real training samples for int8, or synthetic ones with a notice where the
    datasets are absent (the export still works; its calibration is poorer)."""
    from emozoo.export.common import notice, step
    from emozoo.export.samples import real_samples, synthetic_samples

    step(f"loading {count} real training samples to calibrate int8")
    try:
        return real_samples(source, "train", n=count)
    except (FileNotFoundError, ValueError) as error:
        notice(
            f"no real training samples for {source.name} ({error}); calibrating int8 on "
            f"{count} SYNTHETIC inputs instead. Expect a larger accuracy loss."
        )
        return synthetic_samples(source, count, drop_modalities=True)


def _load(model: str):
    from emozoo.export.common import step
    from emozoo.export.source import resolve

    step(f"loading {model}")
    return resolve(model)


def _result_json(result) -> dict:
    return {
        "path": str(result.path),
        "format": result.format,
        "quantize": result.quantize,
        "size_bytes": result.size_bytes,
        "labels": result.metadata["labels"],
        "operators": result.operators,
        "float_operators": result.float_operators,
        "parity": dataclasses.asdict(result.parity),
        "report": str(result.report_path),
    }


def _cmd_export(args) -> int:
    import logging
    import sys

    logger = logging.getLogger("emozoo.export")
    saved = (logger.level, logger.propagate)
    handler = None
    if not args.quiet:  # stages of a long export, on stderr
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("emozoo export: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False  # TensorFlow's absl puts a handler on the root logger
    try:
        result = _export(args)
    finally:  # the API keeps the caller's logging (notebooks, a later CLI call)
        if handler is not None:
            logger.removeHandler(handler)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]
    print(json.dumps(_result_json(result), indent=2) if args.json else result.summary())
    return 0


def _export(args):
    from emozoo.export import to_saved_model, to_tflite

    tolerance = {}
    if args.max_diff is not None:
        tolerance["max_abs_diff"] = args.max_diff
    if args.min_agreement is not None:
        tolerance["min_top1_agreement"] = args.min_agreement
    if args.format == "saved_model":
        if args.quantize != "none":
            raise ValueError("--quantize applies to --format tflite only")
        source = _load(args.model)
        result = to_saved_model(
            source, args.out, parity_samples=args.parity_samples, tolerance=tolerance or None
        )
    else:
        source = _load(args.model)
        representative = None
        if args.quantize == "int8":
            representative = _calibration_data(source, args.calibration_samples)
        result = to_tflite(
            source,
            args.out,
            None if args.quantize == "none" else args.quantize,
            representative_data=representative,
            calibration_samples=args.calibration_samples,
            parity_samples=args.parity_samples,
            tolerance=tolerance or None,
        )
    return result


def register(commands) -> None:
    """Add ``export`` to the ``emozoo`` sub-command parser."""
    parser = commands.add_parser(
        "export",
        help="export a model as a SavedModel or a .tflite file, checked against Keras",
        description="Export a registered model (pretrained weights) or a .keras file. Labels, "
        "input names and preprocessing constants travel inside the export; parity with the "
        "Keras model on real test samples is checked and written beside it as "
        "<out>.parity.json.",
    )
    parser.add_argument("model", help="registered model name or path to a .keras file")
    parser.add_argument("--format", required=True, choices=FORMATS)
    parser.add_argument(
        "--out", required=True, help="SavedModel folder, or .tflite file, to (over)write"
    )
    parser.add_argument(
        "--quantize",
        default="none",
        choices=QUANTIZE_CHOICES,
        help="TFLite only: float16 weights, dynamic-range (int8 weights), or int8 "
        "(weights and activations, calibrated on real training samples)",
    )
    parser.add_argument(
        "--calibration-samples",
        type=int,
        default=200,
        metavar="N",
        help="training samples to calibrate int8 on (default 200)",
    )
    parser.add_argument(
        "--parity-samples",
        type=int,
        default=200,
        metavar="N",
        help="test samples to check parity on (default 200)",
    )
    parser.add_argument(
        "--max-diff",
        type=float,
        default=None,
        metavar="P",
        help="largest allowed probability difference (default: per format)",
    )
    parser.add_argument(
        "--min-agreement",
        type=float,
        default=None,
        metavar="F",
        help="smallest allowed top-1 agreement, 0-1 (default: per format)",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--quiet", action="store_true", help="do not print the export's stages")
    parser.set_defaults(run=_cmd_export)
