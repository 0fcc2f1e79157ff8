"""A small 4-label multimodal data set "of your own", built from the shared datasets,
to try fine-tuning end to end (``tools/finetune_demo.py`` and the tests use it).

Each row of ``train.csv`` / ``val.csv`` / ``test.csv`` joins a FER2013 face (written as a
PNG file), a GoEmotions comment and a RAVDESS clip that share a label, under the labels
``calm, happy, sad, angry`` (calm = the datasets' neutral, and RAVDESS's calm). Like the
project's pseudo-pairs these rows are matched by label, not recorded together. A share
of rows lacks one or two modalities. Splits come from the sources' own splits (faces:
Training / PublicTest / PrivateTest; RAVDESS actors 1-18 / 19-20 / 21-24), so no item
of ``test.csv`` is in ``train.csv``.
"""

from __future__ import annotations

import csv
from pathlib import Path

import cv2
import numpy as np

DEMO_LABELS: tuple[str, ...] = ("calm", "happy", "sad", "angry")
#: canonical label -> demo label.
DEMO_MAP = {"neutral": "calm", "happy": "happy", "sad": "sad", "angry": "angry"}
_SOURCES = {"face": "fer2013", "text": "goemotions", "audio": "ravdess_speech"}


def _face_cell(face, out_dir: Path, stem: Path) -> dict:
    relative = Path("faces") / stem.with_suffix(".png")
    (out_dir / relative).parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out_dir / relative), face)
    return {"face_path": relative.as_posix()}


#: What a kept modality writes into a manifest row: ``cell(item, out_dir, split/label/index)``.
_CELLS = {
    "face": _face_cell,
    "text": lambda text, out_dir, stem: {"text": text},
    "audio": lambda path, out_dir, stem: {"audio_path": path},
}


def make_demo_manifests(
    out_dir: str | Path,
    per_label: dict[str, int] | None = None,
    missing: float = 0.3,
    seed: int = 0,
    root: str | Path | None = None,
) -> dict[str, Path]:
    """Write ``train.csv``, ``val.csv`` and ``test.csv`` (and the face PNGs) into ``out_dir``.

    Args:
        per_label: rows per label and split (default 60 / 20 / 40).
        missing: share of rows with one or two modalities left empty.
        root: the datasets' folder (default :func:`emozoo.paths.data_dir`).

    Returns:
        ``{split: manifest path}``.

    Raises:
        DatasetNotFoundError: a source dataset is absent.

    >>> paths = make_demo_manifests("demo_data")  # doctest: +SKIP
    """
    from emozoo.data import load_source

    per_label = {"train": 60, "val": 20, "test": 40, **(per_label or {})}
    if not 0 <= missing < 1:
        raise ValueError(f"missing must be in [0, 1), got {missing}")
    out_dir = Path(out_dir)
    rng = np.random.default_rng(seed)
    paths = {}
    for split, count in per_label.items():
        if count < 1:
            raise ValueError(f"per_label[{split!r}] must be positive, got {count}")
        sources = {m: load_source(name, split, root=root) for m, name in _SOURCES.items()}
        pools = {}
        for modality, records in sources.items():
            names = np.array(records.label_names)[records.labels]
            pools[modality] = {
                demo: np.flatnonzero(names == canonical) for canonical, demo in DEMO_MAP.items()
            }
            empty = [label for label, items in pools[modality].items() if not len(items)]
            if empty:
                raise ValueError(f"{records.name}/{split} has no items for {empty}")
        rows = []

        for label in DEMO_LABELS:
            picks = {
                m: rng.choice(pools[m][label], size=count, replace=count > len(pools[m][label]))
                for m in _SOURCES
            }
            for i in range(count):
                keep = {"face", "text", "audio"}
                if rng.random() < missing:
                    dropped = rng.choice(
                        ["face", "text", "audio"], size=rng.integers(1, 3), replace=False
                    )
                    keep -= set(dropped.tolist())
                row = {"face_path": "", "text": "", "audio_path": "", "label": label}
                for modality in keep:
                    row.update(
                        _CELLS[modality](
                            sources[modality].items[picks[modality][i]],
                            out_dir,
                            Path(split) / label / f"{i:04d}",
                        )
                    )
                rows.append(row)
        order = rng.permutation(len(rows))
        path = out_dir / f"{split}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=["face_path", "text", "audio_path", "label"])
            writer.writeheader()
            writer.writerows(rows[i] for i in order)
        paths[split] = path
    return paths
