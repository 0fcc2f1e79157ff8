"""Small input files for the facial action-unit tests."""

from __future__ import annotations

from pathlib import Path

from emozoo.preprocessing import AU_NAMES


def openface_csv(path: Path, rows) -> Path:
    """An OpenFace 2 FeatureExtraction CSV: names padded with a space, as it writes them.

    ``rows`` holds ``(time, confidence, success, value)`` per frame; every AU gets ``value``.
    """
    header = ["frame", "face_id", "timestamp", "confidence", "success", *AU_NAMES]
    lines = [", ".join(header)]
    for frame, (time, confidence, success, value) in enumerate(rows, start=1):
        aus = [value] * len(AU_NAMES)
        lines.append(", ".join(str(v) for v in [frame, 0, time, confidence, success, *aus]))
    path.write_text("\n".join(lines) + "\n")
    return path
