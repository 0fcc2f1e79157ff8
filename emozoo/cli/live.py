"""``emozoo live``: real-time emotions of a camera, a stream URL or a video file.

emozoo live [--camera N | --url URL | FILE] [--headless] [--out VIDEO] [--csv PATH]
            [--mic] [--no-audio] [--infer-every N] [--detect-every N] [--window S]
            [--audio-every S] [--batch-frames N] [--small-faces] [--max-faces N]
            [--max-seconds S] [--status-every S] [--model NAME]

OpenCV and the model are imported inside the command function.
"""

from __future__ import annotations

from collections import Counter, defaultdict

DEFAULT_MODEL = "cnn_lstm_fusion"


def _audio_source(args, recognizer, source):
    """The audio the session uses, or ``None`` (and a line saying why)."""
    from emozoo.streaming import MicrophoneAudio, StreamAudio, TrackAudio

    pre = recognizer.runner.preprocessor
    if pre.audio is None:
        return None, f"audio not used: {recognizer.model_name} takes no audio"
    rate, window = pre.audio.sample_rate, pre.audio.num_samples
    audio: MicrophoneAudio | TrackAudio | StreamAudio
    if args.mic:
        audio = MicrophoneAudio(rate, window)
        return audio, audio.notice
    if args.no_audio:
        return None, "audio not used (--no-audio)"
    if source.path is not None:
        audio = TrackAudio(source.path, rate, window)
        return audio, audio.notice
    if source.url is not None:
        audio = StreamAudio(source.url, rate, window)
        return audio, audio.notice
    return None, "audio not used: a camera has no sound (add --mic for the microphone)"


def _cmd_live(args) -> int:
    from emozoo.inference import EmotionRecognizer
    from emozoo.streaming import LiveSettings, VideoSource, run_live
    from emozoo.streaming.overlay import display_available

    given = [v for v in (args.camera, args.url, args.file) if v is not None]
    if len(given) > 1:
        raise ValueError("give one of --camera N, --url URL or FILE")
    settings = LiveSettings(
        detect_every=args.detect_every,
        detect_max_side=None if args.small_faces else 480,
        infer_every=args.infer_every,
        window=args.window,
        audio_every=args.audio_every,
        batch_frames=args.batch_frames,
        max_faces=args.max_faces,
    )
    settings.check()
    outputs = args.out is not None or args.csv is not None
    window = not args.headless
    if window and not display_available():
        if not outputs:
            raise RuntimeError(
                "no display to show the frames on (or OpenCV without a GUI, such as "
                "opencv-python-headless); run with --headless and --out VIDEO and/or --csv PATH"
            )
        print("no display: running headless")
        window = False
    status_every = args.status_every
    if status_every is None and not outputs and not window:
        status_every = 1.0
    recognizer = EmotionRecognizer(
        args.model, weights=args.weights, backend=args.backend, max_faces=args.max_faces
    )
    camera = args.camera if given else 0  # nothing given: the first camera
    source = VideoSource(camera=camera, url=args.url, path=args.file, max_seconds=args.max_seconds)
    counts: dict[int, Counter] = defaultdict(Counter)

    def count(result) -> None:
        for row in result.rows:
            if row["track"] is not None and row["top"]:
                counts[row["track"]][row["top"]] += 1

    audio = None
    try:
        audio, notice = _audio_source(args, recognizer, source)
        print(f"{source.name}: {source.width}x{source.height} at {source.fps:g} fps; {notice}")
        stats = run_live(
            recognizer,
            source,
            audio,
            settings,
            out=args.out,
            csv_path=args.csv,
            window=window,
            status_every=None if args.quiet else status_every,
            on_result=count,
        )
    finally:
        if audio is not None:
            audio.close()
        source.close()
    rtf = "-" if stats.rtf is None else f"{stats.rtf:.3f}"
    print(
        f"{stats.frames} frames ({stats.duration_s:.1f} s of stream) in "
        f"{stats.processing_s:.1f} s: real-time factor {rtf}; {stats.face_estimates} face "
        f"estimates, {stats.audio_estimates} audio windows, {stats.detections} detections"
        + (f", {stats.dropped} frames dropped" if source.live else "")
    )
    for track, labels in sorted(counts.items()):
        top, n = labels.most_common(1)[0]
        print(f"face {track}: {top} in {n} of its {sum(labels.values())} frames")
    if args.out is not None:
        print(f"annotated video: {args.out}")
    if args.csv is not None:
        print(f"timeline: {args.csv}")
    return 0


def register(commands) -> None:
    """Add ``live`` to the ``emozoo`` sub-command parser."""
    p = commands.add_parser(
        "live",
        help="real-time emotions of a camera, a stream URL or a video file",
        description="Track the faces of a stream, estimate each face's emotion over a sliding "
        "window, and its audio (track or microphone) in windows. Shows a window when there is "
        "a display; else use --headless with --out and/or --csv.",
    )
    p.add_argument("file", nargs="?", metavar="FILE", help="a video file to analyse as a stream")
    p.add_argument("--camera", type=int, default=None, help="camera index (default 0)")
    p.add_argument("--url", help="a stream URL OpenCV reads (rtsp://, http://)")
    p.add_argument("--headless", action="store_true", help="no window")
    p.add_argument("--out", metavar="VIDEO", help="write the annotated frames (.mp4, .avi)")
    p.add_argument("--csv", metavar="PATH", help="write the timeline: a row per face per frame")
    p.add_argument("--mic", action="store_true", help="use the microphone (needs sounddevice)")
    p.add_argument("--no-audio", action="store_true", help="ignore the sound")
    p.add_argument(
        "--infer-every", type=int, default=3, help="frames between a face's estimates (3)"
    )
    p.add_argument(
        "--detect-every", type=int, default=10, help="frames between face detections (10)"
    )
    p.add_argument("--window", type=float, default=1.0, help="seconds averaged per face (1.0)")
    p.add_argument(
        "--audio-every", type=float, default=1.0, help="seconds between audio windows (1.0)"
    )
    p.add_argument("--batch-frames", type=int, default=4, help="frames whose faces are batched (4)")
    p.add_argument(
        "--small-faces",
        action="store_true",
        help="detect at full resolution (finds faces under a tenth of the frame; slower)",
    )
    p.add_argument("--max-faces", type=int, default=None, help="follow the N largest faces")
    p.add_argument("--max-seconds", type=float, default=None, help="stop after S seconds")
    p.add_argument(
        "--status-every", type=float, default=None, help="print a status line every S seconds"
    )
    p.add_argument("--quiet", action="store_true", help="no status lines")
    p.add_argument(
        "--model", default=DEFAULT_MODEL, help=f"registered model (default {DEFAULT_MODEL})"
    )
    p.add_argument("--weights", default="default", help="a weights file instead of the pretrained")
    p.add_argument(
        "--backend", choices=("auto", "keras", "lite"), default="auto", help="model runtime"
    )
    p.set_defaults(run=_cmd_live)
