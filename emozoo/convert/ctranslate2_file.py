"""Read a CTranslate2 ``model.bin`` (binary version 6) into NumPy arrays, without CTranslate2.

The format, as CTranslate2's ``ModelSpec._serialize`` writes it (little-endian):
``uint32 version``, a string (``uint16`` length with its NUL, then bytes) naming the
spec, ``uint32 revision``, ``uint32`` variable count, then per variable its name,
``uint8 rank``, ``uint32`` dims, ``uint8`` dtype id, ``uint32`` byte count and the raw
bytes; then ``uint32`` alias count and (alias, target) name pairs. Only plain numbers
are read: nothing is unpickled or executed.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

_DTYPES = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16}
SUPPORTED_VERSION = 6


class CheckpointFormatError(ValueError):
    """The file is not a CTranslate2 model this reader understands; the message says why."""


def read_ctranslate2(data: bytes | str | Path) -> tuple[str, dict[str, np.ndarray]]:
    """``(spec name, {variable name: array})`` of a CTranslate2 model file or its bytes.

    Aliases (tied weights) appear under both names.
    """
    if not isinstance(data, bytes | bytearray):
        data = Path(data).read_bytes()
    offset = 0

    def unpack(fmt: str):
        nonlocal offset
        try:
            (value,) = struct.unpack_from("<" + fmt, data, offset)
        except struct.error:
            raise CheckpointFormatError(f"truncated CTranslate2 file at byte {offset}") from None
        offset += struct.calcsize(fmt)
        return value

    def string() -> str:
        nonlocal offset
        length = unpack("H")
        text = data[offset : offset + length - 1].decode("utf-8", errors="replace")
        offset += length
        return text

    version = unpack("I")
    if version != SUPPORTED_VERSION:
        raise CheckpointFormatError(
            f"CTranslate2 binary version {version}; this reader knows version {SUPPORTED_VERSION}"
        )
    spec = string()
    unpack("I")  # revision
    variables: dict[str, np.ndarray] = {}
    for _ in range(unpack("I")):
        name = string()
        dims = [unpack("I") for _ in range(unpack("B"))]
        dtype_id = unpack("B")
        num_bytes = unpack("I")
        if dtype_id not in _DTYPES:
            raise CheckpointFormatError(f"variable {name!r} has unknown dtype id {dtype_id}")
        dtype = np.dtype(_DTYPES[dtype_id])
        if num_bytes != dtype.itemsize * int(np.prod(dims, dtype=np.int64)) or (
            offset + num_bytes > len(data)
        ):
            raise CheckpointFormatError(f"variable {name!r} has an inconsistent size")
        variables[name] = np.frombuffer(
            data, dtype, count=num_bytes // dtype.itemsize, offset=offset
        ).reshape(dims)
        offset += num_bytes
    for _ in range(unpack("I")):
        alias, target = string(), string()
        variables[alias] = variables[target]
    return spec, variables
