"""Drawing a live analysis on its frames, and showing them in a window when there is a display."""

from __future__ import annotations

import contextlib
import os
import sys

import cv2
import numpy as np

#: BGR colours of the labels (by their index in the model's label list).
PALETTE = (
    (60, 60, 230),  # red
    (60, 160, 60),  # green
    (170, 80, 170),  # purple
    (40, 200, 240),  # yellow
    (200, 120, 40),  # blue
    (40, 140, 250),  # orange
    (170, 170, 170),  # grey
)
FONT = cv2.FONT_HERSHEY_SIMPLEX


def _colour(index: int) -> tuple[int, int, int]:
    return PALETTE[index % len(PALETTE)]


def _label_text(image, text: str, x: int, y: int, colour, scale: float = 0.55) -> None:
    (width, height), base = cv2.getTextSize(text, FONT, scale, 1)
    y = max(height + 4, y)
    cv2.rectangle(image, (x, y - height - 4), (x + width + 6, y + base - 2), colour, cv2.FILLED)
    cv2.putText(image, text, (x + 3, y - 3), FONT, scale, (255, 255, 255), 1, cv2.LINE_AA)


def draw_result(bgr: np.ndarray, result, labels, status: str = "") -> np.ndarray:
    """A copy of the frame with each face's box, its emotion, its probabilities as bars,
    the audio's emotion and a ``status`` line."""
    image = bgr.copy()
    height, width = image.shape[:2]
    for row in result.rows:
        if row["box"] is None:
            continue
        x, y, w, h = row["box"]
        top = row["top"]
        colour = _colour(labels.index(top)) if top in labels else (200, 200, 200)
        cv2.rectangle(image, (x, y), (x + w, y + h), colour, 2)
        text = f"{row['track']}: {top} {row['confidence']:.0%}" if top else f"{row['track']}: -"
        _label_text(image, text, x, y - 2, colour)
        if top:
            bar_x = min(x + w + 6, width - 110)
            panel = (bar_x - 3, y), (bar_x + 104, y + 8 + 14 * len(labels))
            cv2.rectangle(image, *panel, (40, 40, 40), cv2.FILLED)
            for i, label in enumerate(labels):
                bar_y = y + 4 + 14 * i
                length = int(70 * (row[label] or 0.0))
                cv2.rectangle(image, (bar_x, bar_y), (bar_x + length, bar_y + 10), _colour(i), -1)
                cv2.putText(
                    image, label[:3], (bar_x + 74, bar_y + 9), FONT, 0.35, (255, 255, 255), 1
                )
    lines = []
    if result.audio is not None:
        best = int(np.argmax(result.audio.probabilities))
        lines.append(f"audio: {labels[best]} {result.audio.probabilities[best]:.0%}")
    if status:
        lines.append(status)
    for i, line in enumerate(reversed(lines)):
        _label_text(image, line, 6, height - 8 - 22 * i, (50, 50, 50))
    return image


def display_available() -> bool:
    """Whether frames can be shown in a window (a display, and OpenCV built with a GUI:
    ``opencv-python-headless`` has none)."""
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        return False
    try:
        cv2.namedWindow("emozoo live", cv2.WINDOW_AUTOSIZE)
    except cv2.error:
        return False
    return True


class Window:
    """An OpenCV window showing frames; ``show`` is ``False`` once the user quits
    (``q`` or Esc, or the window is closed)."""

    name = "emozoo live"

    def show(self, image: np.ndarray, wait_ms: float = 1) -> bool:
        cv2.imshow(self.name, image)
        key = cv2.waitKey(max(1, int(wait_ms))) & 0xFF
        if key in (ord("q"), 27):
            return False
        return cv2.getWindowProperty(self.name, cv2.WND_PROP_VISIBLE) >= 1

    def close(self) -> None:
        with contextlib.suppress(cv2.error):
            cv2.destroyWindow(self.name)
