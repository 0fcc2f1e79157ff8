"""``emozoo predict``, ``emozoo video`` and ``emozoo demo``: recognition on raw files.

emozoo predict [--image PATH] [--text TEXT | --text-file PATH] [--audio PATH] [--openface CSV]
               [--no-detect] [--json] [--plot PNG] [--saliency PNG] [--model NAME]
emozoo video PATH [--every S] [--out PNG] [--csv PATH] [--json] [--no-audio]
emozoo demo [--out PNG] [--saliency PNG] [--model NAME]

TensorFlow is imported inside the command functions only.
"""

from __future__ import annotations

import json

DEFAULT_MODEL = "cnn_lstm_fusion"
#: ``--openface`` without ``--model``: the AU model, or AUs + speech with ``--audio``.
AU_MODEL, AU_AUDIO_MODEL = "face_au", "au_whisper_fusion"


def _recognizer(args, **kwargs):
    from emozoo.inference import EmotionRecognizer

    return EmotionRecognizer(args.model, weights=args.weights, **kwargs)


def _utf8_text(text: str, where: str) -> str:
    """``text`` as given on the command line; an error naming ``where`` if its bytes were
    not UTF-8 (Python keeps such bytes as lone surrogates)."""
    for i, char in enumerate(text):
        if 0xDC80 <= ord(char) <= 0xDCFF:
            raise ValueError(
                f"{where} is not valid UTF-8 (byte 0x{ord(char) - 0xDC00:02x} at character {i}); "
                "re-encode it as UTF-8"
            )
    return text


def _read_text_file(path: str) -> str:
    """The text of ``path`` (``-``: standard input), strictly UTF-8."""
    import sys
    from pathlib import Path

    if path == "-":
        raw, where = sys.stdin.buffer.read(), "standard input"
    else:
        file = Path(path).expanduser()
        if not file.is_file():
            raise FileNotFoundError(f"--text-file {path}: no such file")
        raw, where = file.read_bytes(), f"--text-file {path}"
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(
            f"{where} is not valid UTF-8 (byte 0x{raw[error.start]:02x} at offset {error.start}); "
            "re-encode it as UTF-8"
        ) from None


def predict_text_argument(args) -> str | None:
    """The text of ``--text TEXT``, ``--text -`` (standard input) or ``--text-file PATH``."""
    if args.text is not None and args.text_file is not None:
        raise ValueError("give --text or --text-file, not both")
    if args.text_file is not None:
        return _read_text_file(args.text_file)
    if args.text == "-":
        return _read_text_file("-")
    return None if args.text is None else _utf8_text(args.text, "--text")


def _cmd_predict(args) -> int:
    text = predict_text_argument(args)
    if args.image is None and text is None and args.audio is None and args.openface is None:
        raise ValueError(
            "give at least one of --image, --text, --audio, --openface (or --text-file)"
        )
    if args.model is None:
        args.model = DEFAULT_MODEL
        if args.openface is not None:
            args.model = AU_AUDIO_MODEL if args.audio is not None else AU_MODEL
    rec = _recognizer(args, max_faces=args.max_faces)
    result = rec.predict(
        image=args.image,
        text=text,
        audio=args.audio,
        face_au=args.openface,
        detect_faces=not args.no_detect,
        saliency=args.saliency is not None,
    )
    if args.json:
        print(result.to_json())
    else:
        print(result.summary())
        for i, face in enumerate(result.faces):
            x, y, w, h = face.box
            print(
                f"  face {i + 1}: box x={x} y={y} w={w} h={h}"
                f"{f', levelled by {face.angle:+.1f} deg' if face.aligned else ''}"
            )
    if args.plot is not None:
        from emozoo.inference import plot_prediction

        plot_prediction(result, image=args.image, path=args.plot)
        if not args.json:
            print(f"figure: {args.plot}")
    if args.saliency is not None:
        if result.faces:
            from emozoo.inference import save_saliency

            path = save_saliency(result, args.saliency)
            if not args.json:
                print(f"saliency: {path}")
        elif not args.json:
            print("saliency: no face, nothing written")
    return 0 if result.ok else 1


def _cmd_video(args) -> int:
    rec = _recognizer(args, max_faces=args.max_faces)
    analysis = rec.analyze_video(
        args.path,
        every=args.every,
        audio=not args.no_audio,
        max_seconds=args.max_seconds,
        progress=not args.json,
    )
    if args.out is not None:
        analysis.plot(args.out)
    if args.csv is not None:
        analysis.to_csv(args.csv)
    if args.json:
        print(
            json.dumps(
                {
                    "path": analysis.path,
                    "duration_s": round(analysis.duration_s, 3),
                    "every": analysis.every,
                    "notices": analysis.notices,
                    "summary": analysis.summary(),
                    "rows": analysis.rows,
                },
                indent=2,
            )
        )
        return 0
    for notice in analysis.notices:
        print(notice)
    print(analysis.table(max_rows=args.rows))
    print()
    for track in analysis.summary():
        who = f"face {track['track']}" if track["track"] is not None else "no face (audio)"
        print(
            f"{who}: {track['dominant']} (mean p {track['mean_probability']:.2f}) over "
            f"{track['steps']} steps, {track['from_s']:.1f}-{track['to_s']:.1f} s"
        )
    if args.out is not None:
        print(f"timeline: {args.out}")
    if args.csv is not None:
        print(f"table: {args.csv}")
    return 0


def _cmd_demo(args) -> int:
    from emozoo.inference import run_demo

    run_demo(model=args.model, out=args.out, saliency_out=args.saliency)
    from emozoo.cli.zoo import picks_text

    print("\n" + picks_text())
    return 0


def _model_arguments(parser, default: str | None = DEFAULT_MODEL) -> None:
    shown = default or (
        f"{DEFAULT_MODEL}; with --openface {AU_MODEL}, or {AU_AUDIO_MODEL} with --audio too"
    )
    parser.add_argument("--model", default=default, help=f"registered model (default {shown})")
    parser.add_argument(
        "--weights", default="default", help="a weights file instead of the pretrained ones"
    )


def register(commands) -> None:
    """Add ``predict``, ``video`` and ``demo`` to the ``emozoo`` sub-command parser."""
    p = commands.add_parser(
        "predict", help="emotion of a photo, a text and/or an audio file (any subset)"
    )
    p.add_argument("--image", help="photo (faces are detected) or face crop (--no-detect)")
    p.add_argument("--text", help="what was said or written ('-' reads standard input)")
    p.add_argument(
        "--text-file", metavar="PATH", help="read the text from a UTF-8 file ('-': standard input)"
    )
    p.add_argument("--audio", help="speech recording: WAV, FLAC or OGG, any rate and channels")
    p.add_argument(
        "--openface",
        metavar="CSV",
        help="facial action units: an OpenFace 2 FeatureExtraction CSV (or py-feat's), "
        "its tracked frames averaged",
    )
    p.add_argument("--no-detect", action="store_true", help="the image is already a face crop")
    p.add_argument("--max-faces", type=int, default=None, help="keep the N largest faces")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--plot", metavar="PNG", help="write a figure of the prediction")
    p.add_argument("--saliency", metavar="PNG", help="write face occlusion saliency maps")
    _model_arguments(p, default=None)
    p.set_defaults(run=_cmd_predict)

    v = commands.add_parser("video", help="emotions over time in a video (faces + audio track)")
    v.add_argument("path", help="video file (MP4, AVI, MKV, ...)")
    v.add_argument("--every", type=float, default=0.5, help="seconds between frames (0.5)")
    v.add_argument("--out", metavar="PNG", help="write the timeline figure")
    v.add_argument("--csv", metavar="PATH", help="write the per-step table as CSV")
    v.add_argument("--json", action="store_true", help="print JSON (rows and summary)")
    v.add_argument("--no-audio", action="store_true", help="ignore the audio track")
    v.add_argument("--max-seconds", type=float, default=None, help="analyse only the start")
    v.add_argument("--max-faces", type=int, default=None, help="keep the N largest faces")
    v.add_argument("--rows", type=int, default=20, help="table rows to print (20)")
    _model_arguments(v)
    v.set_defaults(run=_cmd_video)

    d = commands.add_parser("demo", help="run the pretrained fusion model on bundled samples")
    d.add_argument("--out", default="emozoo_demo.png", metavar="PNG", help="figure path")
    d.add_argument("--saliency", metavar="PNG", help="also write the face saliency map")
    _model_arguments(d)
    d.set_defaults(run=_cmd_demo)
