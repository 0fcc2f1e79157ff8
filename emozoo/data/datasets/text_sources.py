"""Text datasets: CARER, GoEmotions (Ekman mapping) and MELD utterances."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from emozoo.data.datasets.common import encode_source_labels, read_csv, resolve_split, source_root
from emozoo.data.label_maps import CARER_LABELS
from emozoo.data.records import Records


def load_carer(
    split: str, root: str | Path | None = None, labels: str | Sequence[str] = "canonical"
) -> Records:
    """CARER tweets, ``train`` / ``validation`` / ``test``.

    ``labels="native"`` keeps its 6 labels (sadness, joy, love, anger, fear, surprise);
    the default maps them to canonical (joy and love -> happy).
    """
    name = "carer_emotion"
    split = resolve_split(name, split, ("train", "validation", "test"), {"val": "validation"})
    rows = read_csv(source_root(name, root) / f"{split}.csv")
    indices, label_names = encode_source_labels(
        name, [r["label"] for r in rows], labels, native=CARER_LABELS
    )
    return Records(name, split, "text", [r["text"] for r in rows], indices, label_names)


def load_goemotions(
    split: str,
    root: str | Path | None = None,
    labels: str | Sequence[str] = "canonical",
    multi_label: str = "drop",
) -> Records:
    """GoEmotions Reddit comments under the Ekman mapping, ``train`` / ``dev`` / ``test``.

    About 9% of rows carry more than one Ekman label. ``multi_label="drop"`` (default)
    leaves them out; ``"first"`` keeps the first listed label. Either way the count is
    in ``records.report["multi_label_rows"]``.
    """
    name = "goemotions"
    if multi_label not in ("drop", "first"):
        raise ValueError(f"multi_label must be 'drop' or 'first', got {multi_label!r}")
    split = resolve_split(name, split, ("train", "dev", "test"), {"val": "dev"})
    rows = read_csv(source_root(name, root) / f"{split}.csv")
    texts, names, multi = [], [], 0
    for row in rows:
        ekman = [label for label in row["ekman_labels"].split(",") if label]
        if len(ekman) > 1:
            multi += 1
            if multi_label == "drop":
                continue
        texts.append(row["text"])
        names.append(ekman[0])
    indices, label_names = encode_source_labels(name, names, labels)
    report = {"rows": len(rows), "multi_label_rows": multi, f"multi_label_{multi_label}": multi}
    return Records(name, split, "text", texts, indices, label_names, report)


def load_meld(
    split: str,
    root: str | Path | None = None,
    labels: str | Sequence[str] = "canonical",
    context: int = 0,
) -> Records:
    """MELD utterances (7 emotions), ``train`` / ``dev`` / ``test``.

    ``context`` > 0 prepends up to that many previous utterances of the same dialogue,
    joined by `` | ``.
    """
    name = "meld_text"
    split = resolve_split(name, split, ("train", "dev", "test"), {"val": "dev"})
    rows = read_csv(source_root(name, root) / f"{split}_sent_emo.csv")
    texts = []
    for i, row in enumerate(rows):
        previous = [
            r["Utterance"]
            for r in rows[max(0, i - context) : i]
            if context and r["Dialogue_ID"] == row["Dialogue_ID"]
        ]
        texts.append(" | ".join([*previous, row["Utterance"]]))
    indices, label_names = encode_source_labels(name, [r["Emotion"] for r in rows], labels)
    return Records(name, split, "text", texts, np.asarray(indices), label_names)
