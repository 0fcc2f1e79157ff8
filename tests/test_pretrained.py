"""Shipped weights: they load offline, match their sha256, and reproduce their card.

Each pretrained model is re-evaluated on test data from ../shared/data and must
reproduce the metrics recorded in its zoo config. The default suite re-checks every
unimodal test set and the fused models' all-modalities pair and face->audio retrieval sets, or, for models whose
recipe records quick-check sets (``... (sample N)``, fixed subsets: the MiniLM models,
minutes per full set on 2 cores), only those; ``-m slow`` re-checks every recorded set
(missing-modality subsets and unimodal references included).
"""

from __future__ import annotations

import pytest

import emozoo
from emozoo.evaluation import evaluate_registered
from emozoo.registry import get_entry, sha256_file, verify_weights

#: Every shipped set of weights: the models' and the earlier versions they keep.
PRETRAINED = emozoo.list_models(pretrained=True, versions=True)
#: Unimodal models whose weights must ship: the design's encoders, the recommended ones
#: and the distilled students.
MUST_SHIP = {
    "face_cnn",
    "face_vgg",
    "text_bilstm",
    "text_minilm",
    "audio_lstm",
    "audio_whisper",
    "face_vgg_distilled",
    "text_bilstm_distilled",
    "audio_lstm_distilled",
}
#: Sets of fused models re-checked by the default (fast) suite; ``-m slow`` checks all.
FAST_PAIR_SETS = ("pairs/test", "retrieval/test:face->audio")
QUICK_MARK = "(sample "


def _quick_sets(name: str) -> list[str]:
    return [s for s in get_entry(name).weights.metrics if QUICK_MARK in s]


def _conditioned(name: str) -> set[str]:
    """Sets heard under a recording condition (noise, phone band...): slow-suite only."""
    sets = get_entry(name).recipe.get("evaluate", {})
    return {
        set_name
        for set_name, specs in sets.items()
        if isinstance(specs, list) and any(len(s) > 2 and "condition" in s[2] for s in specs)
    }


def _fast_sets(name: str) -> list[str] | None:
    """What the default suite re-checks: quick-check subsets, else the fast pair sets,
    else every set but those under recording conditions."""
    if quick := _quick_sets(name):
        return quick
    recorded = get_entry(name).weights.metrics
    fast = [s for s in FAST_PAIR_SETS if s in recorded]
    if fast:
        return fast
    conditioned = _conditioned(name)
    return [s for s in recorded if s not in conditioned] if conditioned else None


def test_unimodal_models_ship_weights():
    missing = MUST_SHIP - set(PRETRAINED)
    assert not missing, f"no shipped weights for {sorted(missing)}"


@pytest.mark.parametrize("name", PRETRAINED)
def test_weights_are_packaged_and_hash_checked(name):
    entry = get_entry(name)
    path = verify_weights(entry.weights)
    assert path.parent.name == "weights" and path.parent.parent.name == "emozoo"
    assert (
        sha256_file(path) == entry.weights.sha256
        and path.stat().st_size == entry.weights.size_bytes
    )
    assert entry.weights.training_data and entry.weights.recipe and entry.weights.metrics
    if len(entry.modalities) > 1:
        # A fused card says what a pair was: pseudo-pairs (matched by label only) or
        # real pairs (recordings of one moment, e.g. RAVDESS AUs + speech).
        assert "REAL pairs" in entry.weights.training_data or (
            "pseudo-pairs" in entry.weights.training_data
            and "not recordings" in entry.weights.training_data
        )


def _check(name: str, sets: list[str] | None):
    recorded = get_entry(name).weights.metrics
    reports = evaluate_registered(name, sets=sets)
    assert set(reports) == (set(sets) if sets else set(recorded))
    for set_name, report in reports.items():
        assert set(report.metrics) == set(recorded[set_name]), set_name
        for metric, value in recorded[set_name].items():
            if isinstance(value, int):  # sample, query and gallery counts
                assert report.metrics[metric] == value, (set_name, metric)
            else:
                assert report.metrics[metric] == pytest.approx(value, abs=0.005), (set_name, metric)


@pytest.mark.parametrize("name", PRETRAINED)
def test_reevaluation_reproduces_the_card(name, data_root):
    _check(name, _fast_sets(name))


@pytest.mark.slow
@pytest.mark.parametrize(
    "name",
    [
        n
        for n in PRETRAINED
        if len(get_entry(n).modalities) > 1 or _quick_sets(n) or _conditioned(n)
    ],
)
def test_reevaluation_of_every_recorded_set(name, data_root):
    _check(name, None)


@pytest.mark.parametrize(
    "name",
    [n for n in PRETRAINED if "weights stored as float16" in (get_entry(n).weights.recipe or "")],
)
def test_float16_weights_load_as_float32(name):
    import h5py
    import numpy as np

    path = verify_weights(get_entry(name).weights)
    with h5py.File(path) as f:
        dtypes = set()
        f.visititems(
            lambda _, item: dtypes.add(item.dtype) if isinstance(item, h5py.Dataset) else None
        )
    assert np.dtype("float16") in dtypes and np.dtype("float32") not in dtypes
    model = emozoo.load(name)
    assert {str(w.dtype) for w in model.weights if "float" in str(w.dtype)} == {"float32"}


@pytest.mark.parametrize("name", PRETRAINED)
def test_card_headline_names_a_recorded_figure_and_its_peer(name):
    entry = get_entry(name)
    headline = entry.headline
    assert headline["metric"] in entry.weights.metrics[headline["set"]]
    assert headline["peer"] and headline["peer_source"] and 0 < headline["peer_value"] <= 1
