"""Throughput of the augmented tf.data training pipelines vs. the models' training steps.

For each modality it builds the training pipeline on real data (FER2013 Training,
CARER train, RAVDESS train), reads one epoch to fill the cache (the decode rate),
then times augmented batches; for comparison it times the registered model's
training step on the same batches. Goal: the pipeline is never the bottleneck
(at least 5,000 augmented face images/s and 500 augmented audio clips/s here).

    python tools/bench_pipeline.py [--batches 40] [--batch-size 128]

Ends with one JSON line of the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

SETUPS = {
    "face": ("face_cnn", "fer2013", "Training"),
    "text": ("text_bilstm", "carer_emotion", "train"),
    "audio": ("audio_lstm", "ravdess_speech", "train"),
}


def samples_per_second(iterator, batches: int) -> float:
    start, count = time.perf_counter(), 0
    for _ in range(batches):
        _, labels = next(iterator)
        count += int(labels.shape[0])
    return count / (time.perf_counter() - start)


def bench_modality(modality: str, batches: int, batch_size: int, train_batches: int) -> dict:
    import keras

    import emozoo
    from emozoo.data import load_source, make_dataset

    model_name, source, split = SETUPS[modality]
    records = load_source(source, split)
    preprocessor = emozoo.load_preprocessor(model_name)
    ds = make_dataset(records, preprocessor, batch_size=batch_size, augment=True, seed=0)

    start = time.perf_counter()
    first_epoch = sum(int(y.shape[0]) for _, y in ds)
    decode_rate = first_epoch / (time.perf_counter() - start)
    iterator = iter(ds.repeat())
    next(iterator)
    pipeline_rate = samples_per_second(iterator, batches)

    model = emozoo.load(model_name, weights=None)
    model.compile(optimizer=keras.optimizers.AdamW(1e-3), loss="sparse_categorical_crossentropy")
    inputs, labels = next(iterator)
    model.train_on_batch(inputs, labels)  # compile
    start = time.perf_counter()
    for _ in range(train_batches):
        model.train_on_batch(inputs, labels)
    train_rate = train_batches * int(labels.shape[0]) / (time.perf_counter() - start)
    result = {
        "samples": len(records),
        "first_epoch_per_s": round(decode_rate, 1),
        "augmented_per_s": round(pipeline_rate, 1),
        "train_step_per_s": round(train_rate, 1),
        "pipeline_over_train": round(pipeline_rate / train_rate, 1),
    }
    print(
        f"{modality:<6} {records.name}/{records.split} n={len(records):>6}  first epoch {decode_rate:>9.0f}/s  "
        f"augmented {pipeline_rate:>9.0f}/s  {model_name} train step {train_rate:>7.0f}/s  "
        f"(pipeline {result['pipeline_over_train']}x faster)"
    )
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--batches", type=int, default=40, help="augmented batches timed per modality"
    )
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument(
        "--train-batches", type=int, default=5, help="training steps timed per model"
    )
    parser.add_argument("--modalities", nargs="+", default=list(SETUPS), choices=list(SETUPS))
    args = parser.parse_args(argv)
    import keras

    print(
        f"keras {keras.__version__} on {keras.backend.backend()}, {os.cpu_count()} CPU cores, batch {args.batch_size}"
    )
    results = {
        m: bench_modality(m, args.batches, args.batch_size, args.train_batches)
        for m in args.modalities
    }
    figures = {
        "batch_size": args.batch_size,
        "backend": keras.backend.backend(),
        "cpu_count": os.cpu_count(),
    }
    names = {"face": "face_img_per_s", "audio": "audio_clips_per_s", "text": "text_samples_per_s"}
    for modality, result in results.items():
        figures[names[modality]] = result["augmented_per_s"]
        figures[f"{modality}_first_epoch_per_s"] = result["first_epoch_per_s"]
        figures[f"{modality}_train_step_per_s"] = result["train_step_per_s"]
    goals = {"face_img_per_s": 5000, "audio_clips_per_s": 500}
    figures["goals_met"] = all(figures.get(k, v) >= v for k, v in goals.items())
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
