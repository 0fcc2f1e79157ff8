"""``emozoo batch``: emotions of a folder, a glob or a manifest, to CSV, JSON Lines or Parquet.

emozoo batch INPUT --out results.csv|.jsonl|.parquet [--runner local|beam] [--every S]
             [--chunk N] [--max-faces N] [--model NAME] [--no-progress] [-- BEAM OPTIONS]

Everything after ``--`` goes to Beam as pipeline options (``--runner beam`` only).
"""

from __future__ import annotations

import argparse
import sys

DEFAULT_MODEL = "cnn_lstm_fusion"


class _PassThroughParser(argparse.ArgumentParser):
    """Keeps what follows ``--`` for the pipeline (``args.pipeline_args``): argparse
    cannot put a positional INPUT before a variable-length tail of options."""

    def parse_known_args(self, args=None, namespace=None):
        args = list(sys.argv[1:] if args is None else args)
        tail = []
        if "--" in args:
            at = args.index("--")
            args, tail = args[:at], args[at + 1 :]
        namespace, extras = super().parse_known_args(args, namespace)
        namespace.pipeline_args = tail
        return namespace, extras


def _cmd_batch(args) -> int:
    from emozoo.batch import list_inputs, output_format

    output_format(args.out)  # an unknown extension fails before any work
    if args.pipeline_args and args.runner != "beam":
        raise ValueError(
            f"options after -- ({' '.join(args.pipeline_args)}) are Beam pipeline options; "
            "add --runner beam"
        )
    items = list_inputs(args.input)
    if args.runner == "beam":
        return _run_beam(args, items)
    from emozoo.batch import run_local
    from emozoo.inference import EmotionRecognizer

    recognizer = EmotionRecognizer(
        args.model, weights=args.weights, max_faces=args.max_faces, backend=args.backend or "auto"
    )
    try:
        summary = run_local(
            recognizer,
            items,
            args.out,
            chunk_items=args.chunk,
            video_every=args.every,
            progress=not args.no_progress,
        )
    except KeyboardInterrupt:
        print(f"interrupted: the rows written so far are in {args.out}; run again to resume")
        return 130
    print(summary)
    return 0


def _run_beam(args, items) -> int:
    try:
        from emozoo.batch.beam import run_beam
    except ImportError as error:
        raise RuntimeError(
            f"--runner beam needs Apache Beam ({error}): pip install 'emozoo[beam]'"
        ) from None
    if args.weights != "default":
        raise ValueError("--runner beam runs the shipped weights; --weights is for --runner local")
    counts = run_beam(
        items,
        args.out,
        args.pipeline_args,
        model=args.model,
        backend=args.backend or "lite",
        video_every=args.every,
        max_faces=args.max_faces,
        max_batch_size=args.chunk,
    )
    print(
        f"{counts['items']} items: {counts['skipped']} already in {args.out}, "
        f"{counts['run']} run on Beam" + ("" if counts["run"] else " (nothing to do)")
    )
    return 0


def register(commands) -> None:
    """Add ``batch`` to the ``emozoo`` sub-command parser."""
    b = commands.add_parser(
        "batch",
        help="emotions of a folder, glob or manifest CSV, to .csv/.jsonl/.parquet (resumable)",
        description="Run every photo, audio clip, text file and video of INPUT (a folder, a "
        "glob or a manifest CSV with face_path,text,audio_path) and write one row per item. "
        "A re-run skips the rows already in --out. Options after -- go to Apache Beam.",
        epilog="Beam pipeline options follow --, for example: emozoo batch photos/ --out "
        "results.jsonl --runner beam -- --runner=DataflowRunner --project=P "
        "--temp_location=gs://B/tmp (see docs/batch.md)",
    )
    b.__class__ = _PassThroughParser
    b.add_argument("input", help="a folder, a glob ('photos/*.jpg') or a manifest CSV")
    b.add_argument("--out", required=True, help="results file: .csv, .jsonl or .parquet")
    b.add_argument(
        "--runner",
        choices=("local", "beam"),
        default="local",
        help="local (this process, default) or beam (Apache Beam; options after --)",
    )
    b.add_argument(
        "--every", type=float, default=0.5, help="seconds between a video's frames (0.5)"
    )
    b.add_argument(
        "--chunk", type=int, default=32, help="items per network batch and per write (32)"
    )
    b.add_argument("--max-faces", type=int, default=None, help="keep the N largest faces")
    b.add_argument("--no-progress", action="store_true", help="no progress bar")
    b.add_argument(
        "--model", default=DEFAULT_MODEL, help=f"registered model (default {DEFAULT_MODEL})"
    )
    b.add_argument("--weights", default="default", help="a weights file (--runner local)")
    b.add_argument(
        "--backend",
        choices=("auto", "keras", "lite"),
        default=None,
        help="model runtime (local: auto; beam: lite, the shipped LiteRT build)",
    )
    b.set_defaults(run=_cmd_batch, pipeline_args=[])
