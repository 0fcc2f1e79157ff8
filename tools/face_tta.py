"""Choose a face model's test-time views on FER2013 PublicTest (never on PrivateTest).

    python tools/face_tta.py face_vgg [--shifts 0 1 2 3]

Builds the registered model with and without its built-in horizontal-flip averaging and
with ``shift_views`` of each given size (the crop and its shifts by that many pixels
left, right, up and down, each with its mirror: 10 views), loads the shipped weights
(the views share them), and prints PublicTest accuracy and the time per face on one
thread. The card's ``config`` then names the choice; ``tools/evaluate.py NAME --write``
reports PrivateTest for it. Ends with one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name")
    parser.add_argument("--shifts", type=int, nargs="+", default=[0, 1, 2, 3])
    args = parser.parse_args(argv)

    import dataclasses

    import emozoo
    from emozoo.data import load_source
    from emozoo.registry import build_model, get_entry, verify_weights

    entry = get_entry(args.name)
    weights = verify_weights(entry.weights)
    records = load_source("fer2013", "PublicTest")
    faces = emozoo.load_preprocessor(args.name)(face=records.items)["face"]
    options = [("no averaging", {"flip_average": False, "shift_views": 0})]
    options += [
        (f"flip, shifts {s} px" if s else "flip", {"flip_average": True, "shift_views": s})
        for s in args.shifts
    ]
    results = {}
    for label, config in options:
        variant = dataclasses.replace(entry, config={**entry.config, **config})
        model = build_model(variant)
        model.load_weights(weights)
        predicted = model.predict({"face": faces}, batch_size=256, verbose=0).argmax(-1)
        start = time.perf_counter()
        model.predict({"face": faces[:64]}, batch_size=1, verbose=0)
        ms = 1000 * (time.perf_counter() - start) / 64
        accuracy = float((predicted == records.labels).mean())
        results[label] = {"public_test_accuracy": accuracy, "ms_per_face_keras_batch1": ms}
        print(f"{label:20s} PublicTest {accuracy:.2%}   {ms:.1f} ms per face (Keras, batch 1)")
    print(json.dumps({"model": args.name, "faces": len(records), "results": results}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
