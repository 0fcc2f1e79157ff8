"""Keep TensorFlow's native log lines off the command line's output.

TensorFlow 2.21 logs through absl before Python can configure it, so
``TF_CPP_MIN_LOG_LEVEL`` does not silence lines such as the oneDNN notice or
``failed call to cuInit`` on a machine without a GPU. While a command runs, its
standard error (file descriptor 2, which C++ writes to as well) goes through a
filter that drops those native log lines and passes everything else: the
command's own messages, Python warnings and tracebacks. ``EMOZOO_TF_LOGS=1`` keeps
the native logs.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import threading
from collections.abc import Iterator

#: absl/glog lines ("I0000 00:00:1795... port.cc:153] ...") and their known companions.
NATIVE_LOG_LINE = re.compile(
    rb"^([IWEF]\d{4} \d\d:\d\d:[\d.]+ +\d+ \S+:\d+\]"
    rb"|WARNING: All log messages before absl::InitializeLog"
    rb"|To enable the following instructions:)"
)


@contextlib.contextmanager
def native_logs_filtered() -> Iterator[None]:
    """Drop TensorFlow's native log lines from standard error inside the block."""
    if os.environ.get("EMOZOO_TF_LOGS"):
        yield
        return
    sys.stderr.flush()
    real_stderr = os.dup(2)
    read_end, write_end = os.pipe()
    os.dup2(write_end, 2)
    os.close(write_end)

    def pump() -> None:
        with os.fdopen(read_end, "rb") as source, os.fdopen(real_stderr, "wb", 0) as sink:
            for line in source:
                if not NATIVE_LOG_LINE.match(line):
                    sink.write(line)

    thread = threading.Thread(target=pump, name="emozoo-stderr-filter", daemon=True)
    thread.start()
    try:
        yield
    finally:
        sys.stderr.flush()
        restored = os.dup(real_stderr)
        os.dup2(restored, 2)  # closes the pipe's last write end: the pump sees EOF
        os.close(restored)
        thread.join(timeout=5)
