"""The inference planner: head rows deduplicated, one head call per set of modalities,
and the rows a prediction (with contributions) asks for."""

from __future__ import annotations

import numpy as np
import pytest

from emozoo.inference.batching import HeadPlan, mean_probabilities, plan_prediction, plan_rows


class RecordingRunner:
    """A stand-in runner: a row's 'probabilities' are its features laid side by side
    (so a test can see which bank rows it got); every classify call is recorded."""

    labels = ("a", "b", "c")

    def __init__(self):
        self.calls: list[dict[str, list[float]]] = []

    def classify(self, features):
        self.calls.append({m: v[:, 0].tolist() for m, v in features.items()})
        n = len(next(iter(features.values())))
        out = np.zeros((n, len(self.labels)), np.float32)
        for k, m in enumerate(sorted(features)):
            out[:, k] = features[m][:, 0]
        return out


def banks() -> dict[str, np.ndarray]:
    """Bank row ``i`` of modality ``m`` holds the value ``base[m] + i``."""
    base = {"audio": 100.0, "face": 200.0, "text": 300.0}
    return {m: (b + np.arange(4, dtype=np.float32))[:, None] for m, b in base.items()}


def test_rows_asked_for_twice_run_once():
    plan = HeadPlan()
    first = plan.add({"face": 1, "text": 0})
    assert plan.add({"text": 0, "face": 1}) == first  # the same row, in any key order
    assert plan.add({"face": 1, "text": 0, "audio": None}) == first  # None: absent
    assert plan.add({"face": 2}) == 1 and len(plan) == 2
    with pytest.raises(ValueError, match="at least one modality"):
        plan.add({"face": None})


def test_one_head_call_per_set_of_modalities_in_order():
    plan = HeadPlan()
    rows = [
        plan.add({"face": 0, "audio": 1}),
        plan.add({"text": 2}),
        plan.add({"audio": 3, "face": 1}),
        plan.add({"text": 0}),
    ]
    assert plan.groups() == {("audio", "face"): [0, 2], ("text",): [1, 3]}
    runner = RecordingRunner()
    out = plan.run(runner, banks())
    assert runner.calls == [
        {"audio": [101.0, 103.0], "face": [200.0, 201.0]},
        {"text": [302.0, 300.0]},
    ]
    assert out.shape == (4, 3) and out.dtype == np.float32
    np.testing.assert_array_equal(out[rows[2]], [103.0, 201.0, 0.0])  # audio, face
    np.testing.assert_array_equal(out[rows[1]], [302.0, 0.0, 0.0])
    empty = RecordingRunner()
    assert HeadPlan().run(empty, {}).shape == (0, 3) and empty.calls == []


def test_rows_of_every_combination_first_modality_slowest():
    plan = HeadPlan()
    indices = plan_rows(plan, {"face": [0, 1], "audio": [2, 3]})
    runner = RecordingRunner()
    out = plan.run(runner, banks())
    assert runner.calls == [
        {"audio": [102.0, 103.0, 102.0, 103.0], "face": [200.0] * 2 + [201.0] * 2}
    ]
    assert out[indices, 1].tolist() == [200.0, 200.0, 201.0, 201.0]


def test_a_prediction_asks_for_its_rows_and_shares_the_same_ones():
    plan = HeadPlan()
    # A text and two audio windows: the prediction averages over the windows.
    rows = plan_prediction(plan, {"text": [0], "audio": [1, 2]}, contributions=True)
    assert len(rows.full) == 2 and set(rows.without) == set(rows.alone) == {"text", "audio"}
    assert rows.without["text"] == rows.alone["audio"]  # the audio alone, planned once
    assert rows.without["audio"] == rows.alone["text"]
    assert len(plan) == 2 + 2 + 1  # text+audio windows, audio windows, text
    probabilities = plan.run(RecordingRunner(), banks())
    full = mean_probabilities(probabilities, rows.full)
    np.testing.assert_allclose(full, [101.5, 300.0, 0.0])  # mean over the windows
    # One modality: leave-one-out leaves nothing, and "alone" is the prediction itself.
    single = plan_prediction(plan, {"text": [3]}, contributions=True)
    assert single.without == {"text": None} and single.alone == {}
    assert plan_prediction(plan, {"text": [3]}, contributions=False).without == {}


def test_the_recognizer_and_a_direct_head_call_agree(rec):
    """Planned rows give what classifying the same features directly gives."""
    runner = rec.runner
    pre = runner.preprocessor
    texts, faces = ["so happy", "this is awful"], np.zeros((2, 48, 48), np.uint8)
    bank = {
        "text": runner.encode("text", pre.text(texts)),
        "face": runner.encode("face", pre.face(faces)),
    }
    plan = HeadPlan()
    both = [plan.add({"text": i, "face": i}) for i in range(2)]
    alone = [plan.add({"text": i}) for i in range(2)]
    out = plan.run(runner, bank)
    np.testing.assert_allclose(out[both], runner.classify(bank), atol=1e-6)
    np.testing.assert_allclose(out[alone], runner.classify({"text": bank["text"]}), atol=1e-6)
