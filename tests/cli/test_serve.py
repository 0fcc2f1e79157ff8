"""``emozoo serve`` on the command line: registered, and a clear error without the extra."""

from __future__ import annotations

import sys

import pytest

from emozoo.cli import COMMAND_MODULES, build_parser, main
from emozoo.serving.server import missing_serve_extra


def test_serve_is_a_sub_command():
    assert "emozoo.cli.serve" in COMMAND_MODULES
    args = build_parser().parse_args(["serve", "--port", "9000", "--cors-origin", "http://a.b"])
    assert (args.host, args.port, args.model, args.cors_origin) == (
        "127.0.0.1",
        9000,
        "cnn_lstm_fusion",
        ["http://a.b"],
    )


def test_without_the_serve_extra_the_error_says_what_to_install(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # as if it were not installed
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert "uvicorn is not installed" in err and 'pip install "emozoo[serve]"' in err


@pytest.mark.skipif(missing_serve_extra() is not None, reason="needs the serve extra")
def test_bad_limits_are_refused_before_the_model_loads(capsys):
    assert main(["serve", "--timeout", "0"]) == 2
    assert "request_timeout_s must be positive" in capsys.readouterr().err
