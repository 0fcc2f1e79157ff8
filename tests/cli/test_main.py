"""The ``emozoo`` entry points: the console script and ``python -m emozoo``."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import entry_points

import emozoo


def test_console_script_is_installed():
    (script,) = entry_points(group="console_scripts", name="emozoo")
    assert script.value == "emozoo.cli:main"


def test_python_dash_m_runs_the_cli():
    result = subprocess.run(
        [sys.executable, "-m", "emozoo", "list", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert {r["name"] for r in json.loads(result.stdout)} == set(emozoo.list_models())
