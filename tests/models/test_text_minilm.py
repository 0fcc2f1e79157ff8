"""The shipped text_minilm: it loads offline, and its files are package data."""

from __future__ import annotations

import numpy as np
import pytest

import emozoo
from emozoo.paths import ASSETS_DIR, PROJECT_ROOT


def test_text_minilm_loads_offline(monkeypatch):
    """The shipped weights, vocabulary and config are all that is needed: no network."""
    import socket

    def no_network(*args, **kwargs):
        raise OSError("network access attempted while loading text_minilm")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    model = emozoo.load("text_minilm")
    pre = emozoo.load_preprocessor("text_minilm")
    texts = ["I am so happy today, this is wonderful!", "I'm terrified of what comes next."]
    decoded = pre.decode(model.predict(pre(text=texts), verbose=0), top_k=1)
    assert [d[0][0] for d in decoded] == ["happy", "fear"]
    with pytest.raises(ValueError, match="face"):
        pre(face=np.zeros((48, 48), np.uint8))


def test_notice_and_weights_are_package_data():
    """setup.cfg's package_data globs take the NOTICE, the vocabulary and the weights."""
    import configparser

    from emozoo.registry import get_entry

    config = configparser.ConfigParser()
    config.read(PROJECT_ROOT / "setup.cfg")
    globs = config["options.package_data"]["emozoo"].replace(",", " ").split()
    package = PROJECT_ROOT / "emozoo"
    shipped = {p for pattern in globs for p in package.glob(pattern) if p.is_file()}
    for name in ("text_minilm", "minilm_cnn_lstm_fusion"):
        assert get_entry(name).weights.path in shipped
    assert {ASSETS_DIR / "NOTICE", ASSETS_DIR / "minilm_vocab.txt"} <= shipped
