"""Where emozoo finds its package assets and the (never packaged) datasets."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
ASSETS_DIR = PACKAGE_DIR / "assets"
WEIGHTS_DIR = PACKAGE_DIR / "weights"
PROJECT_ROOT = PACKAGE_DIR.parent


def data_dir() -> Path:
    """Root of the emotion datasets: ``$EMOZOO_DATA_DIR`` if set, else ``../shared/data``.

    The default is resolved beside the project root (the folder holding ``emozoo/``).
    The directory may not exist; callers decide whether that is an error or a skip.
    """
    env = os.environ.get("EMOZOO_DATA_DIR")
    if env:
        return Path(env).expanduser().resolve()
    return (PROJECT_ROOT.parent / "shared" / "data").resolve()
