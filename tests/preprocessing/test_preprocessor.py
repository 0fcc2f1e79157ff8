"""The multimodal preprocessor: raw face crops, texts and waveforms into one model batch."""

from __future__ import annotations

import numpy as np
import pytest

import emozoo


def test_multimodal_presence_flags(fusion_pre):
    face = np.zeros((2, 48, 48), np.uint8)
    batch = fusion_pre(face=face, text=["ok", "fine"])
    assert batch["face_present"].tolist() == [[1.0], [1.0]]
    assert batch["text_present"].tolist() == [[1.0], [1.0]]
    assert batch["audio_present"].tolist() == [[0.0], [0.0]]
    assert batch["audio"].shape == (2, 48000) and not batch["audio"].any()
    only_audio = fusion_pre(audio=np.zeros(16000, np.float32), sample_rate=16000)
    assert only_audio["face_present"].item() == 0.0 and only_audio["audio_present"].item() == 1.0
    assert set(only_audio) == {
        "face",
        "text",
        "audio",
        "face_present",
        "text_present",
        "audio_present",
    }


def test_multimodal_errors(fusion_pre):
    with pytest.raises(ValueError, match="at least one"):
        fusion_pre()
    with pytest.raises(ValueError, match="different batch sizes"):
        fusion_pre(face=np.zeros((2, 48, 48), np.uint8), text="one")
    with pytest.raises(ValueError, match="takes face, not text"):
        emozoo.load_preprocessor("face_cnn")(text="hello")
    with pytest.raises(ValueError, match="embeddings"):
        emozoo.load_preprocessor("fusion_transformer")


def test_model_and_preprocessor_by_the_same_name_predict(fusion_pre):
    model = emozoo.load("cnn_lstm_fusion", weights=None)
    batch = fusion_pre(face=np.zeros((48, 48, 3), np.uint8), text="I can't believe this happened!")
    probabilities = model.predict(batch, verbose=0)
    assert probabilities.shape == (1, 7)
    decoded = fusion_pre.decode(probabilities, top_k=2)
    assert len(decoded[0]) == 2 and decoded[0][0][0] in emozoo.EMOTIONS
    with pytest.raises(ValueError, match="Expected 7"):
        fusion_pre.decode(np.ones((1, 3)))


def test_load_preprocessor_of_the_fused_card_takes_face_au_alone():
    pre = emozoo.load_preprocessor("au_whisper_fusion")
    batch = pre(face_au={"AU12_r": 2.0})
    assert batch["face_au"].shape == (1, 35)
    assert batch["face_au_present"].tolist() == [[1.0]] and batch["audio_present"].tolist() == [
        [0.0]
    ]
    with pytest.raises(ValueError, match="not face"):
        pre(face=np.zeros((48, 48), np.uint8))
