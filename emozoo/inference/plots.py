"""Figures: a prediction (faces boxed, probabilities, contributions), saliency overlays,
video timelines. Matplotlib without pyplot (the Agg canvas): works headless."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from emozoo.inference.results import Prediction, VideoAnalysis

#: One colour per canonical label (others cycle through matplotlib's tab10).
LABEL_COLOURS = {
    "angry": "#d62728",
    "disgust": "#8c564b",
    "fear": "#9467bd",
    "happy": "#f2b701",
    "sad": "#1f77b4",
    "surprise": "#ff7f0e",
    "neutral": "#7f7f7f",
}


def _colour(label: str, index: int) -> str | tuple[float, float, float, float]:
    if label in LABEL_COLOURS:
        return LABEL_COLOURS[label]
    from matplotlib import colormaps

    return colormaps["tab10"](index % 10)


def _figure(width: float, height: float) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _save(figure: Figure, path: str | Path | None) -> Figure:
    if path is not None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path, dpi=110)
    return figure


def saliency_overlay(crop: np.ndarray, saliency: np.ndarray, alpha: float = 0.5) -> np.ndarray:
    """An RGB uint8 image: the grayscale face ``crop`` under its saliency heat map.

    >>> saliency_overlay(np.zeros((96, 96), np.uint8), np.ones((48, 48), np.float32)).shape
    (96, 96, 3)
    """
    crop = np.asarray(crop)
    if crop.ndim == 3 and crop.shape[-1] == 1:
        crop = crop[..., 0]
    if crop.dtype != np.uint8:
        crop = np.clip(crop, 0, 255).astype(np.uint8)
    gray = cv2.cvtColor(crop, cv2.COLOR_GRAY2RGB) if crop.ndim == 2 else crop
    heat = cv2.resize(
        np.clip(saliency, 0, 1).astype(np.float32),
        (gray.shape[1], gray.shape[0]),
        interpolation=cv2.INTER_CUBIC,
    )
    coloured = cv2.applyColorMap(np.uint8(255 * np.clip(heat, 0, 1)), cv2.COLORMAP_JET)
    coloured = cv2.cvtColor(coloured, cv2.COLOR_BGR2RGB)
    return cv2.addWeighted(gray, 1 - alpha, coloured, alpha, 0)


def save_saliency(prediction: Prediction, path: str | Path, size: int = 192) -> Path:
    """Write every face's saliency overlay side by side into one PNG; returns the path.

    The prediction must come from ``predict(..., saliency=True)`` with a face.
    """
    faces = [f for f in prediction.faces if f.saliency is not None and f.crop is not None]
    if not faces:
        raise ValueError(
            "No saliency map to save: predict with saliency=True on an image with a face"
        )
    tiles = []
    for face in faces:
        assert face.crop is not None and face.saliency is not None  # kept above
        crop = cv2.resize(face.crop, (size, size), interpolation=cv2.INTER_AREA)
        tile = saliency_overlay(crop, face.saliency)
        cv2.putText(
            tile,
            f"face: {face.saliency_label}",
            (6, 22),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.7,
            (255, 255, 255),
            2,
        )
        tiles.append(tile)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), cv2.cvtColor(np.hstack(tiles), cv2.COLOR_RGB2BGR)):
        raise ValueError(f"Could not write {path} (use a .png or .jpg name)")
    return path


def draw_faces(image: np.ndarray, prediction: Prediction) -> np.ndarray:
    """A copy of the RGB ``image`` with each face's box and top label drawn on it."""
    out = np.ascontiguousarray(image.copy())
    scale = max(out.shape[:2]) / 512
    thickness = max(1, int(round(2 * scale)))
    font = cv2.FONT_HERSHEY_SIMPLEX
    for i, face in enumerate(prediction.faces):
        x, y, w, h = face.box
        hexcolour = LABEL_COLOURS.get(face.top or "", "#2ca02c").lstrip("#")
        rgb = tuple(int(hexcolour[j : j + 2], 16) for j in (0, 2, 4))
        cv2.rectangle(out, (x, y), (x + w, y + h), rgb, thickness)
        text = f"{i + 1}: {face.top} {face.confidence:.0%}"
        (tw, th), base = cv2.getTextSize(text, font, 0.55 * scale, thickness)
        top = y - th - base - 2 if y - th - base - 2 >= 0 else y + h
        cv2.rectangle(out, (x, top), (x + tw + 4, top + th + base + 2), rgb, -1)
        cv2.putText(out, text, (x + 2, top + th + 1), font, 0.55 * scale, (0, 0, 0), thickness)
    return out


def _bars(ax, probabilities: dict[str, float], title: str) -> None:
    labels = list(probabilities)
    values = [probabilities[k] for k in labels]
    ax.barh(labels, values, color=[_colour(k, i) for i, k in enumerate(labels)])
    ax.set_xlim(0, 1)
    ax.invert_yaxis()
    ax.set_title(title, fontsize=10)
    ax.tick_params(labelsize=8)


def plot_prediction(
    prediction: Prediction,
    image: np.ndarray | str | Path | None = None,
    path: str | Path | None = None,
) -> Figure:
    """A figure of one :class:`Prediction`: the image with faces boxed (if given), the
    probabilities, and the leave-one-modality-out contributions. Saved when ``path`` is given.

    >>> from emozoo.inference.results import Prediction
    >>> figure = plot_prediction(Prediction({"happy": 0.8, "sad": 0.2}, ["text"]))
    >>> len(figure.axes)
    1
    """
    from emozoo.inference.media import load_image

    if image is not None and not isinstance(image, np.ndarray):
        image = load_image(image)[0]
    panels = (image is not None) + 1 + bool(prediction.contributions)
    figure = _figure(3.6 * panels, 3.2)
    axes = figure.subplots(1, panels, squeeze=False)[0]
    k = 0
    if image is not None:
        axes[k].imshow(draw_faces(image, prediction))
        axes[k].set_axis_off()
        axes[k].set_title(f"{len(prediction.faces)} face(s)", fontsize=10)
        k += 1
    if prediction.ok:
        used = " + ".join(prediction.modalities_used)
        _bars(axes[k], prediction.probabilities, f"{prediction.top} ({used})")
    else:
        axes[k].text(0.5, 0.5, "no prediction", ha="center", va="center")
        axes[k].set_axis_off()
    k += 1
    if prediction.contributions:
        ax = axes[k]
        names = list(prediction.contributions)
        values = [prediction.contributions[m] for m in names]
        ax.barh(names, values, color=["#2ca02c" if v >= 0 else "#d62728" for v in values])
        ax.axvline(0, color="black", linewidth=0.8)
        ax.invert_yaxis()
        ax.set_title(f"contribution to '{prediction.top}'", fontsize=10)
        ax.tick_params(labelsize=8)
    return _save(figure, path)


def plot_timeline(analysis: VideoAnalysis, path: str | Path | None = None) -> Figure:
    """Stacked label probabilities over time, one panel per face track (and one for the
    steps without a face); saved as PNG when ``path`` is given."""
    groups: list[int | None] = [*analysis.tracks]
    if any(r["track"] is None and r["top"] is not None for r in analysis.rows):
        groups.append(None)
    groups = groups[:8] or [None]
    figure = _figure(8.0, 1.0 + 1.7 * len(groups))
    axes = figure.subplots(len(groups), 1, squeeze=False, sharex=True)[:, 0]
    for ax, track in zip(axes, groups, strict=True):
        rows = [r for r in analysis.rows if r["track"] == track and r["top"] is not None]
        name = f"face {track}" if track is not None else "no face (audio only)"
        if not rows:
            ax.text(0.5, 0.5, f"{name}: nothing recognised", ha="center", va="center")
            ax.set_yticks([])
            continue
        times = np.array([r["time"] for r in rows])
        stack = np.array([[r[label] for r in rows] for label in analysis.labels])
        ax.stackplot(
            times,
            stack,
            labels=analysis.labels,
            colors=[_colour(k, i) for i, k in enumerate(analysis.labels)],
            step="mid" if len(rows) > 1 else None,
        )
        ax.set_ylim(0, 1)
        ax.set_ylabel(name, fontsize=9)
        ax.tick_params(labelsize=8)
    axes[0].legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    axes[-1].set_xlabel("time (s)")
    axes[0].set_title(Path(analysis.path).name, fontsize=10)
    return _save(figure, path)


def plot_demo(
    predictions: Sequence[Prediction],
    names: Sequence[str],
    image: np.ndarray | None = None,
    path: str | Path | None = None,
) -> Figure:
    """The demo figure: the photo with its faces, then one probability panel per sample."""
    panels = len(predictions) + (image is not None)
    figure = _figure(3.2 * panels, 3.2)
    axes = figure.subplots(1, panels, squeeze=False)[0]
    k = 0
    if image is not None:
        with_faces = next((p for p in predictions if p.faces), None)
        axes[0].imshow(draw_faces(image, with_faces) if with_faces else image)
        axes[0].set_axis_off()
        k = 1
    for ax, prediction, name in zip(axes[k:], predictions, names, strict=True):
        if prediction.ok:
            used = "+".join(prediction.modalities_used)
            _bars(ax, prediction.probabilities, f"{name}: {prediction.top} ({used})")
        else:
            ax.text(0.5, 0.5, "no prediction", ha="center", va="center")
            ax.set_axis_off()
    return _save(figure, path)
