"""Split one manifest into training and validation manifests, stratified by label."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import numpy as np

from emozoo.data.custom import AU_COLUMN, MANIFEST_COLUMNS, read_manifest_rows


def split_manifest(
    path: str | Path, out_dir: str | Path, val_fraction: float = 0.2, seed: int = 0
) -> tuple[Path, Path]:
    """Write ``train.csv`` and ``val.csv`` into ``out_dir`` from the manifest ``path``.

    Every label keeps about ``val_fraction`` of its rows for validation (at least one
    when it has two or more). Relative paths are made absolute, so the new files work
    from any folder. The split is fixed by ``seed``.

    >>> train_csv, val_csv = split_manifest("my_data.csv", "runs/mine", 0.2)  # doctest: +SKIP
    """
    path = Path(path).expanduser()
    if not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction must be between 0 and 1, got {val_fraction}")
    rows = read_manifest_rows(path)
    if len(rows) < 2:
        raise ValueError(f"Manifest {path} has {len(rows)} row(s); a split needs at least 2")

    def absolute(value: str) -> str:
        value = (value or "").strip()
        if not value:
            return ""
        file = Path(value).expanduser()
        return str(file if file.is_absolute() else (path.parent / file).resolve())

    by_label: dict[str, list[int]] = defaultdict(list)
    for i, row in enumerate(rows):
        by_label[(row["label"] or "").strip().lower()].append(i)
    rng = np.random.default_rng(seed)
    val_rows: set[int] = set()
    for indices in by_label.values():
        if len(indices) < 2:
            continue
        count = min(len(indices) - 1, max(1, round(len(indices) * val_fraction)))
        val_rows.update(int(i) for i in rng.choice(indices, size=count, replace=False))
    if not val_rows:
        raise ValueError(f"Manifest {path} has too few rows per label to hold any out")
    # the action-unit column only where the manifest gives action units
    with_aus = any((row[AU_COLUMN] or "").strip() for row in rows)
    columns = [*MANIFEST_COLUMNS, *([AU_COLUMN] if with_aus else [])]
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = (out_dir / "train.csv", out_dir / "val.csv")
    for target, keep in zip(paths, (False, True), strict=True):
        with target.open("w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=columns)
            writer.writeheader()
            for i, row in enumerate(rows):
                if (i in val_rows) == keep:
                    writer.writerow(
                        {
                            "face_path": absolute(row["face_path"]),
                            "text": row["text"] or "",
                            "audio_path": absolute(row["audio_path"]),
                            "label": row["label"],
                            **({AU_COLUMN: absolute(row[AU_COLUMN])} if with_aus else {}),
                        }
                    )
    return paths
