"""One EmotionRecognizer shared by many threads answers exactly as it does alone."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from emozoo import EmotionRecognizer
from emozoo.inference.demo import sample_path

TEXTS = ["I can't believe this happened!", "What a lovely surprise", "I am so scared"]


def _calls():
    photo = str(sample_path("astronaut.jpg"))
    clip = str(sample_path("happy.wav"))
    calls = []
    for i in range(15):
        calls.append({"image": photo, "text": TEXTS[i % 3], "audio": clip if i % 2 else None})
    return calls


def _fingerprint(result) -> tuple:
    """Every probability of the answer, faces included, as exact float32 values."""

    def values(probabilities) -> tuple:
        return tuple(np.float32(p) for _, p in sorted(probabilities.items()))

    return (values(result.probabilities), tuple(values(f.probabilities) for f in result.faces))


def test_eight_threads_give_the_single_threaded_answers():
    rec = EmotionRecognizer("cnn_lstm_fusion")  # fresh: nothing built before the threads
    calls = _calls() * 8
    with ThreadPoolExecutor(max_workers=8) as pool:
        threaded = list(pool.map(lambda kw: _fingerprint(rec.predict(**kw)), calls))
    alone = [_fingerprint(rec.predict(**kw)) for kw in _calls()]
    mismatches = [i for i, got in enumerate(threaded) if got != alone[i % len(alone)]]
    assert not mismatches, f"{len(mismatches)} of {len(calls)} threaded calls differ"


def test_threads_first_asking_for_unknown_tokens_all_get_the_answer():
    """The vocabulary ids are read once, on first use; threads arriving meanwhile wait."""
    import sys
    import threading

    from emozoo.preprocessing.text import TextPreprocessor

    # MiniLM's 30k-token vocabulary, frequent thread switches and several fresh
    # preprocessors: a wide window for a thread to find the ids half read.
    def fresh():
        return TextPreprocessor("minilm_vocab.txt", start_token="[CLS]", end_token="[SEP]")

    ids = fresh()(["I am furious", "🙃🙃 🙃", "我今天非常生气"])
    alone = fresh().unknown_only(ids).tolist()
    assert True in alone and False in alone

    def ask_together(pre, barrier):
        barrier.wait()
        return pre.unknown_only(ids).tolist()

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for _ in range(10):
            pre, barrier = fresh(), threading.Barrier(8)
            with ThreadPoolExecutor(max_workers=8) as pool:
                answers = list(pool.map(ask_together, [pre] * 8, [barrier] * 8))
            assert answers == [alone] * 8
    finally:
        sys.setswitchinterval(interval)
