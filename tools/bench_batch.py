"""Throughput of ``emozoo batch``: items per second in one process and on Apache Beam.

    python tools/bench_batch.py [--photos 120] [--clips 60] [--texts 60] [--workers 2]

The workload is a folder made from the bundled samples: photos (the astronaut photo
flipped, scaled and shifted), speech clips and text files, with the default model
(``cnn_lstm_fusion``, LiteRT). It runs

1. locally (``emozoo batch FOLDER --out local.jsonl``: one process);
2. on Beam's in-process runner with ``--workers`` worker processes
   (``--direct_running_mode=multi_processing --direct_num_workers=N``): each worker
   loads its own recognizer (``RunInference``'s ``load_model``);
3. on Beam's in-process runner in this process (``in_memory``), for Beam's own overhead.

Each figure is items / wall seconds, from the job's start (model load and, for Beam,
pipeline and worker start-up included) to its output file. The rows of every run are
checked against the local run's. Ends with one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

TEXTS = (
    "We won the final and I can't stop smiling!",
    "Nobody told me the flight was cancelled. This is unacceptable!",
    "She moved away and the house feels so empty.",
    "Wait, you did all of this for me?",
    "The meeting is at three in room four.",
    "I am terrified of what the results will say.",
)


def make_workload(root: Path, photos: int, clips: int, texts: int) -> int:
    """Write ``photos`` images, ``clips`` speech files and ``texts`` text files to ``root``."""
    import cv2
    import numpy as np

    from emozoo.inference.demo import sample_path

    photo = cv2.imread(str(sample_path("astronaut.jpg")))
    rng = np.random.default_rng(0)
    (root / "photos").mkdir(parents=True)
    for i in range(photos):
        image = photo[:, ::-1] if i % 2 else photo
        scale = 0.6 + 0.8 * rng.random()
        image = cv2.resize(image, None, fx=scale, fy=scale)
        canvas = np.full((image.shape[0] + 80, image.shape[1] + 80, 3), 100, np.uint8)
        dx, dy = rng.integers(0, 80, 2)
        canvas[dy : dy + image.shape[0], dx : dx + image.shape[1]] = image
        cv2.imwrite(str(root / "photos" / f"photo_{i:04d}.jpg"), canvas)
    (root / "speech").mkdir()
    wavs = ("happy.wav", "angry.wav", "sad.wav")
    for i in range(clips):
        shutil.copy(sample_path(wavs[i % 3]), root / "speech" / f"clip_{i:04d}.wav")
    (root / "texts").mkdir()
    for i in range(texts):
        (root / "texts" / f"text_{i:04d}.txt").write_text(TEXTS[i % len(TEXTS)], "utf-8")
    return photos + clips + texts


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=120)
    parser.add_argument("--clips", type=int, default=60)
    parser.add_argument("--texts", type=int, default=60)
    parser.add_argument("--workers", type=int, default=2, help="Beam worker processes (2)")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

    from emozoo.batch import list_inputs, read_rows, run_local
    from emozoo.batch.beam import run_beam
    from emozoo.evaluation.machine import machine_info
    from emozoo.inference import EmotionRecognizer

    scratch = tempfile.TemporaryDirectory()
    root = Path(scratch.name)
    n = make_workload(root / "in", args.photos, args.clips, args.texts)
    items = list_inputs(root / "in")
    assert len(items) == n

    start = time.perf_counter()
    summary = run_local(EmotionRecognizer(), items, root / "local.jsonl", progress=False)
    local_s = time.perf_counter() - start
    assert summary.written == n
    reference = {row["key"]: row for row in read_rows(root / "local.jsonl")}

    def beam(name: str, options: list[str]) -> dict:
        out = root / f"{name}.jsonl"
        start = time.perf_counter()
        run_beam(items, out, options)
        seconds = time.perf_counter() - start
        same = {row["key"]: row for row in read_rows(out)} == reference
        return {
            "seconds": round(seconds, 2),
            "items_per_s": round(n / seconds, 2),
            "rows_equal_local": same,
            "options": options,
        }

    runs = {
        "local": {
            "seconds": round(local_s, 2),
            "items_per_s": round(n / local_s, 2),
            "processes": 1,
        },
        "beam_multi_processing": beam(
            "beam_mp",
            [
                "--runner=DirectRunner",
                "--direct_running_mode=multi_processing",
                f"--direct_num_workers={args.workers}",
            ],
        ),
        "beam_in_memory": beam(
            "beam_mem", ["--runner=DirectRunner", "--direct_running_mode=in_memory"]
        ),
    }
    print(f"{n} items ({args.photos} photos, {args.clips} speech clips, {args.texts} texts)")
    for name, figures in runs.items():
        print(
            f"{name}: {figures['seconds']:.1f} s, {figures['items_per_s']:.1f} items/s"
            + (f"  rows equal local: {figures['rows_equal_local']}" if name != "local" else "")
        )
    line = {
        "benchmark": "bench_batch",
        "items": n,
        "workload": {"photos": args.photos, "clips": args.clips, "texts": args.texts},
        "model": "cnn_lstm_fusion",
        "workers": args.workers,
        "local_items_per_s": runs["local"]["items_per_s"],
        "beam_items_per_s": runs["beam_multi_processing"]["items_per_s"],
        "runs": runs,
        "machine": machine_info(),
    }
    print(json.dumps(line))
    scratch.cleanup()
    return 0 if all(r.get("rows_equal_local", True) for r in runs.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
