"""Start-up of the command line: native (C++) log lines are filtered, the rest passes."""

from __future__ import annotations

import subprocess
import sys


def test_native_log_lines_are_filtered_and_the_rest_passes():
    script = (
        "import os, sys\n"
        "from emozoo.cli.startup import native_logs_filtered\n"
        "with native_logs_filtered():\n"
        "    os.write(2, b'I0000 00:00:1795526107.996630   11534 port.cc:153] oneDNN notice\\n')\n"
        "    os.write(2, b'WARNING: All log messages before absl::InitializeLog() is called\\n')\n"
        "    print('a real warning', file=sys.stderr)\n"
        "    os.write(2, b'E0000 00:00:1795526107.9966   11534 cuda_platform.cc:52] cuInit\\n')\n"
        "print('after the block', file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0
    assert result.stderr.splitlines() == ["a real warning", "after the block"]


def test_commands_that_load_tensorflow_print_no_native_logs():
    result = subprocess.run(
        [sys.executable, "-m", "emozoo", "info", "face_cnn"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "face_cnn" in result.stdout
    assert "I0000" not in result.stderr and "cuInit" not in result.stderr, result.stderr
