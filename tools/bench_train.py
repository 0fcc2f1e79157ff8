"""Training throughput (samples/s) per model, with one and with two data-parallel replicas.

    python tools/bench_train.py [--models face_cnn text_bilstm ...] [--replicas 1 2]
                                [--backend tensorflow|jax] [--batch-size 32] [--steps 8]

Each (model, replicas) runs in a fresh process: ``emozoo.train.fit`` on synthetic
inputs (full-size registered architectures, random weights), ``freeze="none"``
unless the model name ends in ``:encoders`` (head only). Two replicas are
``MirroredStrategy`` over two logical CPUs on TensorFlow (``split_cpu``) or
``DataParallel`` over two XLA host devices on JAX; on a GPU machine, the GPUs. The
batch is global (each replica gets half). The first epoch (tracing) is not timed;
throughput is samples over the time of the remaining epochs' steps. Ends with one
JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

DEFAULT_MODELS = (
    "face_cnn",
    "text_bilstm",
    "audio_lstm",
    "cnn_lstm_fusion",
    "cnn_lstm_fusion:encoders",
)


def _synthetic(model, count: int, seed: int = 0) -> dict:
    import numpy as np

    rng = np.random.default_rng(seed)
    inputs = {}
    for tensor in model.inputs:
        shape = (count, *tensor.shape[1:])
        if tensor.name.endswith("_present"):
            inputs[tensor.name] = np.ones(shape, "float32")
        elif "int" in str(tensor.dtype):
            inputs[tensor.name] = rng.integers(1, 1000, size=shape).astype("int32")
        elif tensor.name == "face":
            inputs[tensor.name] = rng.uniform(0, 255, size=shape).astype("float32")
        else:
            inputs[tensor.name] = rng.normal(0, 0.1, size=shape).astype("float32")
    return inputs


def child(spec: str, replicas: int, batch_size: int, steps: int, epochs: int) -> dict:
    """One measurement, in this process (the parent starts one process per measurement)."""
    import keras

    from emozoo.training import distribution, fit, split_cpu

    backend = keras.backend.backend()
    if backend == "tensorflow" and replicas > 1:
        import tensorflow as tf

        if not tf.config.list_physical_devices("GPU"):
            split_cpu(replicas)
    kind = "none" if replicas == 1 else ("mirrored" if backend == "tensorflow" else "data_parallel")
    dist = distribution(kind)
    if dist.num_replicas != replicas:
        raise RuntimeError(f"asked for {replicas} replicas, got {dist.num_replicas}")

    import numpy as np
    import tensorflow as tf

    import emozoo

    name, _, freeze = spec.partition(":")
    keras.utils.set_random_seed(0)
    model = emozoo.load(name, weights=None, labels=["calm", "happy", "sad", "angry"])
    x = _synthetic(model, batch_size * steps)
    y = (np.arange(batch_size * steps) % 4).astype("int32")
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(batch_size).cache()

    class Timer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.seconds: list[float] = []

        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            if batch == steps - 1:
                self.seconds.append(time.perf_counter() - self.start)

    timer = Timer()
    fit(
        model,
        ds,
        epochs=epochs,
        freeze=freeze or "none",
        strategy=dist,
        confusion_matrices=False,
        callbacks=[timer],
        verbose=0,
        mixed_precision="auto",
    )
    timed = timer.seconds[1:]
    return {
        "model": spec,
        "replicas": replicas,
        "backend": backend,
        "params": int(model.count_params()),
        "samples_per_s": round(batch_size * steps * len(timed) / sum(timed), 1),
        "epoch_seconds": [round(s, 2) for s in timer.seconds],
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(DEFAULT_MODELS))
    parser.add_argument("--replicas", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--backend", choices=["tensorflow", "jax"], default="tensorflow")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=8, help="steps per epoch")
    parser.add_argument("--epochs", type=int, default=3, help="epochs (the first is not timed)")
    parser.add_argument("--child", nargs=2, metavar=("MODEL", "REPLICAS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.epochs < 2:
        parser.error("--epochs must be at least 2 (the first one is not timed)")

    if args.child:
        result = child(args.child[0], int(args.child[1]), args.batch_size, args.steps, args.epochs)
        print("RESULT " + json.dumps(result))
        return 0

    results = []
    for spec in args.models:
        for replicas in args.replicas:
            env = dict(os.environ, KERAS_BACKEND=args.backend)
            if args.backend == "jax" and replicas > 1:
                env["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={replicas}"
            command = [sys.executable, __file__, "--child", spec, str(replicas)]
            command += ["--batch-size", str(args.batch_size), "--steps", str(args.steps)]
            command += ["--epochs", str(args.epochs)]
            process = subprocess.run(command, env=env, capture_output=True, text=True)
            lines = [x for x in process.stdout.splitlines() if x.startswith("RESULT ")]
            if process.returncode != 0 or not lines:
                print(process.stderr[-3000:], file=sys.stderr)
                raise SystemExit(f"{spec} with {replicas} replica(s) failed")
            result = json.loads(lines[-1].removeprefix("RESULT "))
            results.append(result)
            print(
                f"{spec:<26} replicas {replicas}  {result['samples_per_s']:>8.1f} samples/s  "
                f"(epochs {result['epoch_seconds']} s)",
                flush=True,
            )

    summary: dict[str, dict] = {}
    for result in results:
        row = summary.setdefault(result["model"], {"params": result["params"]})
        row[f"replicas_{result['replicas']}"] = result["samples_per_s"]
    for row in summary.values():
        if "replicas_1" in row and "replicas_2" in row:
            row["scaling_1_to_2"] = round(row["replicas_2"] / row["replicas_1"], 2)
    print(
        json.dumps(
            {
                "backend": args.backend,
                "cpu_cores": os.cpu_count(),
                "batch_size": args.batch_size,
                "steps_per_epoch": args.steps,
                "samples_per_s": summary,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
