"""What machine a benchmark ran on: CPU model, vector flags, cores and load.

Speed figures differ from machine to machine (the same int8 file took 6.1 ms on a core
with AVX-512 and 18.0 ms on one with AVX2 only), so every benchmark's JSON line carries
:func:`machine_info` and every speed goal is a ratio measured in one run.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

#: The x86 and Arm vector extensions that decide how fast float32 and int8 kernels run.
VECTOR_FLAGS = (
    "sse4_2",
    "avx",
    "avx2",
    "fma",
    "f16c",
    "avx512f",
    "avx512bw",
    "avx512vl",
    "avx512_vnni",
    "avx512_bf16",
    "avx_vnni",
    "amx_tile",
    "asimd",
    "asimddp",
    "sve",
)


def _cpuinfo(path: Path = Path("/proc/cpuinfo")) -> tuple[str, set[str]]:
    model, flags = "", set[str]()
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return model, flags
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip().lower()
        if key in ("model name", "cpu model", "hardware") and not model:
            model = value.strip()
        elif key in ("flags", "features") and not flags:
            flags = set(value.split())
    return model, flags


def machine_info() -> dict:
    """The CPU's model name and vector flags, the core count and the 1-minute load.

    >>> sorted(machine_info())
    ['cpu_count', 'cpu_model', 'load_average_1m', 'machine', 'vector_flags']
    """
    model, flags = _cpuinfo()
    return {
        "cpu_model": model or platform.processor() or platform.machine(),
        "vector_flags": [flag for flag in VECTOR_FLAGS if flag in flags],
        "cpu_count": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
        "machine": platform.machine(),
    }
