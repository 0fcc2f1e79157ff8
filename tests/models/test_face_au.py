"""The facial action-unit models: the AU encoder and fusion over a chosen modality set."""

from __future__ import annotations

import numpy as np


def test_face_au_model_reads_nan_as_the_training_mean():
    from emozoo.models import build_face_au, set_au_statistics

    model = build_face_au(num_classes=3, hidden_units=(8,), embedding_dim=4)
    set_au_statistics(model, np.full(35, 2.0), np.full(35, 0.5))
    means = np.full((1, 35), 2.0, np.float32)
    unknown = np.full((1, 35), np.nan, np.float32)
    np.testing.assert_allclose(
        model.predict({"face_au": means}, verbose=0), model.predict({"face_au": unknown}, verbose=0)
    )


def test_fusion_builder_takes_its_modality_set():
    from emozoo.models import build_cnn_lstm_fusion, build_fusion_transformer
    from emozoo.models.fusion.compose import identity_encoders

    default = build_fusion_transformer(embedding_dims={"face": 4, "text": 4, "audio": 4})
    assert {t.name for t in default.inputs} == {
        "face_embedding", "text_embedding", "audio_embedding",
        "face_present", "text_present", "audio_present",
    }  # fmt: skip
    pair = build_cnn_lstm_fusion(
        num_classes=3,
        modalities=("face_au", "audio"),
        encoder_models=identity_encoders({"face_au": 5, "audio": 6}),
        fusion={"model_dim": 8, "num_layers": 1, "num_heads": 2, "intermediate_dim": 8},
    )
    assert {t.name for t in pair.inputs} == {"face_au", "audio", "face_au_present", "audio_present"}
