"""The optimiser of every run: AdamW under linear warm-up then cosine decay."""

from __future__ import annotations

import pytest

from emozoo.training import compile_for_training


def test_compile_schedule_warms_up_then_decays():
    import emozoo

    model = emozoo.load("face_cnn", weights=None)
    compile_for_training(model, steps_per_epoch=10, epochs=5, learning_rate=1e-3, warmup_epochs=1)
    schedule = (
        model.optimizer.learning_rate
        if callable(model.optimizer.learning_rate)
        else model.optimizer._learning_rate
    )
    values = [float(schedule(step)) for step in (0, 10, 49)]
    assert values[0] < values[1] == pytest.approx(1e-3, rel=1e-3) and values[2] < 1e-4
