"""Face tracks over time: which box of a step continues which face of the last one."""

from __future__ import annotations

from collections.abc import Sequence

from emozoo.inference.faces import iou


class IoUTracker:
    """Greedy IoU tracking: a box continues the track whose last box it overlaps most.

    A track that goes unmatched for more than ``max_missed`` consecutive steps ends.
    Video analysis (:func:`~emozoo.inference.video.analyze_video`) and live streams
    (:class:`~emozoo.streaming.tracking.FaceTracker`) number their faces with it.

    >>> tracker = IoUTracker()
    >>> tracker.update([(0, 0, 10, 10)]), tracker.update([(1, 0, 10, 10), (50, 50, 10, 10)])
    ([0], [0, 1])
    """

    def __init__(self, iou_threshold: float = 0.3, max_missed: int = 2):
        if not 0 < iou_threshold < 1:
            raise ValueError(f"iou_threshold must be in (0, 1), got {iou_threshold}")
        self.iou_threshold = float(iou_threshold)
        self.max_missed = int(max_missed)
        self._tracks: dict[int, tuple[tuple, int]] = {}  # id -> (last box, missed steps)
        self._next = 0

    def update(self, boxes: Sequence[Sequence[float]]) -> list[int]:
        """Track ids for ``boxes`` (one step); new ids for boxes that match no track."""
        pairs = sorted(
            (
                (iou(box, last), track, i)
                for i, box in enumerate(boxes)
                for track, (last, _) in self._tracks.items()
            ),
            reverse=True,
        )
        matched: dict[int, int] = {}  # box index -> track
        for overlap, track, i in pairs:
            if overlap < self.iou_threshold:
                break
            if i not in matched and track not in matched.values():
                matched[i] = track
        ids = []
        for i, box in enumerate(boxes):
            if i not in matched:
                matched[i] = self._next
                self._next += 1
            ids.append(matched[i])
            self._tracks[matched[i]] = (tuple(box), 0)
        for track, (last, missed) in list(self._tracks.items()):
            if track not in ids:
                if missed + 1 > self.max_missed:
                    del self._tracks[track]
                else:
                    self._tracks[track] = (last, missed + 1)
        return [int(i) for i in ids]


__all__ = ["IoUTracker"]
