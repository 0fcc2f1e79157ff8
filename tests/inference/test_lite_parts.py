"""LiteRT parts builds: one file per encoder (shared between models), one for the head."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from emozoo.inference.lite_parts import LitePartsRunner, is_parts_build
from emozoo.paths import WEIGHTS_DIR
from emozoo.registry import get_entry, list_models, pinned_name
from emozoo.registry.weights import WeightsError, sha256_file

FUSED = "vgg_minilm_whisper_fusion"


def parts_models() -> list[str]:
    # Kept versions too: their part records must still name the weights they were built from.
    return [name for name in list_models(versions=True) if is_parts_build(name)]


def test_the_most_accurate_model_and_its_encoders_have_parts_builds():
    assert {FUSED, "face_vgg", "text_minilm", "audio_whisper"} <= set(parts_models())


def test_every_part_file_matches_its_card():
    for name in parts_models():
        lite = get_entry(name).lite
        for part in [*lite["parts"].values(), lite["head"]]:
            path = WEIGHTS_DIR / part["file"]
            assert path.is_file(), f"{name}: {path} is missing"
            assert sha256_file(path) == part["sha256"], f"{name}: {path} differs from its card"
            owner = get_entry(part["model"])
            assert owner.weights.sha256 == part["weights_sha256"], f"{name}: stale {path}"
            # A later default version must not make the record name other weights.
            assert part["model"] == pinned_name(part["model"]), f"{name}: {part['model']}"


def test_the_fused_model_shares_its_encoders_files():
    lite = get_entry(FUSED).lite
    for modality, owner in {
        "face": "face_vgg",
        "text": "text_minilm",
        "audio": "audio_whisper",
    }.items():
        assert lite["parts"][modality] == get_entry(owner).lite["parts"][modality]


def test_the_default_model_runs_the_students_own_encoder_files():
    entry = get_entry("cnn_lstm_fusion")
    for modality, student in entry.encoders.items():
        assert student.endswith("_distilled"), student
        assert entry.lite["parts"][modality] == get_entry(student).lite["parts"][modality]


def test_text_alone_opens_only_the_text_encoder_and_the_head():
    runner = LitePartsRunner(FUSED)
    embedding = runner.encode("text", runner.preprocessor.text(["I am so happy"]))
    probabilities = runner.classify({"text": embedding})
    assert probabilities.shape == (1, 7)
    assert np.isclose(probabilities.sum(), 1.0, atol=1e-4)
    assert sorted(runner._paths) == ["head", "text"]


def test_absent_modalities_do_not_change_the_answer_of_one():
    """Absent modalities (left out or given as None) get zeros and presence 0 alike."""
    runner = LitePartsRunner(FUSED)
    embedding = runner.encode("text", runner.preprocessor.text(["What a terrible day"]))
    alone = runner.classify({"text": embedding})
    with_nones = runner.classify({"text": embedding, "face": None, "audio": None})
    np.testing.assert_array_equal(alone, with_nones)


def test_a_part_built_from_other_weights_is_refused(monkeypatch):
    entry = get_entry(FUSED)
    lite = json.loads(json.dumps(entry.lite))
    lite["parts"]["text"]["weights_sha256"] = "0" * 64
    monkeypatch.setattr(entry, "lite", lite)
    runner = LitePartsRunner(FUSED)  # the head is fine
    with pytest.raises(WeightsError, match="other text_minilm weights"):
        runner.encode("text", runner.preprocessor.text(["hello"]))


def test_the_fused_model_predicts_without_tensorflow_or_keras():
    code = (
        "import sys, json\n"
        "from emozoo import EmotionRecognizer\n"
        f"rec = EmotionRecognizer({FUSED!r})\n"
        "p = rec.predict(text='I am so happy', audio='emozoo/assets/samples/happy.wav')\n"
        "print(json.dumps({'runner': type(rec.runner).__name__, 'used': p.modalities_used,"
        " 'tf': 'tensorflow' in sys.modules, 'keras': 'keras' in sys.modules}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {
        "runner": "LitePartsRunner",
        "used": ["text", "audio"],
        "tf": False,
        "keras": False,
    }


def test_parts_match_keras_on_text():
    from emozoo import EmotionRecognizer

    texts = ["I am so happy today", "This is disgusting", "Why would you do that to me?"]
    lite = EmotionRecognizer("text_minilm")
    keras_rec = EmotionRecognizer("text_minilm", backend="keras")
    assert type(lite.runner).__name__ == "LitePartsRunner"
    for text in texts:
        a = lite.predict(text=text).probabilities
        b = keras_rec.predict(text=text).probabilities
        assert a.keys() == b.keys()
        assert max(abs(a[k] - b[k]) for k in a) < 0.15  # int8 dynamic-range weights
        assert max(a, key=a.get) == max(b, key=b.get)


#: Text models whose LiteRT text encoder runs each text at a length near its own.
FREE_LENGTH_TEXT = ["text_bilstm_distilled", "text_minilm", "cnn_lstm_fusion"]


@pytest.mark.parametrize("name", FREE_LENGTH_TEXT)
def test_the_text_encoder_file_takes_any_length(name):
    from ai_edge_litert.interpreter import Interpreter

    part = get_entry(name).lite["parts"]["text"]
    (detail,) = Interpreter(model_path=str(WEIGHTS_DIR / part["file"])).get_input_details()
    assert list(detail["shape_signature"]) == [1, -1]


def test_texts_run_at_the_shortest_length_that_holds_them_with_the_keras_embedding():
    """A short text runs at 8 positions and a long one at the full 64, each with the
    embedding of the Keras encoder over the whole padded input."""
    import emozoo
    from emozoo.export.lite_parts import unimodal_parts

    name = "text_bilstm_distilled"
    runner = LitePartsRunner(name)
    texts = ["I am so happy", " ".join(["what a long and winding road it was"] * 8)]
    ids = runner.preprocessor.text(texts)
    assert [runner.preprocessor.text.used_length(row) for row in ids][1] == 64
    lite = runner.encode("text", ids)
    encoder, _ = unimodal_parts(emozoo.load(name), "text")
    np.testing.assert_allclose(lite, encoder.predict(ids, verbose=0), atol=1e-5)
    lengths = {length for part, length in runner._per_thread.signatures if part == "text"}
    assert {8, 64} <= lengths


#: Face models whose shipped LiteRT face encoder is int8 (weights and activations).
INT8_FACE = ["face_vgg", "face_vgg_distilled"]


@pytest.mark.parametrize("name", INT8_FACE)
def test_the_int8_face_encoder_gives_the_keras_answers_on_real_faces(name, data_root):
    """On real test faces an int8 face encoder file must give the float Keras model's
    class nearly always."""
    import emozoo
    from emozoo.export import real_samples
    from emozoo.export.flatbuffer import float_operator_counts

    part = get_entry(name).lite["parts"]["face"]
    assert part["quantize"] == "int8"
    assert "CONV_2D" not in float_operator_counts(WEIGHTS_DIR / part["file"])
    faces = real_samples(name, "test", n=300, seed=3, root=data_root).inputs["face"]
    lite = LitePartsRunner(name)
    got = lite.classify({"face": lite.encode("face", faces)})
    expected = emozoo.load(name).predict(faces, verbose=0, batch_size=64)
    agreement = float(np.mean(got.argmax(1) == expected.argmax(1)))
    assert agreement >= 0.97, agreement
    assert np.abs(got - expected).max() < 0.3
