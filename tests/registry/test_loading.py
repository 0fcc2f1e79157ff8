"""Building registered models: the card's facts equal the built model's, variable-length
text inputs."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("name", ["face_cnn", "text_minilm", "cnn_lstm_fusion", "audio_whisper"])
def test_info_from_the_card_matches_the_built_model(name):
    from emozoo.registry import model_info

    card, built = model_info(name, build=False), model_info(name, build=True)
    for key in ("params", "inputs", "output", "config"):
        assert card[key] == built[key], key


def test_variable_length_build():
    from emozoo.registry import build_model, get_entry

    model = build_model(get_entry("minilm_cnn_lstm_fusion"), variable_length=True)
    assert model.get_layer("text_encoder").inputs[0].shape == (None, None)
    assert model.get_layer("face_encoder").inputs[0].shape == (None, 48, 48, 1)
    with pytest.raises(ValueError, match="text"):
        build_model(get_entry("face_cnn"), variable_length=True)
