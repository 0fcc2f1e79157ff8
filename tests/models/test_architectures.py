"""Every architecture: shapes, heads, masking, a training step and ``.keras`` round trips.

This folder runs twice in CI: on the TensorFlow backend and with ``KERAS_BACKEND=jax``.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from emozoo.labels import EMOTIONS
from emozoo.models import (
    MODALITIES,
    architecture_modalities,
    embedding_model,
    get_architecture,
    get_family,
    get_labels,
    input_specs,
    list_architectures,
    list_families,
)
from tests.models.helpers import SMALL_CONFIGS, random_inputs

#: The families; their older names (aliases) are checked against them below.
ARCHITECTURES = list_families()
ALIASES = sorted(set(list_families(include_aliases=True)) - set(ARCHITECTURES))
FUSED = [a for a in ARCHITECTURES if architecture_modalities(a) == MODALITIES]


def build_small(name: str, **kwargs) -> keras.Model:
    return get_architecture(name)(**SMALL_CONFIGS[name], **kwargs)


def test_every_architecture_has_a_small_test_config():
    assert set(list_architectures()) == set(SMALL_CONFIGS) == {*ARCHITECTURES, *ALIASES}
    assert all(SMALL_CONFIGS.values())
    assert set(ARCHITECTURES) >= {
        "face_cnn",
        "text_bilstm",
        "audio_lstm",
        "fusion_transformer",
        "transformer_fusion",
        "late_fusion",
        "concat_fusion",
        "text_minilm",
        "audio_whisper",
        "face_vgg",
        "text_mpnet",
    }
    assert set(ALIASES) >= {"cnn_lstm_fusion", "minilm_cnn_lstm_fusion"}


@pytest.mark.parametrize("alias", ALIASES)
def test_an_older_name_builds_its_family_with_its_own_default_encoders(alias):
    """Saved configs naming ``cnn_lstm_fusion`` or ``minilm_cnn_lstm_fusion`` (without
    encoder families) load as before: the family's builder, the alias's defaults."""
    spec = get_family(alias)
    family = get_family(spec.alias_of)
    assert spec.modalities == family.modalities and spec.export == family.export
    config = SMALL_CONFIGS[alias]
    old = get_architecture(alias)(**config)
    families = {m: {**c, "family": spec.encoders[m]} for m, c in config["encoders"].items()}
    new = get_architecture(spec.alias_of)(**{**config, "encoders": families}, name=alias)
    assert old.name == alias
    assert [w.shape for w in old.weights] == [w.shape for w in new.weights]
    new.set_weights(old.get_weights())
    inputs = random_inputs(old)
    np.testing.assert_allclose(
        old.predict(inputs, verbose=0), new.predict(inputs, verbose=0), atol=1e-6
    )


def test_fused_families_take_their_default_encoders_from_their_spec():
    for name in list_families(include_aliases=True):
        spec = get_family(name)
        if not spec.encoders:
            continue
        assert spec.modalities == tuple(spec.encoders), name
        for modality, encoder in spec.encoders.items():
            assert spec.preprocessing[modality] == get_family(encoder).preprocessing[modality]
        headless = get_architecture(name)(**SMALL_CONFIGS[name], include_top=False)
        for modality, encoder in spec.encoders.items():
            built = headless.get_layer(f"{modality}_encoder")
            reference = get_family(encoder).builder(
                **SMALL_CONFIGS[name]["encoders"][modality], include_top=False
            )
            assert built.count_params() == reference.count_params(), (name, modality)


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_default_shapes_and_labels(name):
    model = get_architecture(name)()
    assert model.output_shape == (None, len(EMOTIONS))
    assert get_labels(model) == EMOTIONS
    specs = input_specs(model)
    expected = {
        "face_cnn": {"face": ((48, 48, 1), "float32")},
        "text_bilstm": {"text": ((64,), "int32")},
        "text_minilm": {"text": ((64,), "int32")},
        "text_mpnet": {"text": ((64,), "int32")},
        "face_vgg": {"face": ((48, 48, 1), "float32")},
        "audio_lstm": {"audio": ((48000,), "float32")},
    }
    if name in expected:
        assert specs == expected[name]
    elif name in FUSED:
        assert specs["face"] == ((48, 48, 1), "float32")
        assert specs["text"] == ((64,), "int32")
        assert specs["audio"] == ((48000,), "float32")
        for modality in MODALITIES:
            assert specs[f"{modality}_present"] == ((1,), "float32")
    probabilities = model.predict(random_inputs(model, batch=2), verbose=0)
    assert probabilities.shape == (2, len(EMOTIONS))
    np.testing.assert_allclose(probabilities.sum(axis=-1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_other_label_sets_and_embeddings(name):
    labels = ["calm", "happy", "sad", "angry"]
    model = build_small(name, labels=labels)
    assert model.output_shape == (None, 4)
    assert get_labels(model) == tuple(labels)
    assert build_small(name, num_classes=3).output_shape == (None, 3)

    headless = build_small(name, include_top=False)
    assert get_labels(headless) is None
    embedding = headless.predict(random_inputs(headless), verbose=0)
    assert embedding.ndim == 2 and embedding.shape[0] == 3 and np.isfinite(embedding).all()
    if name != "late_fusion":
        assert embedding_model(model).output_shape == headless.output_shape


@pytest.mark.parametrize(
    "bad", [{"labels": ["only_one"]}, {"labels": ["a", "a"]}, {"num_classes": 1}]
)
def test_bad_label_sets_are_rejected(bad):
    with pytest.raises(ValueError):
        build_small("face_cnn", **bad)


@pytest.mark.parametrize("name", FUSED)
@pytest.mark.parametrize("missing", MODALITIES)
def test_missing_modality_is_ignored(name, missing):
    model = build_small(name)
    inputs = random_inputs(model, present={missing: 0.0})
    other = dict(inputs)
    other[missing] = random_inputs(model, seed=1)[missing]
    out = model.predict(inputs, verbose=0)
    np.testing.assert_allclose(out, model.predict(other, verbose=0), atol=1e-6)
    # The same change with the modality present does move the output.
    present = random_inputs(model)
    changed = dict(present, **{missing: other[missing]})
    assert (
        np.abs(model.predict(present, verbose=0) - model.predict(changed, verbose=0)).max() > 1e-6
    )


@pytest.mark.parametrize("name", FUSED)
def test_all_modalities_missing_gives_finite_output(name):
    model = build_small(name)
    out = model.predict(random_inputs(model, present={m: 0.0 for m in MODALITIES}), verbose=0)
    assert np.isfinite(out).all()


@pytest.mark.parametrize("name", ["text_bilstm", "text_minilm"])
def test_empty_text_gives_finite_embedding(name):
    model = build_small(name, include_top=False)
    ids = np.zeros((2, SMALL_CONFIGS[name]["sequence_length"]), np.int32)
    assert np.isfinite(model.predict({"text": ids}, verbose=0)).all()


def test_minilm_ignores_padding_and_takes_any_length():
    """The padding mask comes from the zeros: more padding, same embedding."""
    config = dict(SMALL_CONFIGS["text_minilm"])
    fixed = build_small("text_minilm", include_top=False)
    free = get_architecture("text_minilm")(**{**config, "sequence_length": None}, include_top=False)
    free.set_weights(fixed.get_weights())
    ids = np.zeros((2, config["sequence_length"]), np.int32)
    ids[0, :4], ids[1, :7] = [2, 9, 11, 3], [2, 5, 6, 7, 8, 9, 3]
    full = fixed.predict({"text": ids}, verbose=0)
    np.testing.assert_allclose(free.predict({"text": ids[:, :7]}, verbose=0), full, atol=1e-5)
    np.testing.assert_allclose(free.predict({"text": ids[:1, :4]}, verbose=0), full[:1], atol=1e-5)


def test_exact_gelu_backbone_survives_serialization():
    from emozoo.models import ExactGeluBertBackbone

    backbone = ExactGeluBertBackbone(
        vocabulary_size=20, num_layers=1, num_heads=2, hidden_dim=8, intermediate_dim=16
    )
    restored = ExactGeluBertBackbone.from_config(backbone.get_config())
    for model in (backbone, restored):
        dense = model.transformer_layers[0]._feedforward_intermediate_dense
        x = keras.ops.convert_to_tensor(np.linspace(-3, 3, 7, dtype=np.float32))
        exact = keras.activations.gelu(x, approximate=False)
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(dense.activation(x)), keras.ops.convert_to_numpy(exact)
        )


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_each_prediction_ignores_the_rest_of_its_batch(name):
    """An input's output is the same alone and beside others: here a quiet clip padded
    with silence beside 100x louder ones (a batch-wide dB floor once broke this)."""
    model = build_small(name)
    inputs = random_inputs(model, batch=3, seed=5)
    if "audio" in inputs:
        audio = inputs["audio"] * np.array([0.01, 1.0, 1.0], np.float32)[:, None]
        audio[0, audio.shape[1] // 2 :] = 0.0
        inputs["audio"] = audio
    together = model.predict(inputs, verbose=0)
    alone = model.predict({k: v[:1] for k, v in inputs.items()}, verbose=0)
    np.testing.assert_allclose(alone[0], together[0], atol=1e-5)


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_training_step_updates_weights(name):
    model = build_small(name)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="categorical_crossentropy")
    inputs = random_inputs(model, batch=4)
    targets = keras.utils.to_categorical(np.arange(4) % len(EMOTIONS), len(EMOTIONS))
    before = [w.copy() for w in model.get_weights()]
    history = model.fit(inputs, targets, batch_size=4, epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    changed = sum(not np.allclose(a, b) for a, b in zip(before, model.get_weights(), strict=True))
    assert changed > len(before) // 2


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_keras_file_round_trip_in_safe_mode(name, tmp_path):
    model = build_small(name, labels=["calm", "happy", "sad"])
    inputs = random_inputs(model)
    path = tmp_path / f"{name}.keras"
    model.save(path)
    restored = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(
        model.predict(inputs, verbose=0), restored.predict(inputs, verbose=0), atol=1e-6
    )
    assert get_labels(restored) == ("calm", "happy", "sad")


def test_keras_file_loads_in_a_fresh_process_after_import(tmp_path):
    model = build_small("transformer_fusion")
    inputs = random_inputs(model)
    np.savez(tmp_path / "inputs.npz", **inputs)
    np.save(tmp_path / "expected.npy", model.predict(inputs, verbose=0))
    model.save(tmp_path / "m.keras")
    script = textwrap.dedent(
        f"""
        import numpy as np, keras, emozoo.models
        model = keras.saving.load_model({str(tmp_path / "m.keras")!r}, safe_mode=True)
        inputs = dict(np.load({str(tmp_path / "inputs.npz")!r}))
        out = model.predict(inputs, verbose=0)
        np.testing.assert_allclose(out, np.load({str(tmp_path / "expected.npy")!r}), atol=1e-6)
        print("ok", keras.backend.backend())
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "ok" in result.stdout


def test_spec_augment_masks_only_in_training():
    from emozoo.models import SpecAugment

    layer = SpecAugment(time_masks=2, time_width=10, freq_masks=2, freq_width=4, seed=1)
    x = np.ones((8, 50, 16), np.float32)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer(x, training=False)), x)
    masked = keras.ops.convert_to_numpy(layer(x, training=True))
    assert masked.shape == x.shape and set(np.unique(masked)) <= {0.0, 1.0}
    zero_fraction = (masked == 0).mean()
    assert 0.02 < zero_fraction < 0.6
    time_zero = (masked == 0).all(axis=2).sum(axis=1)  # fully masked frames per sample
    assert (time_zero <= 20).all() and time_zero.sum() > 0
    restored = SpecAugment.from_config(layer.get_config())
    assert restored.get_config() == layer.get_config()


def test_audio_lstm_clip_normalisation_gives_the_same_output_at_any_loudness():
    """mel_normalisation="clip" standardises each clip by itself, so a recording 30 dB
    quieter (x 0.0316) is the same input; the training set's statistics ("batch") are not."""
    waveform = random_inputs(build_small("audio_lstm"), batch=2, seed=3)["audio"]
    quiet = {"audio": waveform * np.float32(10 ** (-30 / 20))}
    outputs = {}
    for normalisation in ("clip", "batch"):
        keras.utils.set_random_seed(0)
        model = build_small("audio_lstm", mel_normalisation=normalisation)
        model.compile(optimizer="adam", loss="categorical_crossentropy")
        # One step moves the batch statistics off their initial identity.
        model.fit({"audio": waveform}, np.eye(len(EMOTIONS))[:2], epochs=1, verbose=0)
        outputs[normalisation] = (
            model.predict({"audio": waveform}, verbose=0),
            model.predict(quiet, verbose=0),
        )
    loud, soft = outputs["clip"]
    np.testing.assert_allclose(loud, soft, atol=1e-4)
    loud, soft = outputs["batch"]
    assert np.abs(loud - soft).max() > 1e-3
    with pytest.raises(ValueError, match="mel_normalisation"):
        build_small("audio_lstm", mel_normalisation="layer")
