"""Fine-tuning policies: what trains, LoRA, the per-variable learning rate."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from emozoo.models import get_architecture
from emozoo.training import POLICIES, ScaledAdamW, apply_policy, merge_lora
from emozoo.training.policies import encoders, lora_layers
from tests.models.helpers import SMALL_CONFIGS, random_inputs

LABELS = ["calm", "happy", "sad", "angry"]


def small(architecture: str) -> keras.Model:
    return get_architecture(architecture)(labels=LABELS, **SMALL_CONFIGS[architecture])


@pytest.fixture(scope="module")
def fusion() -> keras.Model:
    return small("cnn_lstm_fusion")


def _trainable_ids(layer) -> set[int]:
    return {id(v) for v in layer.trainable_weights}


def test_encoders_of_fused_and_unimodal_models(fusion):
    assert sorted(encoders(fusion)) == ["audio_encoder", "face_encoder", "text_encoder"]
    face = small("face_cnn")
    (name, layers), *_ = encoders(face).items()
    assert name == "backbone" and "predictions" not in [layer.name for layer in layers]


def test_head_only_freezes_every_encoder_weight(fusion):
    report = apply_policy(fusion, "encoders")
    trainable = _trainable_ids(fusion)
    for name in ("face_encoder", "text_encoder", "audio_encoder"):
        assert not trainable & {id(v) for v in fusion.get_layer(name).weights}, name
    assert {id(v) for v in fusion.get_layer("predictions").weights} <= trainable
    assert {id(v) for v in fusion.get_layer("fusion_head").trainable_weights} <= trainable
    assert report.trainable_params + report.frozen_params == fusion.count_params()
    assert report.slow_variables == []


def test_encoders_but_top_unfreezes_top_layers_only(fusion):
    report = apply_policy(fusion, "encoders_but_top", unfreeze_top=1)
    assert sorted(report.unfrozen_encoder_layers) == [
        "audio_encoder/attention_pool",
        "face_encoder/block2_shortcut",
        "text_encoder/attention_pool",
    ]
    text = fusion.get_layer("text_encoder")
    assert text.get_layer("attention_pool").trainable_weights
    assert not text.get_layer("token_embedding").trainable_weights
    assert not text.get_layer("bilstm").trainable_weights
    slow = {id(v) for v in report.slow_variables}
    assert slow == {id(v) for v in text.get_layer("attention_pool").trainable_weights} | {
        id(v)
        for name in ("face_encoder", "audio_encoder")
        for v in fusion.get_layer(name).trainable_weights
    }


def test_full_fine_tuning_slows_encoder_weights_only(fusion):
    report = apply_policy(fusion, "none")
    assert report.frozen_params < 1000  # batch-norm statistics only
    encoder_ids = {
        id(v)
        for name in ("face_encoder", "text_encoder", "audio_encoder")
        for v in fusion.get_layer(name).trainable_weights
    }
    assert {id(v) for v in report.slow_variables} == encoder_ids


def test_scaled_adamw_moves_scaled_variables_by_the_scaled_rate():
    layer = keras.layers.Dense(3, kernel_initializer="zeros", bias_initializer="zeros")
    layer.build((None, 2))
    optimizer = ScaledAdamW(
        learning_rate=0.01, weight_decay=0.0, scaled_variables=[layer.kernel], scale=0.1
    )
    grads = [np.ones((2, 3), "float32"), np.ones((3,), "float32")]
    optimizer.apply_gradients(zip(grads, [layer.kernel, layer.bias], strict=True))
    # Adam's first step moves every weight by the learning rate (times the gradient's sign).
    np.testing.assert_allclose(np.asarray(layer.kernel), -0.001, rtol=1e-3)
    np.testing.assert_allclose(np.asarray(layer.bias), -0.01, rtol=1e-3)
    assert optimizer.num_scaled == 1
    with pytest.raises(ValueError, match="positive"):
        ScaledAdamW(learning_rate=0.01, scale=0.0)


def test_lora_trains_adapters_and_classifier_only():
    model = small("cnn_lstm_fusion")
    inputs = random_inputs(model, batch=4)
    before = np.asarray(model.predict(inputs, verbose=0))
    report = apply_policy(model, "lora", lora_rank=2)
    assert len(report.lora_layers) == len(lora_layers(model)) >= 5
    adapters = {id(v) for v in model.weights if v.path.split("/")[-1].startswith("lora_")}
    classifier = {id(v) for v in model.get_layer("predictions").weights}
    assert _trainable_ids(model) == adapters | classifier
    # LoRA starts as the identity change (B = 0); predict() is traced anew.
    assert model.predict_function is None
    np.testing.assert_allclose(model.predict(inputs, verbose=0), before, atol=1e-5)
    for variable in model.weights:
        if variable.path.endswith("lora_kernel_b"):
            variable.assign(np.full(variable.shape, 0.05, "float32"))
    assert np.abs(model.predict(inputs, verbose=0) - before).max() > 1e-4


def test_lora_model_saves_loads_and_merges(tmp_path):
    model = small("text_bilstm")
    inputs = random_inputs(model, batch=4)
    before = np.asarray(model.predict(inputs, verbose=0))
    apply_policy(model, "lora", lora_rank=2)
    for variable in model.weights:  # pretend training moved the adapters
        if variable.path.endswith("_b") and "lora_" in variable.path:
            variable.assign(np.full(variable.shape, 0.5, "float32"))
    expected = np.asarray(model.predict(inputs, verbose=0))
    assert np.abs(expected - before).max() > 1e-4

    path = tmp_path / "lora.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(reloaded.predict(inputs, verbose=0), expected, atol=1e-5)

    merged = merge_lora(model)
    assert not lora_layers(merged)
    assert "lora_rank" not in str(merged.get_config())
    np.testing.assert_allclose(merged.predict(inputs, verbose=0), expected, atol=1e-5)
    merged.save(tmp_path / "merged.keras")
    plain = keras.saving.load_model(tmp_path / "merged.keras", safe_mode=True)
    np.testing.assert_allclose(plain.predict(inputs, verbose=0), expected, atol=1e-5)
    assert merge_lora(plain) is plain


def test_bad_policy_arguments_are_clear_errors(fusion):
    with pytest.raises(ValueError, match="Unknown freeze policy 'head'.*encoders_but_top"):
        apply_policy(fusion, "head")
    with pytest.raises(ValueError, match="unfreeze_top"):
        apply_policy(fusion, "encoders_but_top", unfreeze_top=0)
    with pytest.raises(ValueError, match="lora_rank"):
        apply_policy(fusion, "lora", lora_rank=-1)
    assert set(POLICIES) == {"encoders", "encoders_but_top", "none", "lora"}
