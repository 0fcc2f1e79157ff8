"""A training process for the distribution and resumption tests (run as a module).

    python -m tests.training.worker OUT [--strategy mirrored] [--cpu-replicas 2] ...

Trains a tiny face model on synthetic data with :func:`emozoo.training.fit` (log folder
``OUT/run``) and writes ``OUT/result-<worker>.json`` (summary, optimizer steps) and
``OUT/weights-<worker>.npz``. Faces of class ``c`` are brighter with ``c``, so the
model can learn them in a few steps.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path


def synthetic_faces(count: int, classes: int, size: int, seed: int):
    import numpy as np

    rng = np.random.default_rng(seed)
    labels = np.arange(count) % classes
    base = 40.0 + 170.0 * labels / (classes - 1)
    faces = base[:, None, None, None] + rng.normal(0, 20, (count, size, size, 1))
    return {"face": np.clip(faces, 0, 255).astype("float32")}, labels.astype("int32")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--strategy", default="none")
    parser.add_argument("--cpu-replicas", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--samples", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--freeze", default="none")
    parser.add_argument("--slow", type=float, default=0.0, help="seconds to sleep after each epoch")
    args = parser.parse_args(argv)

    from emozoo.training import distribution, fit, split_cpu

    if args.cpu_replicas:
        split_cpu(args.cpu_replicas)
    # A multi-worker strategy must exist before TensorFlow runs anything.
    dist = distribution(args.strategy)

    import keras
    import numpy as np
    import tensorflow as tf

    from emozoo.models import get_architecture
    from tests.models.helpers import SMALL_FACE

    labels = ["calm", "happy", "sad", "angry"]
    keras.utils.set_random_seed(0)
    model = get_architecture("face_cnn")(labels=labels, **SMALL_FACE)
    x, y = synthetic_faces(args.samples, len(labels), SMALL_FACE["image_size"], seed=0)
    train = tf.data.Dataset.from_tensor_slices((x, y)).batch(args.batch_size)
    vx, vy = synthetic_faces(32, len(labels), SMALL_FACE["image_size"], seed=1)
    val = tf.data.Dataset.from_tensor_slices((vx, vy)).batch(args.batch_size)

    steps = {}

    class Record(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            steps["iterations"] = int(self.model.optimizer.iterations.numpy())
            if args.slow:
                time.sleep(args.slow)

    history = fit(
        model,
        train,
        val,
        epochs=args.epochs,
        freeze=args.freeze,
        learning_rate=3e-3,
        warmup_epochs=0,
        strategy=dist,
        log_dir=args.out / "run",
        callbacks=[Record()],
        seed=0,
        verbose=0,
    )
    worker = dist.worker_index
    args.out.mkdir(parents=True, exist_ok=True)
    np.savez(args.out / f"weights-{worker}.npz", *model.get_weights())
    result = {
        "summary": history.summary,
        "history": history.history,
        "iterations": steps.get("iterations"),
        "is_chief": dist.is_chief,
        "backend": keras.backend.backend(),
        "pid": os.getpid(),
    }
    (args.out / f"result-{worker}.json").write_text(json.dumps(result, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
