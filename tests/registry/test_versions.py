"""Kept versions of a model's weights: ``name@v1`` beside the card's default version."""

from __future__ import annotations

import numpy as np
import pytest

from emozoo.registry import registry as registry_module
from emozoo.registry.registry import split_version

CARD = {
    "name": "toy",
    "architecture": "face_cnn",
    "modalities": ["face"],
    "description": "version 2",
    "version": "v2",
    "versions": {"v1": {"description": "version 1", "config": {"dropout": 0.5}}},
}


def test_a_kept_version_is_the_card_with_its_own_fields():
    card = dict(CARD)
    cards = registry_module._version_cards(card, "toy.json")
    assert "versions" not in card  # the default's entry does not carry them
    data, where = cards["toy@v1"]
    assert where == "toy.json"
    assert data["name"] == "toy@v1" and data["version"] == "v1"
    assert data["description"] == "version 1" and data["config"] == {"dropout": 0.5}
    assert data["architecture"] == "face_cnn"  # the rest is the default's


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"version": ""}, "names its own"),
        ({"versions": {"v2": {}}}, r"own \(default\) version"),
        ({"versions": {"v1": "weights.h5"}}, "a mapping of fields"),
        ({"versions": ["v1"]}, "must map"),
    ],
)
def test_a_malformed_versions_block_is_refused(change, message):
    with pytest.raises(ValueError, match=message):
        registry_module._version_cards({**CARD, **change}, "toy.json")


def test_split_version():
    assert split_version("cnn_lstm_fusion@v1") == ("cnn_lstm_fusion", "v1")
    assert split_version("cnn_lstm_fusion") == ("cnn_lstm_fusion", None)


def test_a_model_with_one_version_says_so():
    import emozoo

    assert emozoo.model_versions("face_cnn") == {}
    with pytest.raises(emozoo.UnknownModelError, match="one version only"):
        emozoo.registry.get_entry("face_cnn@v1")


# The shipped example: cnn_lstm_fusion v3 (on the three distilled students) keeps v1 and v2.


def test_cnn_lstm_fusion_keeps_v1_and_v2_beside_its_default():
    import emozoo
    from emozoo.registry import get_entry

    versions = emozoo.model_versions("cnn_lstm_fusion")
    assert list(versions) == [get_entry("cnn_lstm_fusion").version, "v1", "v2"]
    assert versions["v1"] == "cnn_lstm_fusion@v1" and versions["v2"] == "cnn_lstm_fusion@v2"
    assert emozoo.model_versions("cnn_lstm_fusion@v1") == versions
    v1 = get_entry("cnn_lstm_fusion@v1")
    assert v1.version == "v1" and v1.encoders["text"] == "text_bilstm"
    assert v1.weights is not None and v1.weights.file == "cnn_lstm_fusion.weights.h5"
    assert v1.recipe["model"] == "cnn_lstm_fusion@v1"  # zoo_configs/cnn_lstm_fusion@v1.yaml
    assert get_entry(f"cnn_lstm_fusion@{v1.version}") is v1
    default = get_entry("cnn_lstm_fusion")
    assert get_entry(f"cnn_lstm_fusion@{default.version}") is default
    v2 = get_entry("cnn_lstm_fusion@v2")
    assert v2.encoders["face"] == "face_vgg" and default.encoders["face"] == "face_vgg_distilled"
    files = {e.weights.file for e in (default, v1, v2) if e.weights is not None}
    assert len(files) == 3  # each version its own weights file
    assert "cnn_lstm_fusion@v1" not in emozoo.list_models()  # one line per model


def test_an_unknown_version_names_the_kept_ones():
    import emozoo

    with pytest.raises(emozoo.UnknownModelError, match="its versions: v3, v1, v2"):
        emozoo.registry.get_entry("cnn_lstm_fusion@v9")


def test_load_by_version_reads_that_versions_weights():
    import emozoo
    from emozoo.registry import get_entry

    by_keyword = emozoo.load("cnn_lstm_fusion", version="v1")
    by_name = emozoo.load("cnn_lstm_fusion@v1")
    for a, b in zip(by_keyword.get_weights(), by_name.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="names version 'v1'"):
        emozoo.load("cnn_lstm_fusion@v1", version="v2")
    # Each version's text encoder holds its own encoder model's values.
    for model, encoder in [
        (by_name, "text_bilstm"),
        (emozoo.load("cnn_lstm_fusion"), get_entry("cnn_lstm_fusion").encoders["text"]),
    ]:
        text_only = ("token_embedding/", "bilstm/")  # the text encoder's own layers
        reference = {w.path: w.numpy() for w in emozoo.load(encoder).weights}
        shared = [w for w in model.weights if w.path.startswith(text_only)]
        assert len(shared) == 7, [w.path for w in shared]  # embedding + 2 x 3 LSTM tensors
        for w in shared:
            np.testing.assert_array_equal(w.numpy(), reference[w.path])
    assert get_entry("cnn_lstm_fusion").encoders["text"] != "text_bilstm"


def test_a_kept_version_runs_through_keras_predict():
    """TensorFlow refuses '@' in a root scope name: the model is named without it."""
    import emozoo

    model = emozoo.load("cnn_lstm_fusion@v1")
    batch = emozoo.load_preprocessor("cnn_lstm_fusion@v1")(text="I am so happy")
    probabilities = model.predict(batch, verbose=0)
    assert probabilities.shape == (1, 7) and "@" not in model.name


def test_a_model_registered_from_a_versioned_base_has_no_version():
    import emozoo

    entry = emozoo.register_model("tmp_fused", base="cnn_lstm_fusion", persist=False)
    try:
        assert entry.version == "" and emozoo.model_versions("tmp_fused") == {}
    finally:
        emozoo.registry.unregister_model("tmp_fused")


def test_the_defaults_own_version_name_reads_its_recipe():
    from emozoo.training.recipe import Recipe

    assert Recipe.for_model("cnn_lstm_fusion@v3").model == "cnn_lstm_fusion"
    assert Recipe.for_model("cnn_lstm_fusion@v1").encoders["text"] == "text_bilstm"
    # zoo_configs/cnn_lstm_fusion@v2.yaml: the speech student's first version
    assert Recipe.for_model("cnn_lstm_fusion@v2").encoders["audio"] == "audio_lstm_distilled@v1"


def test_recognizer_and_cli_take_a_version(capsys):
    from emozoo.cli import main
    from emozoo.inference import EmotionRecognizer

    result = EmotionRecognizer("cnn_lstm_fusion@v1").predict(text="I am so happy")
    assert result.model == "cnn_lstm_fusion@v1" and result.top in result.probabilities
    assert main(["info", "cnn_lstm_fusion@v1"]) == 0
    out = capsys.readouterr().out
    assert "v1: cnn_lstm_fusion@v1 (this)" in out and "(default): cnn_lstm_fusion" in out
    assert main(["list", "*lstm_fusion"]) == 0
    assert "earlier versions stay loadable as cnn_lstm_fusion@v1" in capsys.readouterr().out


def test_writing_a_versions_figures_goes_to_its_block(tmp_path, monkeypatch):
    import dataclasses
    import json

    from emozoo.registry import get_entry, write_weights_card
    from emozoo.registry.registry import builtin_config_path

    card = tmp_path / "cnn_lstm_fusion.json"
    card.write_text(builtin_config_path("cnn_lstm_fusion").read_text())
    before = json.loads(card.read_text())
    monkeypatch.setattr(registry_module, "builtin_config_path", lambda name: card)
    v1 = get_entry("cnn_lstm_fusion@v1")
    monkeypatch.setattr(v1, "weights", v1.weights)  # restored after the test
    changed = dataclasses.replace(v1.weights, metrics={"pairs/test": {"accuracy": 0.5}})
    write_weights_card("cnn_lstm_fusion@v1", changed)
    data = json.loads(card.read_text())
    assert data["versions"]["v1"]["weights"]["metrics"] == {"pairs/test": {"accuracy": 0.5}}
    assert data.get("weights") == before.get("weights")  # the default's are untouched
    assert data["versions"]["v1"]["lite"] == before["versions"]["v1"]["lite"]


def test_list_models_names_kept_versions_after_their_model_on_request():
    import emozoo

    with_versions = emozoo.list_models(versions=True)
    assert "cnn_lstm_fusion@v1" not in emozoo.list_models()
    position = with_versions.index("cnn_lstm_fusion")
    assert with_versions[position + 1 : position + 3] == [
        "cnn_lstm_fusion@v1",
        "cnn_lstm_fusion@v2",
    ]
    assert [n for n in with_versions if "@" not in n] == emozoo.list_models()
    assert "cnn_lstm_fusion@v1" in emozoo.list_models(pretrained=True, versions=True)


def test_versions_of_an_unknown_model_name_the_close_ones():
    import emozoo

    with pytest.raises(emozoo.UnknownModelError, match="cnn_lstm_fusion"):
        emozoo.model_versions("cnn_lstm_fusio")


def test_a_fused_version_keeps_the_encoder_version_it_was_trained_on():
    """cnn_lstm_fusion@v2's head was trained on audio_lstm_distilled v1's embeddings: its
    card names that version, whose design (two LSTMs) differs from the default's."""
    import emozoo
    from emozoo.registry import get_entry

    v2 = get_entry("cnn_lstm_fusion@v2")
    assert v2.encoders["audio"] == v2.weights.encoders["audio"] == "audio_lstm_distilled@v1"
    kept, default = get_entry("audio_lstm_distilled@v1"), get_entry("audio_lstm_distilled")
    assert kept.config["lstm_units"] != default.config["lstm_units"]
    assert v2.config["encoders"]["audio"]["lstm_units"] == kept.config["lstm_units"]
    fused = emozoo.load("cnn_lstm_fusion@v2").get_layer("audio_encoder").get_weights()
    encoder = emozoo.load("audio_lstm_distilled@v1", include_top=False).get_weights()
    assert len(fused) == len(encoder)
    for a, b in zip(fused, encoder, strict=True):
        np.testing.assert_array_equal(a, b)


def test_pinned_name_names_the_version_meant_now():
    from emozoo.registry import get_entry, pinned_name

    default = get_entry("cnn_lstm_fusion").version
    assert pinned_name("cnn_lstm_fusion") == f"cnn_lstm_fusion@{default}"
    assert pinned_name("cnn_lstm_fusion@v1") == "cnn_lstm_fusion@v1"
    assert pinned_name("face_cnn") == "face_cnn"  # one version: no suffix


def test_a_head_file_given_as_weights_loads_with_the_cards_encoders():
    """What `emozoo pretrain cnn_lstm_fusion --out-dir` writes (the head alone, as the
    model ships) loads by path as it does by default."""
    import emozoo
    from emozoo.registry import get_entry, verify_weights

    head_file = verify_weights(get_entry("cnn_lstm_fusion").weights)
    by_path = emozoo.load("cnn_lstm_fusion", weights=head_file)
    default = emozoo.load("cnn_lstm_fusion")
    for a, b in zip(by_path.get_weights(), default.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_pinned_name_of_an_unknown_model_or_version_says_so():
    import emozoo
    from emozoo.registry import pinned_name

    with pytest.raises(emozoo.UnknownModelError, match="face_cn"):
        pinned_name("face_cn")
    with pytest.raises(emozoo.UnknownModelError, match="its versions"):
        pinned_name("cnn_lstm_fusion@v9")
