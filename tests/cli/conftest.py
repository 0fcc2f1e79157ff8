"""The inference tests' fixtures (one recognizer per session, media files made on the fly),
for the commands that run it: ``emozoo predict``, ``video`` and ``demo``."""

from __future__ import annotations

from tests.inference.conftest import astronaut, astronaut_rgb, media, rec, videos

__all__ = ["astronaut", "astronaut_rgb", "media", "rec", "videos"]
