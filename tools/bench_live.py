"""Real-time factor of ``emozoo live`` on one core: processing time / stream duration.

    python tools/bench_live.py [--seconds 10] [--core 0] [--out-dir DIR]

The stream is the sample video (``python -m emozoo.streaming.sample``): 640x480 at 30
fps, one face (the bundled photo, drifting) and a speech track. Every frame is analysed
with the default model (``cnn_lstm_fusion`` on LiteRT) and the default settings: each
frame's faces are tracked and given an emotion estimate (see docs/live.md for what runs
per frame). The process is pinned to one core, with one thread for every numerical
library (set before they are imported). Runs, each on the same video:

1. ``emozoo live FILE --headless --out annotated.mp4 --csv timeline.csv`` (the goal:
   real-time factor <= 0.5);
2. the analysis alone (no output files);
3. the network on every frame's face (``--infer-every 1``), for reference.

The real-time factor is wall time; on a machine shared with other work the core is not
all ours, so each run also reports its CPU time over the stream duration (what an idle
core would take). Prints per-stage milliseconds per frame and ends with one JSON line.
"""

from __future__ import annotations

import argparse
import os
import sys

ONE_THREAD = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OPENCV_NUM_THREADS")
GOAL_RTF = 0.5


def _pin(core: int) -> None:
    """One core, one thread: before numpy, OpenCV or LiteRT are imported."""
    os.sched_setaffinity(0, {core})
    for name in ONE_THREAD:
        os.environ[name] = "1"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="stream length (10)")
    parser.add_argument("--core", type=int, default=0, help="the CPU core to run on (0)")
    parser.add_argument("--out-dir", help="keep the video and outputs here (default: temporary)")
    args = parser.parse_args(argv)
    _pin(args.core)

    import json
    import tempfile
    import time
    from pathlib import Path

    import cv2

    cv2.setNumThreads(1)
    from emozoo.inference import EmotionRecognizer
    from emozoo.streaming import LiveSettings, TrackAudio, VideoSource, run_live
    from emozoo.streaming.sample import write_sample_video

    scratch = tempfile.TemporaryDirectory()
    root = Path(args.out_dir or scratch.name)
    root.mkdir(parents=True, exist_ok=True)
    video = write_sample_video(root / "stream.mp4", seconds=args.seconds, fps=30)
    recognizer = EmotionRecognizer()  # the default model; LiteRT, no TensorFlow
    pre = recognizer.runner.preprocessor
    # Warm-up: one short run loads the interpreters and the detector.
    with VideoSource(path=video, max_seconds=0.5) as source:
        run_live(recognizer, source, None, LiveSettings())

    def timed(name: str, settings: LiveSettings, outputs: bool) -> dict:
        with (
            VideoSource(path=video) as source,
            TrackAudio(video, pre.audio.sample_rate, pre.audio.num_samples) as audio,
        ):
            cpu = time.process_time()
            stats = run_live(
                recognizer,
                source,
                audio,
                settings,
                out=root / f"{name}.mp4" if outputs else None,
                csv_path=root / f"{name}.csv" if outputs else None,
            )
            cpu = time.process_time() - cpu
        figures = stats.to_dict()
        # The core's time this process used: what the wall clock gives on an idle core.
        figures["cpu_s"] = round(cpu, 3)
        figures["cpu_real_time_factor"] = round(cpu / stats.duration_s, 4)
        calls = figures["face_estimates"] + figures["audio_estimates"]  # one model run each
        figures["network_ms_per_call"] = round(stats.stage_ms["network"] / max(1, calls), 2)
        print(
            f"{name}: {figures['frames']} frames, {figures['duration_s']:.1f} s of stream in "
            f"{figures['processing_s']:.2f} s: real-time factor {figures['real_time_factor']:.3f} "
            f"(CPU time {figures['cpu_s']:.2f} s: {figures['cpu_real_time_factor']:.3f})"
        )
        print(
            "  ms per frame: "
            + "  ".join(f"{k} {v:.2f}" for k, v in figures["per_frame_ms"].items())
            + f"  (face estimates {figures['face_estimates']}, audio windows "
            f"{figures['audio_estimates']}: {figures['network_ms_per_call']:.1f} ms per model "
            f"run; detections {figures['detections']})"
        )
        return figures

    runs = {
        "cli_outputs": timed("cli_outputs", LiveSettings(), outputs=True),
        "analysis_only": timed("analysis_only", LiveSettings(), outputs=False),
        "infer_every_frame": timed("infer_every_frame", LiveSettings(infer_every=1), True),
    }
    from emozoo.evaluation.machine import machine_info

    rtf = runs["cli_outputs"]["real_time_factor"]
    cpu_rtf = runs["cli_outputs"]["cpu_real_time_factor"]
    load = os.getloadavg()[0]
    print(
        f"goal: real-time factor <= {GOAL_RTF} -> {rtf:.3f} "
        f"({'met' if rtf <= GOAL_RTF else 'NOT met'}); from CPU time {cpu_rtf:.3f}; "
        f"load average {load:.2f} on {os.cpu_count()} cores (other processes share the core)"
    )
    line = {
        "benchmark": "bench_live",
        "stream": {"width": 640, "height": 480, "fps": 30, "seconds": args.seconds, "faces": 1},
        "model": recognizer.model_name,
        "runner": type(recognizer.runner).__name__,
        "core": args.core,
        "settings": LiveSettings().__dict__,
        "real_time_factor": rtf,
        "cpu_real_time_factor": cpu_rtf,
        "goal_real_time_factor": GOAL_RTF,
        "goal_met": rtf <= GOAL_RTF,
        "runs": runs,
        "machine": machine_info(),
    }
    print(json.dumps(line))
    scratch.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
