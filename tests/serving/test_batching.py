"""The micro-batcher: requests queued together share one model call; one bad sample
fails only its own request; a full queue refuses at once."""

from __future__ import annotations

import threading

import pytest

from emozoo.serving.batching import MicroBatcher, QueueFull, Sample, SampleError


class GatedRecognizer:
    """Answers texts with their length; the first call waits for ``gate`` (so that
    requests pile up behind it), and the text "bad" is unusable."""

    model_name = "stub"
    modalities = ("text",)

    def __init__(self):
        self.gate = threading.Event()
        self.entered = threading.Event()
        self.calls: list[list[str]] = []

    def predict_batch(self, images, texts, audios, detect_faces=None, contributions=False):
        self.entered.set()
        self.gate.wait(10)
        self.calls.append(list(texts))
        if "bad" in texts:
            raise ValueError("item 0: bad text")
        return [len(t) for t in texts]

    def predict(self, image=None, text=None, audio=None, detect_faces=None):
        self.calls.append([text])
        if text == "bad":
            raise ValueError("bad text")
        return len(text)


@pytest.fixture
def stub():
    recognizer = GatedRecognizer()
    yield recognizer
    recognizer.gate.set()


def test_requests_waiting_together_run_as_one_batch(stub):
    batcher = MicroBatcher(stub, queue_size=16, max_batch=32)
    batcher.start()
    first = batcher.submit([Sample(text="a")])
    assert stub.entered.wait(10)  # the worker holds the first request
    waiting = [batcher.submit([Sample(text="b" * n)]) for n in range(1, 6)]
    stub.gate.set()
    assert first.result(10) == [1]
    assert [f.result(10) for f in waiting] == [[1], [2], [3], [4], [5]]
    assert stub.calls == [["a"], ["b", "bb", "bbb", "bbbb", "bbbbb"]]
    batcher.stop()


def test_a_bad_sample_fails_only_its_own_request(stub):
    batcher = MicroBatcher(stub, queue_size=16, max_batch=32)
    batcher.start()
    first = batcher.submit([Sample(text="a")])
    assert stub.entered.wait(10)
    good, bad, other = (batcher.submit([Sample(text=t)]) for t in ("ok", "bad", "fine"))
    stub.gate.set()
    assert first.result(10) == [1]
    assert good.result(10) == [2] and other.result(10) == [4]
    with pytest.raises(SampleError, match="bad text"):
        bad.result(10)
    batcher.stop()


def test_batches_are_cut_at_max_batch(stub):
    batcher = MicroBatcher(stub, queue_size=16, max_batch=2)
    batcher.start()
    batcher.submit([Sample(text="a")])
    assert stub.entered.wait(10)
    waiting = [batcher.submit([Sample(text=t)]) for t in ("b", "c", "d")]
    stub.gate.set()
    for future in waiting:
        future.result(10)
    assert stub.calls == [["a"], ["b", "c"], ["d"]]
    batcher.stop()


def test_a_full_queue_refuses_at_once(stub):
    batcher = MicroBatcher(stub, queue_size=2, max_batch=1)
    batcher.start()
    batcher.submit([Sample(text="a")])
    assert stub.entered.wait(10)
    batcher.submit([Sample(text="b")])
    batcher.submit([Sample(text="c")])
    with pytest.raises(QueueFull):
        batcher.submit([Sample(text="d")])
    stub.gate.set()
    batcher.stop()


def test_stop_finishes_the_queued_jobs(stub):
    batcher = MicroBatcher(stub, queue_size=8, max_batch=1)
    batcher.start()
    futures = [batcher.submit([Sample(text="x" * n)]) for n in (1, 2, 3)]
    stub.gate.set()
    batcher.stop(timeout=10)
    assert [f.result(0) for f in futures] == [[1], [2], [3]]
    assert not batcher.running


def test_batching_is_used_only_where_it_pays(rec):
    from emozoo.serving.batching import BATCH_WHERE_IT_PAYS, default_max_batch

    assert default_max_batch(rec) == 1  # LiteRT runs the network row by row
    assert default_max_batch(GatedRecognizer()) == BATCH_WHERE_IT_PAYS


def test_the_runner_says_whether_batching_pays():
    """The batcher asks the runner (the Runner protocol), whatever its class."""
    from types import SimpleNamespace

    from emozoo.serving.batching import BATCH_WHERE_IT_PAYS, default_max_batch

    for prefers, expected in ((True, BATCH_WHERE_IT_PAYS), (False, 1)):
        recognizer = SimpleNamespace(runner=SimpleNamespace(prefers_batching=prefers))
        assert default_max_batch(recognizer) == expected
