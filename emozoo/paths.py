"""Where emozoo finds its package assets and the (never packaged) datasets."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
ASSETS_DIR = PACKAGE_DIR / "assets"
WEIGHTS_DIR = PACKAGE_DIR / "weights"
PROJECT_ROOT = PACKAGE_DIR.parent
#: The hand-written training recipes, ``<name>.yaml`` per pretrained model (a source
#: checkout's folder, beside ``emozoo/``; not installed with the package).
ZOO_CONFIGS_DIR = PROJECT_ROOT / "zoo_configs"


def data_dir() -> Path:
    """Root of the emotion datasets: ``$EMOZOO_DATA_DIR`` if set, else ``../shared/data``.

    The default is resolved beside the project root (the folder holding ``emozoo/``).
    The directory may not exist; callers decide whether that is an error or a skip.
    """
    env = os.environ.get("EMOZOO_DATA_DIR")
    if env:
        return Path(env).expanduser().resolve()
    return (PROJECT_ROOT.parent / "shared" / "data").resolve()


def emozoo_home() -> Path:
    """Where emozoo keeps the user's own things: ``$EMOZOO_HOME``, else ``~/.emozoo``.

    Holds ``models/``: the JSON entries (and, by default, the ``.keras`` files) of models
    registered with ``emozoo.register_model``, so registrations outlive the session.
    The folder is created only when something is written into it.
    """
    env = os.environ.get("EMOZOO_HOME")
    return Path(env).expanduser().resolve() if env else Path("~/.emozoo").expanduser()
