"""A model trained on the JAX backend exports: reloaded under TensorFlow in a
subprocess, its parity checked against the JAX model's own outputs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from emozoo.paths import PROJECT_ROOT

SCRIPT = textwrap.dedent(
    """
    import json, sys
    import keras, numpy as np
    assert keras.backend.backend() == "jax", keras.backend.backend()
    from emozoo.export import read_labels, to_saved_model, to_tflite
    from tests.export.helpers import samples_for, tiny_face

    out = sys.argv[1]
    model = tiny_face()
    model.compile("adam", "sparse_categorical_crossentropy")
    train = samples_for(model, 16, seed=5)
    model.fit(train.inputs, np.arange(16) % 7, epochs=2, verbose=0)
    parity = samples_for(model, 6)
    lite = to_tflite(model, out + "/face.tflite", parity_data=parity)
    saved = to_saved_model(model, out + "/face_sm", parity_data=parity)
    print(json.dumps({
        "backend": keras.backend.backend(),
        "lite": [lite.parity.passed, lite.parity.top1_agreement, lite.metadata["export"]["source"]],
        "saved": [saved.parity.passed, saved.parity.max_abs_diff],
        "labels": read_labels(out + "/face.tflite"),
    }))
    """
)


@pytest.mark.slow
def test_jax_trained_model_exports(tmp_path):
    env = {**os.environ, "KERAS_BACKEND": "jax", "PYTHONPATH": str(PROJECT_ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=900,
        env=env,
        cwd=PROJECT_ROOT,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["backend"] == "jax"
    passed, agreement, source = result["lite"]
    assert passed and agreement == 1.0 and "reloaded under TensorFlow" in source
    assert result["saved"][0] and result["saved"][1] < 1e-4
    assert len(result["labels"]) == 7
