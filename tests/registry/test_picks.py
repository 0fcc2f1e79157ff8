"""Which model to pick: the most accurate and the fastest, read from the cards."""

from __future__ import annotations

import copy

import pytest

from emozoo.registry import get_entry
from emozoo.registry.picks import ModelPick, model_picks


def _pick(task: str) -> ModelPick:
    return next(p for p in model_picks() if p.task == task)


def test_each_kind_of_input_names_its_most_accurate_model_from_the_cards():
    speech = _pick("speech")
    assert speech.test_set == "ravdess_speech/test" and speech.metric == "accuracy"
    figures = {
        name: get_entry(name).weights.metrics["ravdess_speech/test"]["accuracy"]
        for name in ("audio_lstm", "audio_lstm_distilled", "audio_whisper")
    }
    assert speech.most_accurate == max(figures, key=figures.get)
    assert speech.accuracy == figures[speech.most_accurate]
    fused = _pick("face + text + speech")
    assert fused.most_accurate == "vgg_minilm_whisper_fusion"
    real = _pick("facial action units + speech")
    assert "au_whisper_fusion_per_speaker" in real.needs_speakers
    assert "several recordings per person" in real.describe()
    # The most accurate needs speakers: the best single-clip model is named too.
    assert real.most_accurate in real.needs_speakers
    assert real.per_clip is not None and real.per_clip not in real.needs_speakers
    assert f"for one clip at a time: {real.per_clip}" in real.describe()
    assert _pick("speech").per_clip is None


@pytest.fixture
def timed(monkeypatch):
    """Two speech models with a recorded LiteRT latency, restored afterwards."""

    def set_ratio(name: str, ratio: float) -> None:
        entry = get_entry(name)
        lite = copy.deepcopy(entry.lite) or {"format": "file"}
        lite["latency"] = {"ratio_to_fer": ratio}
        monkeypatch.setattr(entry, "lite", lite)

    return set_ratio


def test_the_fastest_is_the_lowest_measured_ratio(timed):
    timed("audio_whisper", 350.0)
    timed("audio_lstm", 12.0)
    timed("audio_lstm_distilled", 20.0)
    speech = _pick("speech")
    assert speech.fastest == "audio_lstm" and speech.fastest_ratio == 12.0
    assert (
        speech.fastest_figure
        == get_entry("audio_lstm").weights.metrics["ravdess_speech/test"]["accuracy"]
    )
    assert "fastest audio_lstm (12x fer's face classifier" in speech.describe()
    timed("audio_lstm_distilled", 12.5)  # as fast within timing noise, and more accurate
    assert _pick("speech").fastest == "audio_lstm_distilled"
    timed("audio_lstm", 400.0)
    timed("audio_lstm_distilled", 400.0)
    assert "also the fastest (350x" in _pick("speech").describe()
