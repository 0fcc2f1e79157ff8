"""Inference start-up, photo latency and thread safety, measured in one run.

    python tools/bench_startup.py [--repeats 3] [--photo emozoo/assets/samples/astronaut.jpg]

1. Cold start: wall time of ``emozoo predict --text "I am furious"`` in a new process,
   against ``python -c "import tensorflow"`` (median of ``--repeats`` runs each); then,
   for each model of ``--models`` (default: the zoo's most accurate,
   ``vgg_minilm_whisper_fusion``), ``emozoo predict --model NAME`` with the same text and
   with a photo, a sentence and a clip, against the default model with the same inputs,
   the runs interleaved, and whether the process imported TensorFlow or Keras.
2. A photo end to end on one core (``taskset`` to CPU 0, one thread everywhere):
   ``EmotionRecognizer.predict(image=photo)`` (detection, alignment, preprocessing, the
   model) against Haar detection alone (emozoo's two-cascade detector) on the same photo;
   medians of 20 warm calls, measured in a child process pinned to one core.
3. Threads: one recognizer shared by 8 threads, 15 calls each (photo, text and audio);
   every answer compared with the single-threaded one.

Ends with one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

SAMPLES = Path(__file__).resolve().parent.parent / "emozoo" / "assets" / "samples"
DEFAULT_MODEL = "cnn_lstm_fusion"

_IMPORTS_CHILD = r"""
import json, sys
from emozoo.cli import main
main(sys.argv[1:])
print(json.dumps({"tensorflow": "tensorflow" in sys.modules, "keras": "keras" in sys.modules}))
"""
ONE_CORE_ENV = {"OMP_NUM_THREADS": "1", "TF_NUM_INTRAOP_THREADS": "1", "OPENCV_NUM_THREADS": "1"}

_PHOTO_CHILD = r"""
import json, statistics, sys, time
import cv2
cv2.setNumThreads(1)
from emozoo import EmotionRecognizer
from emozoo.inference.faces import FaceDetector
from emozoo.inference.media import load_image
photo = sys.argv[1]
rec = EmotionRecognizer("cnn_lstm_fusion")
haar = FaceDetector(method="haar")
rgb, _ = load_image(photo)
def timed(call, n=20):
    call()
    out = []
    for _ in range(n):
        start = time.perf_counter(); call(); out.append(time.perf_counter() - start)
    return statistics.median(out)
end_to_end = timed(lambda: rec.predict(image=photo))
haar_alone = timed(lambda: haar.detect(rgb))
print(json.dumps({"end_to_end_ms": 1000 * end_to_end, "haar_ms": 1000 * haar_alone,
                  "runner": type(rec.runner).__name__, "faces": len(rec.predict(image=photo).faces)}))
"""


def cold(command: list[str], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def cold_interleaved(commands: dict[str, list[str]], repeats: int) -> dict[str, float]:
    """Median cold wall time of each command, the commands taking turns each round."""
    times: dict[str, list[float]] = {key: [] for key in commands}
    for _ in range(repeats):
        for key, command in commands.items():
            start = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True)
            times[key].append(time.perf_counter() - start)
    return {key: statistics.median(values) for key, values in times.items()}


def imports_of(arguments: list[str]) -> dict:
    """Whether ``emozoo ARGUMENTS`` imported TensorFlow or Keras (run in a new process)."""
    out = subprocess.run(
        [sys.executable, "-c", _IMPORTS_CHILD, *arguments],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def models_cold(models: list[str], photo: str, repeats: int) -> dict:
    """Cold ``emozoo predict --model`` of each model against the default, interleaved."""
    cli = str(Path(sys.executable).with_name("emozoo"))
    inputs = {
        "text": ["--text", "I am so happy"],
        "photo_text_clip": [
            "--image",
            photo,
            "--text",
            "I am so happy",
            "--audio",
            str(SAMPLES / "happy.wav"),
        ],
    }
    figures = {}
    for what, arguments in inputs.items():
        commands = {
            name: [cli, "predict", "--model", name, *arguments] for name in [DEFAULT_MODEL, *models]
        }
        seconds = cold_interleaved(commands, repeats)
        for name in models:
            figures[f"{name}_{what}_cold_s"] = round(seconds[name], 3)
            figures[f"{name}_{what}_ratio"] = round(seconds[name] / seconds[DEFAULT_MODEL], 3)
            print(
                f"cold start, {what.replace('_', ' + ')}: {name} {seconds[name]:.2f} s, "
                f"{DEFAULT_MODEL} {seconds[DEFAULT_MODEL]:.2f} s "
                f"(ratio {seconds[name] / seconds[DEFAULT_MODEL]:.2f})"
            )
        figures[f"{DEFAULT_MODEL}_{what}_cold_s"] = round(seconds[DEFAULT_MODEL], 3)
    for name in models:
        imported = imports_of(["predict", "--model", name, *inputs["photo_text_clip"]])
        figures[f"{name}_imports_tensorflow"] = imported["tensorflow"]
        figures[f"{name}_imports_keras"] = imported["keras"]
        print(f"{name}: imports TensorFlow {imported['tensorflow']}, Keras {imported['keras']}")
    return figures


def photo_on_one_core(photo: str) -> dict:
    command = [sys.executable, "-c", _PHOTO_CHILD, photo]
    if os.path.exists("/usr/bin/taskset"):
        command = ["taskset", "-c", "0", *command]
    out = subprocess.run(
        command, check=True, capture_output=True, text=True, env={**os.environ, **ONE_CORE_ENV}
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def threads_identical(photo: str) -> dict:
    import numpy as np

    from emozoo import EmotionRecognizer

    rec = EmotionRecognizer("cnn_lstm_fusion")
    texts = ["I can't believe this happened!", "What a lovely surprise", "I am so scared"]
    clip = str(SAMPLES / "happy.wav")
    calls = [
        {"image": photo, "text": texts[i % 3], "audio": clip if i % 2 else None} for i in range(15)
    ]

    def answer(kwargs):
        result = rec.predict(**kwargs)
        values = [np.float32(p) for _, p in sorted(result.probabilities.items())]
        faces = [[np.float32(p) for _, p in sorted(f.probabilities.items())] for f in result.faces]
        return values, faces

    with ThreadPoolExecutor(max_workers=8) as pool:
        threaded = list(pool.map(answer, calls * 8))
    alone = [answer(kwargs) for kwargs in calls]
    mismatches = sum(got != alone[i % len(calls)] for i, got in enumerate(threaded))
    return {"threads": 8, "calls": len(threaded), "mismatches": int(mismatches)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--photo", default=str(SAMPLES / "astronaut.jpg"))
    parser.add_argument(
        "--models",
        nargs="*",
        default=["vgg_minilm_whisper_fusion"],
        help=f"models whose cold start is compared with {DEFAULT_MODEL}'s",
    )
    args = parser.parse_args(argv)
    from emozoo.evaluation.machine import machine_info

    emozoo_cli = str(Path(sys.executable).with_name("emozoo"))
    predict = cold([emozoo_cli, "predict", "--text", "I am furious"], args.repeats)
    tensorflow = cold([sys.executable, "-c", "import tensorflow"], args.repeats)
    print(
        f"cold start: emozoo predict --text {predict:.2f} s; import tensorflow {tensorflow:.2f} s"
    )
    photo = photo_on_one_core(args.photo)
    print(
        f"photo on one core: end to end {photo['end_to_end_ms']:.1f} ms "
        f"({photo['runner']}, {photo['faces']} face); Haar detection alone {photo['haar_ms']:.1f} ms"
    )
    models = models_cold(args.models, args.photo, args.repeats) if args.models else {}
    threads = threads_identical(args.photo)
    print(
        f"threads: {threads['mismatches']} of {threads['calls']} answers differ from one thread's"
    )
    figures = {
        "predict_text_cold_s": round(predict, 3),
        "import_tensorflow_s": round(tensorflow, 3),
        "cold_start_ratio": round(predict / tensorflow, 3),
        "photo_end_to_end_ms": round(photo["end_to_end_ms"], 2),
        "haar_detection_ms": round(photo["haar_ms"], 2),
        "photo_ratio": round(photo["end_to_end_ms"] / photo["haar_ms"], 3),
        **{f"threads_{k}": v for k, v in threads.items()},
        **models,
        "machine": machine_info(),
    }
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
