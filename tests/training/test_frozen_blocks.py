"""Training only the top blocks of text_mpnet on cached lower states (frozen_blocks)."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from emozoo.data import Records
from emozoo.models.text_mpnet import SPEC
from emozoo.models.text_mpnet.model import build_text_mpnet
from emozoo.training.frozen_blocks import cache_lower_states, cached_dataset, top_model

CONFIG = {**SPEC.test_config, "num_layers": 3, "sequence_length": None}
LABELS = ("angry", "happy", "sad")


class _IdsFromItems:
    """Stands in for a text preprocessor: items are already token-id rows."""

    modality = "text"
    variable_length = True

    def for_modality(self, modality):
        return self

    def from_items(self, items):
        return np.asarray(items, "int32")


def _records(n: int, seed: int = 0) -> Records:
    rng = np.random.default_rng(seed)
    rows = np.zeros((n, 10), "int32")
    for row in rows:
        length = int(rng.integers(2, 11))
        row[:length] = rng.integers(3, CONFIG["vocabulary_size"], length)
    return Records("toy", "train", "text", list(rows), rng.integers(0, 3, n), LABELS)


def test_top_model_on_cached_states_equals_the_full_model(tmp_path):
    keras.utils.set_random_seed(0)
    model = build_text_mpnet(labels=LABELS, **CONFIG)
    records = _records(13)
    lower = model.get_layer("backbone").lower_blocks(2)
    batches = cache_lower_states(
        lower, records, _IdsFromItems(), batch_size=4, cache=tmp_path / "states.npz"
    )
    assert sum(len(labels) for _, _, labels in batches) == 13
    assert [s.shape[1] for s, _, _ in batches] == sorted(s.shape[1] for s, _, _ in batches)
    top = top_model(model, 2)
    for states, mask, labels in batches:
        got = np.asarray(top({"states": states.astype("float32"), "padding_mask": mask}))
        assert got.shape == (len(labels), 3)
    # Row by row: the full model on ids and the top model on their cached states agree.
    ids = np.asarray(records.items[:1])[:, : int((np.asarray(records.items[0]) != 0).sum())]
    mask = (ids != 0).astype("int32")
    states = np.asarray(lower({"token_ids": ids, "padding_mask": mask}))
    full = np.asarray(model({"text": ids}))
    split = np.asarray(top({"states": states, "padding_mask": mask}))
    np.testing.assert_allclose(split, full, atol=1e-5)
    # The cache file is read back as written.
    again = cache_lower_states(
        lower, records, _IdsFromItems(), batch_size=4, cache=tmp_path / "states.npz"
    )
    for (a, m, y), (b, n, z) in zip(batches, again, strict=True):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(m, n)
        np.testing.assert_array_equal(y, z)


def test_training_the_top_leaves_the_frozen_blocks_and_bias_alone():
    keras.utils.set_random_seed(1)
    model = build_text_mpnet(labels=LABELS, **CONFIG)
    backbone = model.get_layer("backbone")
    frozen = {
        name: [w.copy() for w in backbone.get_layer(name).get_weights()]
        for name in ("token_embedding", "block_0", "block_1", "relative_position_bias")
    }
    top_before = [w.copy() for w in backbone.get_layer("block_2").get_weights()]
    batches = cache_lower_states(
        backbone.lower_blocks(2), _records(24, seed=2), _IdsFromItems(), batch_size=8
    )
    top = top_model(model, 2)
    top.compile(optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy")
    top.fit(cached_dataset(batches, CONFIG["hidden_dim"], shuffle=True), epochs=2, verbose=0)
    for name, weights in frozen.items():
        for before, after in zip(weights, backbone.get_layer(name).get_weights(), strict=True):
            np.testing.assert_array_equal(before, after, err_msg=name)
    changed = [
        not np.array_equal(a, b)
        for a, b in zip(top_before, backbone.get_layer("block_2").get_weights(), strict=True)
    ]
    assert any(changed)


def test_a_backbone_without_a_split_is_refused():
    inputs = keras.Input((4,), name="text")
    model = keras.Model(inputs, keras.layers.Dense(2, name="backbone")(inputs))
    with pytest.raises(ValueError, match="lower_blocks"):
        top_model(model, 1)


def test_train_top_blocks_runs_and_resumes_from_its_cache(tmp_path, monkeypatch):
    """The recipe path end to end: states cached once per source, the top trained."""
    import emozoo.training.frozen_blocks as frozen_blocks

    sources = {("toy", "train"): _records(20, seed=3), ("toy", "val"): _records(8, seed=4)}
    loaded = []

    def fake_records_for(specs, root=None):
        loaded.append(tuple(specs[0][:2]))
        return sources[tuple(specs[0][:2])]

    monkeypatch.setattr(frozen_blocks, "records_for", fake_records_for)
    keras.utils.set_random_seed(2)
    model = build_text_mpnet(labels=LABELS, **CONFIG)
    options = dict(
        epochs=1,
        log_dir=tmp_path / "run",
        learning_rate=1e-3,
        weight_decay=0.0,
        warmup_epochs=0.0,
        label_smoothing=0.0,
        verbose=0,
    )
    kwargs = dict(
        frozen_blocks=2,
        batch_size=8,
        cache_dir=tmp_path / "features",
        cache_key="toy",
        seed=0,
        fit_options=options,
    )
    train_specs = [["toy", "train"], ["toy", "train"]]  # listed twice: cached once
    history = frozen_blocks.train_top_blocks(
        model, train_specs, [["toy", "val"]], _IdsFromItems(), **kwargs
    )
    assert len(history.history["val_accuracy"]) == 1
    assert loaded == [("toy", "train"), ("toy", "val")]
    assert len(list((tmp_path / "features").glob("toy_*.npz"))) == 2
    assert (tmp_path / "run" / "best.weights.h5").is_file()


@pytest.mark.parametrize("count", [0, 3, -1])
def test_frozen_block_counts_outside_the_backbone_are_refused(count):
    backbone = build_text_mpnet(labels=LABELS, **CONFIG).get_layer("backbone")
    with pytest.raises(ValueError, match=r"count must be in 1\.\.2"):
        backbone.lower_blocks(count)


def test_tokens_shortest_first_orders_texts_and_refuses_other_modalities():
    import emozoo
    from emozoo.data.pipeline import tokens_shortest_first

    texts = Records(
        "toy", "train", "text", ["a b c d e", "a", "a b c"], np.zeros(3, "int32"), LABELS
    )
    ids, order = tokens_shortest_first(texts, emozoo.load_preprocessor("text_minilm"))
    assert ids.dtype == np.int32 and ids.shape[0] == 3
    assert order.tolist() == [1, 2, 0]
    faces = Records("toy", "train", "face", np.zeros((2, 48, 48), np.uint8), np.zeros(2), LABELS)
    with pytest.raises(ValueError, match="bucket_by_length applies to text"):
        tokens_shortest_first(faces, emozoo.load_preprocessor("face_cnn"))


def test_call_layers_after_an_unknown_layer_names_the_model_and_its_layers():
    from emozoo.training.frozen_features import call_layers_after

    model = build_text_mpnet(labels=LABELS, **CONFIG)
    with pytest.raises(ValueError, match=f"{model.name} has no layer 'nope'; its layers: "):
        call_layers_after(model, "nope", None)
