"""Fused models trained as a head over embeddings, then assembled with their encoders."""

from __future__ import annotations

import numpy as np
import pytest

import emozoo
from emozoo.data import Records
from emozoo.data.pairs import PairList
from emozoo.labels import EMOTIONS
from emozoo.models import MODALITIES, get_architecture
from emozoo.training.fusion import assemble, build_head, pair_arrays, pair_embedding_dataset
from tests.models.helpers import SMALL_CONFIGS, random_inputs


@pytest.mark.parametrize("architecture", ["cnn_lstm_fusion", "late_fusion", "concat_fusion"])
def test_assembled_model_equals_head_over_encoder_embeddings(architecture):
    kwargs = SMALL_CONFIGS[architecture]
    full = get_architecture(architecture)(**kwargs)
    encoders = {
        m: get_architecture(name)(include_top=False, name=f"{m}_encoder", **SMALL_CONFIGS[name])
        for m, name in (("face", "face_cnn"), ("text", "text_bilstm"), ("audio", "audio_lstm"))
    }
    dims = {m: int(e.output_shape[-1]) for m, e in encoders.items()}
    head = build_head(architecture, kwargs, dims, EMOTIONS)
    assert head.count_params() < full.count_params()
    assemble(full, head, encoders)

    inputs = random_inputs(full, batch=4, present={"text": 0.0})
    embeddings = {m: np.asarray(encoders[m].predict({m: inputs[m]}, verbose=0)) for m in MODALITIES}
    head_inputs = {**embeddings, **{k: v for k, v in inputs.items() if k.endswith("_present")}}
    np.testing.assert_allclose(
        full.predict(inputs, verbose=0), head.predict(head_inputs, verbose=0), atol=1e-5
    )


def test_assemble_refuses_a_mismatched_head():
    full = get_architecture("concat_fusion")(**SMALL_CONFIGS["concat_fusion"])
    encoders = {m: None for m in MODALITIES}
    other = build_head(
        "late_fusion", SMALL_CONFIGS["late_fusion"], {"face": 32, "text": 16, "audio": 8}, EMOTIONS
    )
    with pytest.raises(ValueError, match="did not fit"):
        assemble(full, other, encoders)


def test_pair_arrays_zero_missing_embeddings():
    pairs = PairList(
        np.array([0, -1]), np.array([1, 1]), np.array([-1, 0]), np.array([3, 4]), EMOTIONS
    )
    banks = {m: np.arange(6, dtype=np.float32).reshape(2, 3) + 1 for m in MODALITIES}
    arrays = pair_arrays(pairs, banks)
    assert arrays["face"].tolist() == [[1, 2, 3], [0, 0, 0]]
    assert arrays["audio_present"].ravel().tolist() == [0.0, 1.0]
    assert arrays["text"].tolist() == [[4, 5, 6], [4, 5, 6]]


def test_pair_embedding_dataset_draws_augmented_copies():
    pairs = PairList(
        np.array([0, 1, -1, 1] * 8),
        np.array([1, 0, 0, -1] * 8),
        np.array([0, -1, 0, 0] * 8),
        np.arange(32) % 7,
        EMOTIONS,
    )
    # Copy c of item i of every modality is the constant 10 * c + i + 1.
    banks = {
        m: (10 * np.arange(3)[:, None, None] + np.arange(2)[None, :, None] + 1) * np.ones((3, 2, 4))
        for m in MODALITIES
    }

    def batches(seed):
        ds = pair_embedding_dataset(pairs, banks, batch_size=8, shuffle=False, seed=seed)
        return [(x, y) for x, y in ds.as_numpy_iterator()]

    first, again, other = batches(0), batches(0), batches(1)
    seen_copies = set()
    for (x, y), (x2, _) in zip(first, again, strict=True):
        for m in MODALITIES:
            np.testing.assert_array_equal(x[m], x2[m])  # same seed, same draws
            index = getattr(pairs, m)[: len(y)]
            values = x[m][:, 0]
            assert np.all(values[index < 0] == 0) and np.all(x[m][index < 0] == 0)
            present = index >= 0
            copies, items = np.divmod(values[present] - 1, 10)
            np.testing.assert_array_equal(items, index[present])
            seen_copies.update(copies.astype(int).tolist())
            np.testing.assert_array_equal(x[f"{m}_present"].ravel(), present.astype(np.float32))
    assert seen_copies == {0, 1, 2}
    assert any(
        not np.array_equal(a[0][m], b[0][m])
        for a, b in zip(first, other, strict=True)
        for m in MODALITIES
    )


def test_a_head_over_registered_encoders_loads_as_the_full_model(tmp_path):
    """Weights holding the fusion head alone, the encoders taken from their registered
    models: the same model, with nothing shipped twice."""
    import emozoo
    from emozoo.models.fusion.compose import split_fused
    from emozoo.registry import builder_kwargs, get_entry, model_info
    from emozoo.training import save_inference_weights

    entry = get_entry("cnn_lstm_fusion")
    full = emozoo.load("cnn_lstm_fusion")
    _, head = split_fused(full, entry.architecture, builder_kwargs(entry), entry.labels)
    path = save_inference_weights(head, tmp_path / "head.weights.h5")
    # The shipped cnn_lstm_fusion's encoders are these models' weights, frozen.
    encoders = dict(entry.weights.encoders)
    assert sorted(encoders) == ["audio", "face", "text"]
    emozoo.register_model(
        "composed_fusion", base="cnn_lstm_fusion", weights=path, encoders=encoders, persist=False
    )
    try:
        composed = emozoo.load("composed_fusion")
        inputs = random_inputs(full, batch=4, seed=2)
        np.testing.assert_allclose(
            composed.predict(inputs, verbose=0), full.predict(inputs, verbose=0), atol=1e-5
        )
        full.save_weights(tmp_path / "full.weights.h5")
        assert path.stat().st_size < 0.3 * (tmp_path / "full.weights.h5").stat().st_size
        card, built = model_info("composed_fusion", build=False), model_info("composed_fusion")
        assert card["params"] == built["params"]
    finally:
        emozoo.registry.unregister_model("composed_fusion")


def test_bucketed_embeddings_keep_record_order():
    from emozoo.models import build_text_minilm
    from emozoo.training.fusion import compute_embeddings

    texts = ["so happy", "a much longer sentence about nothing at all", "sad", "angry again today"]
    records = Records("toy", "test", "text", texts, np.arange(4) % 2, ("a", "b"))
    pre = emozoo.load_preprocessor("text_minilm")
    small = {"num_layers": 1, "num_heads": 2, "hidden_dim": 8, "intermediate_dim": 16}
    fixed = build_text_minilm(include_top=False, **small)
    free = build_text_minilm(include_top=False, sequence_length=None, **small)
    free.set_weights(fixed.get_weights())
    expected = compute_embeddings(fixed, records, pre)
    got = compute_embeddings(free, records, pre, batch_size=2, bucket_by_length=True)
    np.testing.assert_allclose(got, expected, atol=1e-5)
