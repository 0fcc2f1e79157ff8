"""Shared fixtures. Keep TensorFlow's C++ logging quiet before anything imports it."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def emozoo_home(tmp_path_factory) -> Path:
    """User registrations go to a throw-away ``$EMOZOO_HOME``, never to ``~/.emozoo``."""
    home = tmp_path_factory.mktemp("emozoo_home")
    previous = os.environ.get("EMOZOO_HOME")
    os.environ["EMOZOO_HOME"] = str(home)
    yield home
    if previous is None:
        os.environ.pop("EMOZOO_HOME", None)
    else:
        os.environ["EMOZOO_HOME"] = previous


@pytest.fixture(scope="session")
def data_root() -> Path:
    """The shared datasets; tests that need them skip with a reason when absent."""
    from emozoo.paths import data_dir

    root = data_dir()
    if not root.is_dir():
        pytest.skip(f"datasets not found at {root} (set EMOZOO_DATA_DIR or provide ../shared/data)")
    return root


@pytest.fixture(scope="session")
def backend() -> str:
    import keras

    return keras.backend.backend()
