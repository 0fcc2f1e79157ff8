"""EmotionRecognizer on raw inputs, including every kind of bad input."""

from __future__ import annotations

import numpy as np
import pytest

import emozoo
from emozoo.inference import EmotionRecognizer, MediaError, plot_prediction, save_saliency
from emozoo.inference.demo import load_samples, sample_path
from emozoo.inference.engine import ModelRunner

TEXT = "We made it! The launch went perfectly and I have never felt so proud."


def test_top_level_export_is_lazy():
    import subprocess
    import sys

    code = "import sys, emozoo; emozoo.EmotionRecognizer; print('keras' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr
    assert emozoo.EmotionRecognizer is EmotionRecognizer


def test_split_model_matches_the_whole_model(keras_rec):
    runner: ModelRunner = keras_rec.runner
    assert runner.split
    rng = np.random.default_rng(0)
    raw = {
        "face": rng.integers(0, 255, (3, 48, 48), dtype=np.uint8),
        "text": ["so happy", "this is awful", "wait what"],
        "audio": rng.normal(0, 0.1, (3, 48000)).astype(np.float32),
    }
    for subset in (("face",), ("text", "audio"), ("face", "text", "audio")):
        inputs = runner.preprocessor(**{m: raw[m] for m in subset})
        whole = np.asarray(runner.model.predict_on_batch(inputs))
        parts = runner.classify({m: runner.encode(m, inputs[m]) for m in subset})
        np.testing.assert_allclose(parts, whole, atol=1e-5)


def test_predict_all_three(rec, astronaut):
    result = rec.predict(image=astronaut, text=TEXT, audio=sample_path("happy.wav"))
    assert result.modalities_used == ["face", "text", "audio"] and not result.not_used
    assert set(result.probabilities) == set(emozoo.EMOTIONS)
    assert sum(result.probabilities.values()) == pytest.approx(1.0, abs=1e-4)
    assert result.top == max(result.probabilities, key=result.probabilities.get)
    assert set(result.contributions) == set(result.by_modality) == {"face", "text", "audio"}
    assert result.by_modality["face"]["happy"] > 0.5  # a smiling astronaut
    assert result.by_modality["text"]["happy"] > 0.5
    (face,) = result.faces
    assert face.probabilities == result.probabilities and len(face.box) == 4
    assert result.sources["audio_windows"] == 2  # 4.5 s: two 3 s windows
    data = result.to_dict()
    assert {"top", "probabilities", "modalities_used", "faces"} <= set(data)
    assert data["faces"][0]["box"] == list(face.box)


def test_contributions_are_leave_one_out(rec):
    result = rec.predict(text=TEXT, audio=sample_path("happy.wav"))
    top = result.top
    without_audio = rec.predict(text=TEXT).probabilities[top]
    assert result.contributions["audio"] == pytest.approx(
        result.probabilities[top] - without_audio, abs=1e-5
    )
    alone = rec.predict(text=TEXT, contributions=False)
    assert alone.contributions == {} and alone.by_modality == {}


def test_one_result_per_face(rec, media):
    result = rec.predict(image=media["group"], text="What a wonderful day")
    assert len(result.faces) == 2
    assert result.probabilities == result.faces[0].probabilities  # the largest face
    boxes = [f.box for f in result.faces]
    assert boxes[0][0] != boxes[1][0]
    assert result.faces[0].box[2] * result.faces[0].box[3] >= boxes[1][2] * boxes[1][3]


def test_no_face_is_reported_not_used(rec, media):
    alone = rec.predict(image=media["no_face"])
    assert not alone.ok and alone.top is None and alone.modalities_used == []
    assert "no face found" in alone.not_used["face"]
    with_text = rec.predict(image=media["no_face"], text="I am thrilled")
    assert with_text.ok and with_text.modalities_used == ["text"] and with_text.faces == []
    assert "face" in with_text.not_used


def test_crops_without_detection(rec, media):
    result = rec.predict(image=media["crop"], detect_faces=False)
    assert result.modalities_used == ["face"]
    assert result.faces[0].box == (0, 0, 95, 95)
    assert result.top == "happy"


def test_empty_text_and_silent_audio_are_not_used(rec, media):
    result = rec.predict(text="   ", audio=media["silent"])
    assert not result.ok
    assert result.not_used["text"] == "empty text"
    assert result.not_used["audio"].startswith("silent")
    partial = rec.predict(text="I miss her so much", audio=media["silent"])
    assert partial.modalities_used == ["text"] and "audio" in partial.not_used


def test_long_inputs(rec, media):
    with pytest.warns(UserWarning, match="truncated to its first 64"):
        result = rec.predict(text="this is a very long story " * 40)
    assert any("truncated" in w for w in result.warnings)
    long = rec.predict(audio=media["long"])
    assert long.sources["audio_windows"] == 4 and long.sources["audio_seconds"] == 10.5
    assert rec.predict(audio=media["stereo_44k"]).ok
    assert rec.predict(audio=media["ogg"]).ok


def test_bad_inputs_are_clear_errors(rec, media, tmp_path):
    with pytest.raises(ValueError, match="at least one"):
        rec.predict()
    with pytest.raises(FileNotFoundError, match="missing.jpg"):
        rec.predict(image=tmp_path / "missing.jpg")
    with pytest.raises(MediaError, match="corrupt.jpg"):
        rec.predict(image=media["corrupt_image"], text="hello")
    with pytest.raises(MediaError, match="corrupt.wav"):
        rec.predict(audio=media["corrupt_audio"])
    with pytest.raises(TypeError, match="string"):
        rec.predict(text=42)
    with pytest.raises(ValueError, match="max_faces"):
        EmotionRecognizer(max_faces=0)
    with pytest.raises(ValueError, match="audio_hop_s"):
        EmotionRecognizer(audio_hop_s=0)
    with pytest.raises(emozoo.UnknownModelError, match="cnn_lstm_fusion"):
        EmotionRecognizer("cnn_lstm_fusio")


def test_predict_batch_matches_predict(rec):
    texts = ["I love this so much", "This makes me furious", "I am scared of the dark"]
    batch = rec.predict_batch(texts=texts)
    for text, result in zip(texts, batch, strict=True):
        single = rec.predict(text=text).probabilities
        for label, p in result.probabilities.items():
            assert p == pytest.approx(single[label], abs=1e-5)
    mixed = rec.predict_batch(
        images=[sample_path("astronaut.jpg"), None],
        texts=[None, "so sad"],
        audios=[None, sample_path("sad.wav")],
    )
    assert [r.modalities_used for r in mixed] == [["face"], ["text", "audio"]]


def test_predict_batch_errors(rec, tmp_path):
    with pytest.raises(ValueError, match="same length"):
        rec.predict_batch(texts=["a"], audios=[None, None])
    with pytest.raises(TypeError, match="list"):
        rec.predict_batch(texts="a single string")
    with pytest.raises(ValueError, match="at least one"):
        rec.predict_batch()
    with pytest.raises(FileNotFoundError, match="item 1"):
        rec.predict_batch(images=[sample_path("astronaut.jpg"), tmp_path / "gone.png"])
    skipped = rec.predict_batch(
        texts=["fine", "also fine"], audios=[None, tmp_path / "gone.wav"], on_error="skip"
    )
    assert skipped[1].modalities_used == ["text"] and "gone.wav" in skipped[1].not_used["audio"]
    assert rec.predict_batch(texts=[]) == []


def test_saliency_and_plots(rec, astronaut, tmp_path):
    result = rec.predict(image=astronaut, text=TEXT, saliency=True)
    face = result.faces[0]
    assert face.saliency.shape == (48, 48) and face.saliency_label == "happy"
    assert face.saliency.min() >= 0.0 and face.saliency.max() == pytest.approx(1.0)
    # The smile: the lower half of the face matters more than the upper half.
    assert face.saliency[24:].mean() > face.saliency[:24].mean()
    assert save_saliency(result, tmp_path / "s.png").stat().st_size > 1000
    plot_prediction(result, image=astronaut, path=tmp_path / "p.png")
    assert (tmp_path / "p.png").stat().st_size > 1000
    with pytest.raises(ValueError, match="saliency=True"):
        save_saliency(rec.predict(text=TEXT), tmp_path / "none.png")


def test_unimodal_model():
    text_only = EmotionRecognizer("text_bilstm")
    # A parts build: its text encoder file, then its head.
    assert text_only.modalities == ("text",) and text_only.runner.split
    result = text_only.predict(text="I am so happy today")
    assert result.top == "happy" and result.modalities_used == ["text"]
    with pytest.raises(ValueError, match="cannot use image"):
        text_only.predict(image=sample_path("astronaut.jpg"))


def test_bundled_samples_are_small_and_documented():
    samples = load_samples()
    assert [s["name"] for s in samples] == ["happy", "angry", "sad"]
    folder = sample_path("astronaut.jpg").parent
    assert sum(p.stat().st_size for p in folder.iterdir()) < 1_000_000
    readme = (folder / "README.md").read_text()
    assert "public domain" in readme and "espeak-ng" in readme
    import soundfile as sf

    for sample in samples:
        info = sf.info(sample["audio"])
        assert info.samplerate == 16000 and info.channels == 1 and info.duration < 8
