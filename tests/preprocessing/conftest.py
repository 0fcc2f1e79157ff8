"""The fused model's preprocessor, shared by the text and multimodal tests."""

from __future__ import annotations

import pytest

import emozoo


@pytest.fixture(scope="module")
def fusion_pre():
    return emozoo.load_preprocessor("cnn_lstm_fusion")
