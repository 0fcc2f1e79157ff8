"""The canonical emotion label set shared by every emozoo model."""

from __future__ import annotations

from collections.abc import Sequence

#: Canonical labels, in the order every pretrained emozoo model predicts them.
EMOTIONS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")


def resolve_labels(
    labels: Sequence[str] | None = None, num_classes: int | None = None
) -> tuple[str, ...]:
    """Return the label tuple a model head is built for.

    ``labels`` wins when given; ``num_classes`` alone gives ``class_0 .. class_{n-1}``;
    neither gives the canonical :data:`EMOTIONS`.

    >>> resolve_labels(num_classes=2)
    ('class_0', 'class_1')
    """
    if labels is not None:
        if isinstance(labels, str):
            raise TypeError(f"labels must be a sequence of names, not the string {labels!r}")
        labels = tuple(str(label) for label in labels)
        if len(labels) < 2:
            raise ValueError(f"A classifier needs at least 2 labels, got {list(labels)}")
        duplicates = sorted({label for label in labels if labels.count(label) > 1})
        if duplicates:
            raise ValueError(f"Duplicate label names: {duplicates}")
        if num_classes is not None and num_classes != len(labels):
            raise ValueError(f"num_classes={num_classes} disagrees with {len(labels)} labels")
        return labels
    if num_classes is not None:
        if num_classes < 2:
            raise ValueError(f"num_classes must be at least 2, got {num_classes}")
        return tuple(f"class_{i}" for i in range(num_classes))
    return EMOTIONS
