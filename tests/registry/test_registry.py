"""The registry: names, errors, weights integrity, user models, relabelling."""

from __future__ import annotations

import dataclasses
import json

import keras
import numpy as np
import pytest

import emozoo
from emozoo.models import get_labels
from emozoo.registry import (
    NoPretrainedWeightsError,
    UnknownModelError,
    WeightsError,
    WeightsInfo,
    get_entry,
    sha256_file,
    unregister_model,
)
from emozoo.registry import registry as registry_module
from tests.models.helpers import random_inputs

EXPECTED_MODELS = {
    "face_cnn",
    "text_bilstm",
    "audio_lstm",
    "fusion_transformer",
    "cnn_lstm_fusion",
    "late_fusion",
    "concat_fusion",
    "text_minilm",
    "minilm_cnn_lstm_fusion",
    "face_vgg",
    "audio_whisper",
    "text_mpnet",
    "vgg_minilm_whisper_fusion",
}


@pytest.fixture
def user_models():
    """Names registered during a test are removed afterwards."""
    names: list[str] = []
    yield names
    for name in names:
        if name in registry_module._registry:
            unregister_model(name)


def test_list_models_has_every_builtin_model():
    assert set(emozoo.list_models()) >= EXPECTED_MODELS
    assert emozoo.list_models() == sorted(emozoo.list_models())


def test_list_models_pattern_and_pretrained_filters():
    assert set(emozoo.list_models("*fusion")) == {
        "au_whisper_fusion",
        "cnn_lstm_fusion",
        "late_fusion",
        "concat_fusion",
        "minilm_cnn_lstm_fusion",
        "vgg_minilm_whisper_fusion",
    }
    assert emozoo.list_models("nothing*") == []
    everything = set(emozoo.list_models())
    assert (
        set(emozoo.list_models(pretrained=True)) | set(emozoo.list_models(pretrained=False))
        == everything
    )
    for name in emozoo.list_models(pretrained=True):
        assert get_entry(name).weights is not None


def test_unknown_name_suggests_close_match():
    with pytest.raises(UnknownModelError, match="Did you mean 'cnn_lstm_fusion'"):
        emozoo.load("cnn_lstm_fusoin", weights=None)
    with pytest.raises(UnknownModelError, match="Registered models: .*face_cnn"):
        emozoo.model_info("zzzzzz")


def test_load_builds_registered_model_with_entry_labels():
    model = emozoo.load("cnn_lstm_fusion", weights=None)
    assert model.name == "cnn_lstm_fusion"
    assert get_labels(model) == emozoo.EMOTIONS
    assert {t.name for t in model.inputs} == {
        "face",
        "text",
        "audio",
        "face_present",
        "text_present",
        "audio_present",
    }


def test_model_vocabulary_size_comes_from_the_shipped_vocabulary():
    pre = emozoo.load_preprocessor("text_bilstm")
    model = emozoo.load("text_bilstm", weights=None)
    assert model.get_layer("token_embedding").input_dim == pre.text.vocabulary_size > 1000


def test_default_weights_without_pretrained_weights_is_a_clear_error(user_models):
    emozoo.register_model("no_weights_face", base="face_cnn")
    user_models.append("no_weights_face")
    with pytest.raises(NoPretrainedWeightsError, match="weights=None"):
        emozoo.load("no_weights_face")


def _small_face_model_file(tmp_path, labels=None):
    model = emozoo.load("face_cnn", weights=None, labels=labels)
    path = tmp_path / "face.weights.h5"
    model.save_weights(path)
    return model, path


def test_registered_weights_load_and_are_hash_checked(tmp_path, user_models):
    model, path = _small_face_model_file(tmp_path)
    entry = emozoo.register_model(
        "my_face", base="face_cnn", weights=path, training_data="unit test"
    )
    user_models.append("my_face")
    assert entry.weights.sha256 == sha256_file(path)
    loaded = emozoo.load("my_face")
    inputs = random_inputs(model)
    np.testing.assert_allclose(
        loaded.predict(inputs, verbose=0), model.predict(inputs, verbose=0), atol=1e-6
    )
    assert "my_face" in emozoo.list_models(pretrained=True)

    with open(path, "ab") as f:
        f.write(b"tampered")
    with pytest.raises(WeightsError) as error:
        emozoo.load("my_face")
    message = str(error.value)
    assert str(path) in message and entry.weights.sha256 in message and sha256_file(path) in message


def test_missing_weights_file_names_the_file(tmp_path, user_models):
    _, path = _small_face_model_file(tmp_path)
    emozoo.register_model("gone_face", base="face_cnn", weights=path)
    user_models.append("gone_face")
    path.unlink()
    with pytest.raises(WeightsError, match="face.weights.h5 is missing"):
        emozoo.load("gone_face")


def test_builtin_weights_entries_are_checked_too(monkeypatch, tmp_path):
    entry = get_entry("face_cnn")
    fake = WeightsInfo(file=str(tmp_path / "absent.weights.h5"), sha256="0" * 64)
    monkeypatch.setitem(
        registry_module._registry, "face_cnn", dataclasses.replace(entry, weights=fake)
    )
    with pytest.raises(WeightsError, match="absent.weights.h5 is missing"):
        emozoo.load("face_cnn")


def test_new_labels_keep_pretrained_encoder_weights(tmp_path, user_models):
    model, path = _small_face_model_file(tmp_path)
    emozoo.register_model("relabel_face", base="face_cnn", weights=path)
    user_models.append("relabel_face")
    relabelled = emozoo.load("relabel_face", labels=["calm", "happy", "sad", "angry"])
    assert relabelled.output_shape == (None, 4)
    assert get_labels(relabelled) == ("calm", "happy", "sad", "angry")
    for layer_name in ("stem1_conv", "block2_sep1"):
        for a, b in zip(
            model.get_layer(layer_name).get_weights(),
            relabelled.get_layer(layer_name).get_weights(),
            strict=True,
        ):
            np.testing.assert_array_equal(a, b)

    headless = emozoo.load("relabel_face", include_top=False)
    inputs = random_inputs(model)
    reference = keras.Model(model.inputs, model.get_layer("embedding").output)
    np.testing.assert_allclose(
        headless.predict(inputs, verbose=0), reference.predict(inputs, verbose=0), atol=1e-6
    )


def test_weights_from_a_keras_file_path(tmp_path):
    model = emozoo.load("face_cnn", weights=None)
    path = tmp_path / "face.keras"
    model.save(path)
    loaded = emozoo.load("face_cnn", weights=path)
    inputs = random_inputs(model)
    np.testing.assert_allclose(
        loaded.predict(inputs, verbose=0), model.predict(inputs, verbose=0), atol=1e-6
    )


def test_weights_path_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        emozoo.load("face_cnn", weights=tmp_path / "nope.weights.h5")
    bad = tmp_path / "weights.bin"
    bad.write_bytes(b"not weights")
    with pytest.raises(ValueError, match=r"\.weights\.h5 or \.keras"):
        emozoo.load("face_cnn", weights=bad)


def test_register_model_errors(user_models):
    with pytest.raises(ValueError, match="already registered"):
        emozoo.register_model("face_cnn", base="face_cnn")
    with pytest.raises(ValueError, match="architecture or a base"):
        emozoo.register_model("x")
    with pytest.raises(KeyError, match="Unknown architecture"):
        emozoo.register_model("x", architecture="resnet9000")
    with pytest.raises(FileNotFoundError):
        emozoo.register_model("x", base="face_cnn", weights="/nonexistent/w.weights.h5")
    with pytest.raises(ValueError, match="built-in"):
        unregister_model("face_cnn")


def test_model_info_is_a_complete_card():
    info = emozoo.model_info("cnn_lstm_fusion")
    assert info["labels"] == list(emozoo.EMOTIONS)
    assert info["params"] > 100_000
    assert info["inputs"]["face"] == {"shape": [48, 48, 1], "dtype": "float32"}
    assert info["output"]["shape"] == [7]
    assert set(info["preprocessing"]) == {"face", "text", "audio"}
    assert "weights" in info and "pretrained" in info
    assert emozoo.model_info("face_cnn", build=False)["architecture"] == "face_cnn"


def test_every_card_names_the_recommended_encoder_of_its_modalities():
    recommended = emozoo.recommended_encoders()
    assert sorted(recommended) == ["audio", "face", "face_au", "text"]
    for modality, name in recommended.items():
        entry = get_entry(name)
        assert entry.modalities == (modality,) and entry.pretrained, name
    for name in emozoo.list_models():
        entry = get_entry(name)
        if entry.source == "user" or not entry.modalities:
            continue
        named = entry.headline.get("recommended")
        if len(entry.modalities) == 1:
            assert named == recommended[entry.modalities[0]], name
        else:
            assert named == {m: recommended[m] for m in entry.modalities}, name


def test_two_cards_recommending_themselves_for_one_modality_is_an_error(monkeypatch):
    face_cnn = get_entry("face_cnn")
    self_claim = dataclasses.replace(
        face_cnn, headline={**face_cnn.headline, "recommended": "face_cnn"}
    )
    monkeypatch.setitem(registry_module._registry, "face_cnn", self_claim)
    with pytest.raises(ValueError, match="Two cards recommend themselves for face"):
        emozoo.recommended_encoders()


def test_the_recommended_encoder_leads_its_headline_test():
    """No pretrained model of the same modality beats it on the same headline figure."""
    for modality, best in emozoo.recommended_encoders().items():
        head = get_entry(best).headline
        best_value = get_entry(best).weights.metrics[head["set"]][head["metric"]]
        for name in emozoo.list_models(pretrained=True):
            entry = get_entry(name)
            same = entry.headline.get("set") == head["set"]
            if entry.modalities == (modality,) and same and head["set"] in entry.weights.metrics:
                value = entry.weights.metrics[head["set"]][head["metric"]]
                assert value <= best_value, f"{name} beats the recommended {best}"


def test_list_and_info_show_the_recommendation(capsys):
    from emozoo.cli import main

    assert main(["list"]) == 0
    listed = capsys.readouterr().out
    for name in emozoo.recommended_encoders().values():
        assert f"{name} *" in listed
    best_audio = emozoo.recommended_encoders()["audio"]
    assert main(["info", "audio_lstm"]) == 0
    assert f"recommended    {best_audio} (for audio)" in capsys.readouterr().out
    assert main(["info", best_audio]) == 0
    assert "recommended    this model (for audio)" in capsys.readouterr().out


def _card(name: str) -> dict:
    """A built-in card as written in its file (before the registry fills anything in)."""
    return json.loads(registry_module.builtin_config_path(name).read_text(encoding="utf-8"))


def test_fused_cards_name_their_encoders_and_copy_nothing_of_them():
    fused = [n for n in emozoo.list_models() if get_entry(n).encoders]
    assert set(fused) >= {"cnn_lstm_fusion", "vgg_minilm_whisper_fusion", "au_whisper_fusion"}
    assert get_entry("vgg_minilm_whisper_fusion").encoders == {
        "face": "face_vgg",
        "text": "text_minilm",
        "audio": "audio_whisper",
    }
    for name in fused:
        entry, card = get_entry(name), _card(name)
        stated = card.get("config", {}).get("encoders", {})
        for modality, encoder_name in entry.encoders.items():
            encoder = get_entry(encoder_name)
            # The card states only what differs from the encoder's own card...
            copied = {
                k: v
                for k, v in stated.get(modality, {}).items()
                if {"family": encoder.architecture, **encoder.config}.get(k) == v
            }
            assert not copied, (name, modality, copied)
            assert modality not in card.get("preprocessing", {}), (name, modality)
            # ...and the registry gives it the encoder's config and preprocessing.
            assert entry.config["encoders"][modality] == {
                "family": encoder.architecture,
                **encoder.config,
                **stated.get(modality, {}),
            }
            assert entry.preprocessing[modality] == encoder.preprocessing[modality]
        if entry.weights is not None and entry.weights.encoders:
            assert entry.weights.encoders == entry.encoders, name


def test_unimodal_cards_state_their_preprocessing_in_full():
    """A card records what its weights were trained with: every parameter its family's
    defaults name (``FamilySpec.preprocessing``), so a new family default changes no
    shipped model."""
    from emozoo.models import get_family

    for name in emozoo.list_models():
        entry = get_entry(name)
        if entry.source == "user" or len(entry.modalities) != 1 or entry.encoders:
            continue
        family = get_family(entry.architecture).preprocessing
        for modality, defaults in family.items():
            assert set(_card(name)["preprocessing"][modality]) >= set(defaults), name


def test_cards_name_architectures_not_their_older_names():
    from emozoo.models import get_family

    for name in emozoo.list_models():
        entry = get_entry(name)
        if entry.source != "user":
            assert not get_family(entry.architecture).alias_of, (name, entry.architecture)
    assert get_entry("vgg_minilm_whisper_fusion").architecture == "transformer_fusion"


def test_a_model_registered_by_architecture_starts_from_its_family(user_models):
    entry = emozoo.register_model("fresh_minilm", architecture="text_minilm", persist=False)
    user_models.append("fresh_minilm")
    assert entry.preprocessing["text"]["vocabulary"] == "minilm_vocab.txt"
    assert entry.preprocessing["text"]["start_token"] == "[CLS]"
    fused = emozoo.register_model("fresh_fused", architecture="au_audio_fusion", persist=False)
    user_models.append("fresh_fused")
    assert fused.preprocessing["audio"]["duration_s"] == 4.0  # audio_whisper's
    pre = emozoo.load_preprocessor("fresh_minilm")
    assert pre(text="hi")["text"][0, 0] == 101  # [CLS]


def test_another_encoder_brings_its_own_config_and_preprocessing(tmp_path, user_models):
    emozoo.register_model(
        "small_face",
        base="face_cnn",
        config={"block_filters": [8, 16]},
        preprocessing={"face": {"image_size": 32}},
        persist=False,
    )
    user_models.append("small_face")
    head = tmp_path / "head.weights.h5"
    head.write_bytes(b"a head")
    entry = emozoo.register_model(
        "small_face_fusion",
        base="cnn_lstm_fusion",
        weights=head,
        encoders={"face": "small_face"},
        persist=False,
    )
    user_models.append("small_face_fusion")
    base = get_entry("cnn_lstm_fusion").encoders
    assert entry.encoders == {**base, "face": "small_face"}
    assert entry.config["encoders"]["face"]["family"] == "face_cnn"
    assert entry.config["encoders"]["face"]["block_filters"] == [8, 16]
    assert entry.preprocessing["face"]["image_size"] == 32
    assert entry.preprocessing["text"] == get_entry(base["text"]).preprocessing["text"]


def test_a_user_card_naming_a_missing_encoder_is_skipped_with_a_warning(monkeypatch, tmp_path):
    folder = tmp_path / "models"
    folder.mkdir()
    card = {**_card("cnn_lstm_fusion"), "name": "orphan_fusion"}
    card["encoders"] = {**card["encoders"], "face": "no_such_face"}
    card.pop("weights"), card.pop("lite", None)
    (folder / "orphan_fusion.json").write_text(json.dumps(card))
    monkeypatch.setenv("EMOZOO_HOME", str(tmp_path))
    with pytest.warns(UserWarning, match="orphan_fusion.json.*no registered model 'no_such_face'"):
        names = emozoo.list_models()
    assert "orphan_fusion" not in names


def test_a_cards_speaker_normalisation_is_parsed_and_checked():
    from emozoo.preprocessing.speakers import SpeakerNormalisation
    from emozoo.registry.entry import ModelEntry

    entry = emozoo.registry.get_entry("au_whisper_fusion_per_speaker")
    assert entry.speaker_normalisation == SpeakerNormalisation(("face_au",), ("audio",), 8)
    assert entry.to_dict()["speaker_normalisation"]["embeddings"] == ["audio"]
    assert emozoo.registry.get_entry("face_au").speaker_normalisation is None
    card = {"name": "x", "architecture": "face_au", "modalities": ["face_au"]}
    with pytest.raises(ValueError, match="speaker_normalisation of modalities it does not"):
        ModelEntry.from_dict({**card, "speaker_normalisation": {"inputs": ["audio"]}})


def test_lite_parts_are_a_parts_builds_encoder_files_and_empty_otherwise():
    from emozoo.registry import get_entry

    assert set(get_entry("cnn_lstm_fusion").lite_parts) == {"face", "text", "audio"}
    assert get_entry("face_cnn").lite_parts == {}  # one whole LiteRT file
    assert get_entry("face_au").lite_parts == {}  # no LiteRT build
