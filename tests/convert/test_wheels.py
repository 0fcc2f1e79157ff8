"""Fetching checkpoint wheels: cached files are used as they are, pip failures are explained."""

from __future__ import annotations

import subprocess

import pytest

from emozoo.convert import wheels


def test_cached_wheels_are_returned_without_calling_pip(tmp_path, monkeypatch):
    for name in ("a-1.0-py3-none-any.whl", "b-1.0-py3-none-any.whl"):
        (tmp_path / name).write_bytes(b"PK")
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: pytest.fail("pip was called"))
    paths = wheels.pip_download(
        ["a==1.0", "b==1.0"], ["a-1.0-py3-none-any.whl", "b-1.0-py3-none-any.whl"], tmp_path
    )
    assert [p.name for p in paths] == ["a-1.0-py3-none-any.whl", "b-1.0-py3-none-any.whl"]


def test_a_failed_download_names_the_wheels_and_shows_pips_output(tmp_path, monkeypatch):
    calls = []

    def failing_pip(command, **kwargs):
        calls.append(command)
        return subprocess.CompletedProcess(command, 1, "", "ERROR: No matching distribution")

    monkeypatch.setattr(subprocess, "run", failing_pip)
    with pytest.raises(RuntimeError, match=r"pip download a==1\.0 failed \(exit 1\)") as error:
        wheels.pip_download(["a==1.0"], ["a-1.0-py3-none-any.whl"], tmp_path / "cache")
    assert "No matching distribution" in str(error.value)
    assert calls[0][-1] == "a==1.0" and "--no-deps" in calls[0]


def test_pip_succeeding_without_the_expected_file_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setattr(
        subprocess, "run", lambda command, **k: subprocess.CompletedProcess(command, 0, "", "")
    )
    with pytest.raises(RuntimeError, match="exit 0"):
        wheels.pip_download(["a==1.0"], ["a-1.0-py3-none-any.whl"], tmp_path)
