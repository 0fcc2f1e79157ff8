"""Cross-modal alignment: the contrastive loss, its training wrapper and retrieval metrics."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from emozoo.evaluation.retrieval import RetrievalReport, retrieval_metrics
from emozoo.evaluation.zoo import report_stem
from emozoo.labels import EMOTIONS
from emozoo.models import MODALITIES, get_architecture, modality_token_encoder, projection_layers
from emozoo.training import train
from emozoo.training.alignment import SupervisedContrastiveAlignment, alignment_training_model
from emozoo.training.fusion import build_head
from tests.models.helpers import SMALL_CONFIGS


def _tokens(vectors: np.ndarray, present: np.ndarray) -> np.ndarray:
    """``(batch, modalities, dim + 1)``: normalised vectors with presence flags."""
    unit = vectors / np.linalg.norm(vectors, axis=-1, keepdims=True)
    return np.concatenate([unit, present[..., None]], axis=-1).astype(np.float32)


def _loss(labels, tokens) -> float:
    return float(SupervisedContrastiveAlignment(temperature=0.1)(labels, tokens))


def test_loss_is_low_when_modalities_agree_by_label():
    rng = np.random.default_rng(0)
    labels = np.arange(12) % 3
    centres = rng.normal(size=(3, 16))
    aligned = np.stack([centres[labels] + 0.01 * rng.normal(size=(12, 16)) for _ in MODALITIES], 1)
    scrambled = rng.normal(size=aligned.shape)
    present = np.ones((12, 3))
    assert _loss(labels, _tokens(aligned, present)) < 0.5 * _loss(
        labels, _tokens(scrambled, present)
    )


def test_loss_ignores_missing_modalities():
    rng = np.random.default_rng(1)
    labels = np.arange(8) % 2
    vectors = rng.normal(size=(8, 3, 8))
    present = np.ones((8, 3))
    present[:, 2] = 0.0  # audio missing everywhere: its tokens must not matter
    other = vectors.copy()
    other[:, 2] = rng.normal(size=(8, 8))
    assert _loss(labels, _tokens(vectors, present)) == pytest.approx(
        _loss(labels, _tokens(other, present)), rel=1e-5
    )
    nothing = np.zeros((8, 3))
    assert _loss(labels, _tokens(vectors, nothing)) == 0.0


def test_loss_round_trips_through_its_config():
    loss = SupervisedContrastiveAlignment(temperature=0.2)
    again = keras.losses.deserialize(keras.losses.serialize(loss))
    assert isinstance(again, SupervisedContrastiveAlignment) and again.temperature == 0.2


def _toy_pairs(n: int, dims: dict[str, int], seed: int = 0):
    """Embeddings whose class shows in every modality, with some modalities missing."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, len(EMOTIONS), n)
    inputs = {}
    for m in MODALITIES:
        centres = np.random.default_rng(len(m)).normal(size=(len(EMOTIONS), dims[m]))
        present = (rng.random(n) > 0.2).astype(np.float32)
        inputs[m] = (
            (centres[labels] + 0.5 * rng.normal(size=(n, dims[m]))) * present[:, None]
        ).astype(np.float32)
        inputs[f"{m}_present"] = present[:, None]
    return inputs, labels.astype(np.int32)


def _train_toy_head(tmp_path, inputs, labels, dims, alignment):
    keras.utils.set_random_seed(0)
    head = build_head("cnn_lstm_fusion", SMALL_CONFIGS["cnn_lstm_fusion"], dims, EMOTIONS)
    ds = tf.data.Dataset.from_tensor_slices((inputs, labels)).batch(64)
    before = [w.copy() for w in head.get_weights()]
    history = train(
        head,
        ds,
        ds,
        epochs=6,
        checkpoint_path=tmp_path / f"{bool(alignment)}.weights.h5",
        learning_rate=3e-3,
        alignment=alignment,
        verbose=0,
    )
    # A wrapper, if any, trained the head's own weights (shared, not copied).
    assert any(not np.array_equal(a, b) for a, b in zip(before, head.get_weights(), strict=True))
    projections = projection_layers(head)
    tokens = {m: np.asarray(projections[m](inputs[m])) for m in MODALITIES}
    both = (inputs["face_present"] * inputs["audio_present"]).ravel() > 0
    figures = retrieval_metrics(
        tokens["face"][both], labels[both], tokens["audio"][both], labels[both], k=10
    )
    return history, figures


def test_training_with_alignment_aligns_the_shared_space(tmp_path):
    dims = {"face": 12, "text": 10, "audio": 8}
    inputs, labels = _toy_pairs(512, dims)
    history, aligned = _train_toy_head(
        tmp_path, inputs, labels, dims, {"weight": 1.0, "temperature": 0.1}
    )
    assert history.history["alignment_loss"][-1] < history.history["alignment_loss"][0]
    assert max(history.history["val_accuracy"]) > 0.5
    _, plain = _train_toy_head(tmp_path, inputs, labels, dims, None)
    assert aligned["precision@10"] > 2 * aligned["chance_precision@10"]
    assert aligned["precision@10"] > plain["precision@10"] + 0.1


def test_alignment_needs_a_transformer_fusion_head():
    head = build_head(
        "concat_fusion", SMALL_CONFIGS["concat_fusion"], {m: 8 for m in MODALITIES}, EMOTIONS
    )
    with pytest.raises(ValueError, match="no Transformer fusion head"):
        alignment_training_model(head)


def test_modality_token_encoder_maps_raw_inputs_to_unit_tokens():
    fused = get_architecture("cnn_lstm_fusion")(**SMALL_CONFIGS["cnn_lstm_fusion"])
    encoder = modality_token_encoder(fused, "text")
    ids = np.random.default_rng(0).integers(1, 50, size=(3, *encoder.input_shape[1:]))
    tokens = encoder.predict(ids.astype(np.int32), verbose=0)
    np.testing.assert_allclose(np.linalg.norm(tokens, axis=-1), 1.0, rtol=1e-5)


def test_retrieval_metrics_against_chance():
    rng = np.random.default_rng(0)
    labels = np.arange(300) % 6
    centres = rng.normal(size=(6, 16))
    queries = centres[labels] + 0.1 * rng.normal(size=(300, 16))
    gallery = centres[labels] + 0.1 * rng.normal(size=(300, 16))
    perfect = retrieval_metrics(queries, labels, gallery, labels, k=10)
    assert perfect["precision@10"] == 1.0 and perfect["recall@10"] == 1.0
    assert perfect["chance_precision@10"] == pytest.approx(1 / 6, abs=0.03)
    noise = retrieval_metrics(rng.normal(size=(300, 16)), labels, gallery, labels, k=10)
    assert noise["precision@10"] == pytest.approx(1 / 6, abs=0.05)


def test_retrieval_metrics_reject_bad_inputs():
    x = np.ones((5, 4))
    with pytest.raises(ValueError, match="gallery size 5"):
        retrieval_metrics(x, np.zeros(5), x, np.zeros(5), k=10)
    with pytest.raises(ValueError, match="not in one space"):
        retrieval_metrics(x, np.zeros(5), np.ones((5, 3)), np.zeros(5), k=2)
    with pytest.raises(ValueError, match="one label"):
        retrieval_metrics(x, np.zeros(4), x, np.zeros(5), k=2)


def test_retrieval_report_saves_json_table_and_plot(tmp_path):
    rng = np.random.default_rng(0)
    labels = np.arange(60) % 3
    report = RetrievalReport.from_embeddings(
        "toy face->audio", rng.normal(size=(60, 4)), labels, rng.normal(size=(60, 4)), labels
    )
    paths = report.save(tmp_path, report_stem("retrieval/test:face->audio"))
    assert {p.name for p in paths.values()} == {
        "retrieval_test_face-_audio.json",
        "retrieval_test_face-_audio.txt",
        "retrieval_test_face-_audio_precision.png",
    }
    saved = json.loads(paths["json"].read_text())
    assert saved["metrics"]["queries"] == 60 and len(saved["precision_at_k"]) == 50
    assert "chance" in paths["table"].read_text()
