"""Names of feature caches under ``runs/``: a short hash of what made the features."""

from __future__ import annotations

import hashlib
import json


def digest(*parts, length: int = 10) -> str:
    """The first ``length`` hex digits of the sha256 of ``parts`` as sorted-key JSON.

    Equal parts give equal names across processes, so a cache is reused only when the
    model, data and settings that made it are the same.

    >>> digest({"b": 1, "a": 2}) == digest({"a": 2, "b": 1})
    True
    """
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:length]
