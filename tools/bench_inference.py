"""Inference speed of EmotionRecognizer on this machine (CPU unless a GPU is visible).

    python tools/bench_inference.py [--model cnn_lstm_fusion] [--repeats 20]

Measures, on the bundled samples and on media made here:
- ``predict`` latency for one photo + sentence + 4.5 s recording (median and p90 over
  ``--repeats`` warm calls), with and without contributions, and the face detection
  share of it;
- ``predict_batch`` throughput on texts (texts/s) for two batch sizes;
- ``analyze_video`` throughput on a 10 s, 25 fps, 640x360 video with one face and an
  audio track (analysed frames/s and seconds of video per second), sampling every
  0.5 s and every frame.

Prints the figures (and the machine's load average, since other jobs may share the CPU),
then one JSON line of them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

TEXT = "We made it! The launch went perfectly and I have never felt so proud."
WORDS = [
    "i",
    "feel",
    "so",
    "happy",
    "sad",
    "angry",
    "scared",
    "surprised",
    "today",
    "because",
    "the",
    "meeting",
    "went",
    "badly",
    "and",
    "my",
    "friend",
    "called",
    "me",
    "about",
    "the",
    "trip",
    "we",
    "planned",
    "last",
    "summer",
    "with",
    "everyone",
]


def _timed(fn, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def _stats(times: list[float]) -> dict:
    ordered = sorted(times)
    return {
        "median_ms": round(1000 * statistics.median(ordered), 1),
        "p90_ms": round(1000 * ordered[int(0.9 * (len(ordered) - 1))], 1),
    }


def _texts(n: int, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(WORDS, size=rng.integers(5, 30))) for _ in range(n)]


def _video(path: Path, rgb: np.ndarray, seconds: int = 10, fps: int = 25) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (640, 360))
    face = cv2.cvtColor(cv2.resize(rgb, (320, 320)), cv2.COLOR_RGB2BGR)
    for i in range(seconds * fps):
        canvas = np.full((360, 640, 3), 90, np.uint8)
        x = 20 + int(100 * (1 + np.sin(i / fps)))
        canvas[20:340, x : x + 320] = face
        writer.write(canvas)
    writer.release()
    return path


def _with_audio(video: Path, audio: Path, out: Path) -> Path:
    try:
        import imageio_ffmpeg
    except ImportError:
        return video
    loops = ["-stream_loop", "-1", "-i", str(audio)]
    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-v", "error", "-i", str(video), *loops]
        + ["-c:v", "copy", "-c:a", "aac", "-shortest", str(out)],
        check=True,
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="cnn_lstm_fusion")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--texts", type=int, default=4096)
    args = parser.parse_args()

    import keras

    from emozoo import EmotionRecognizer
    from emozoo.inference import load_image, sample_path

    figures: dict = {
        "model": args.model,
        "backend": keras.backend.backend(),
        "cpu_count": os.cpu_count(),
        "machine": platform.machine(),
        "load_average_start": round(os.getloadavg()[0], 2),
    }
    start = time.perf_counter()
    rec = EmotionRecognizer(args.model)
    figures["load_s"] = round(time.perf_counter() - start, 2)
    photo, audio = sample_path("astronaut.jpg"), sample_path("happy.wav")
    rgb = load_image(photo)[0]

    def one(contributions=True):
        return rec.predict(image=photo, text=TEXT, audio=audio, contributions=contributions)

    for _ in range(3):
        one()
        one(False)
    figures["predict_image_text_audio"] = _stats(_timed(one, args.repeats))
    figures["predict_no_contributions"] = _stats(_timed(lambda: one(False), args.repeats))
    figures["face_detection"] = _stats(_timed(lambda: rec.detector.detect(rgb), args.repeats))
    print(
        f"predict (photo + text + 4.5 s audio): median {figures['predict_image_text_audio']['median_ms']} ms, "
        f"p90 {figures['predict_image_text_audio']['p90_ms']} ms; without contributions "
        f"{figures['predict_no_contributions']['median_ms']} ms; face detection alone "
        f"{figures['face_detection']['median_ms']} ms"
    )

    texts = _texts(args.texts)
    default_batch = rec.runner.batch_size
    throughput = {}
    for batch_size in (64, 256):
        rec.runner.batch_size = batch_size
        rec.predict_batch(texts=texts[:batch_size])
        rec.predict_batch(texts=texts[: batch_size - 1])
        start = time.perf_counter()
        rec.predict_batch(texts=texts)
        throughput[str(batch_size)] = round(len(texts) / (time.perf_counter() - start), 1)
        print(f"predict_batch texts, batch {batch_size}: {throughput[str(batch_size)]} texts/s")
    rec.runner.batch_size = default_batch
    figures["predict_batch_texts_per_s"] = throughput

    with tempfile.TemporaryDirectory() as tmp:
        video = _with_audio(_video(Path(tmp) / "v.mp4", rgb), audio, Path(tmp) / "va.mp4")
        rec.analyze_video(video, every=1.0, max_seconds=2, progress=False)  # warm-up
        video_figures = {}
        for every in (0.5, 0.04):
            start = time.perf_counter()
            analysis = rec.analyze_video(video, every=every, progress=False)
            elapsed = time.perf_counter() - start
            steps = len({row["time"] for row in analysis.rows})
            video_figures[str(every)] = {
                "frames_analysed": steps,
                "frames_per_s": round(steps / elapsed, 1),
                "video_s_per_s": round(analysis.duration_s / elapsed, 2),
                "audio": any(n.startswith("audio track used") for n in analysis.notices),
                "rows_with_face": sum(r["track"] is not None for r in analysis.rows),
            }
            print(
                f"analyze_video every {every} s: {steps} frames in {elapsed:.1f} s = "
                f"{video_figures[str(every)]['frames_per_s']} frames/s, "
                f"{video_figures[str(every)]['video_s_per_s']} s of video per s "
                f"(audio track: {video_figures[str(every)]['audio']})"
            )
        figures["video"] = video_figures
    figures["load_average_end"] = round(os.getloadavg()[0], 2)
    print(
        f"1-minute load average: {figures['load_average_start']} at the start, "
        f"{figures['load_average_end']} at the end ({os.cpu_count()} CPUs)"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
