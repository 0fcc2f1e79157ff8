"""``emozoo serve``: the HTTP API and its web page (the ``serve`` extra).

emozoo serve [--model NAME] [--host 127.0.0.1] [--port 8000] [--token TOKEN]
             [--cors-origin URL ...] [--max-upload-mb 20] [--max-audio-seconds 60]
             [--max-image-pixels 40000000] [--max-text-chars 10000] [--timeout 30]
             [--queue-size 64] [--max-batch N] [--workers 1] [--backend auto]

FastAPI, uvicorn and the recognizer are imported inside the command function only.
"""

from __future__ import annotations

import os
import sys

DEFAULT_MODEL = "cnn_lstm_fusion"
TOKEN_VARIABLE = "EMOZOO_SERVE_TOKEN"


def _cmd_serve(args) -> int:
    from emozoo.serving.server import missing_serve_extra

    missing = missing_serve_extra()
    if missing is not None:
        raise RuntimeError(
            f"emozoo serve needs the serve extra ({missing} is not installed): "
            'pip install "emozoo[serve]"'
        )
    from emozoo.inference import EmotionRecognizer
    from emozoo.serving.app import create_app
    from emozoo.serving.limits import MB, Limits
    from emozoo.serving.server import serve

    limits = Limits(
        max_upload_bytes=int(args.max_upload_mb * MB),
        max_audio_seconds=args.max_audio_seconds,
        max_image_pixels=args.max_image_pixels,
        max_text_chars=args.max_text_chars,
        max_batch_items=args.max_batch_items,
        request_timeout_s=args.timeout,
        queue_size=args.queue_size,
        max_batch=args.max_batch,
    )
    token = args.token or os.environ.get(TOKEN_VARIABLE) or None
    recognizer = EmotionRecognizer(
        args.model, weights=args.weights, max_faces=args.max_faces, backend=args.backend
    )
    app = create_app(
        recognizer, limits=limits, token=token, cors_origins=args.cors_origin, workers=args.workers
    )
    where = f"http://{args.host if ':' not in args.host else f'[{args.host}]'}:{args.port}"
    print(
        f"emozoo serve: {args.model} on {where} (page {where}/, API reference {where}/docs)"
        f"{'; bearer token required' if token else ''}",
        file=sys.stderr,
        flush=True,
    )
    serve(app, args.host, args.port, max_connections=args.max_connections)
    return 0


def register(commands) -> None:
    """Add ``serve`` to the ``emozoo`` sub-command parser."""
    p = commands.add_parser(
        "serve", help='HTTP API and web page (needs pip install "emozoo[serve]")'
    )
    p.add_argument(
        "--model", default=DEFAULT_MODEL, help=f"registered model (default {DEFAULT_MODEL})"
    )
    p.add_argument(
        "--weights", default="default", help="a weights file instead of the pretrained ones"
    )
    p.add_argument(
        "--backend",
        choices=("auto", "keras", "lite"),
        default="auto",
        help="auto: LiteRT where the model has a build (starts fast), else Keras; "
        "keras batches requests together (more throughput, TensorFlow start-up)",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (8000)")
    p.add_argument(
        "--token",
        help=f"require 'Authorization: Bearer TOKEN' on /v1/ (or set ${TOKEN_VARIABLE}, "
        "which other users cannot read from the process list)",
    )
    p.add_argument(
        "--cors-origin",
        action="append",
        default=[],
        metavar="URL",
        help="let pages from this origin call the API (repeatable; default: none)",
    )
    p.add_argument("--max-upload-mb", type=float, default=20.0, help="request body limit (20)")
    p.add_argument(
        "--max-audio-seconds", type=float, default=60.0, help="audio duration limit (60)"
    )
    p.add_argument(
        "--max-image-pixels", type=int, default=40_000_000, help="image size limit (40000000)"
    )
    p.add_argument("--max-text-chars", type=int, default=10_000, help="text length limit (10000)")
    p.add_argument(
        "--max-batch-items", type=int, default=32, help="items per /v1/predict/batch (32)"
    )
    p.add_argument("--timeout", type=float, default=30.0, help="seconds per request (30)")
    p.add_argument("--queue-size", type=int, default=64, help="requests waiting for the model (64)")
    p.add_argument(
        "--max-batch",
        type=int,
        default=None,
        help="samples per model call (default: 32 on the Keras backend, which batches; "
        "1 on LiteRT, which runs row by row)",
    )
    p.add_argument("--workers", type=int, default=1, help="threads running the model (1)")
    p.add_argument(
        "--max-connections", type=int, default=None, help="concurrent connections (no limit)"
    )
    p.add_argument("--max-faces", type=int, default=None, help="keep the N largest faces")
    p.set_defaults(run=_cmd_serve)
