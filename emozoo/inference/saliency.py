"""Occlusion saliency: which parts of a face the prediction depends on (any backend)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def occlusion_variants(
    image: np.ndarray, patch: int = 8, stride: int = 4
) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Copies of ``image`` (``HxWxC`` float) with one ``patch x patch`` square greyed out each.

    The square is filled with the image's mean; returns the stack and the top-left corners.

    >>> variants, corners = occlusion_variants(np.zeros((16, 16, 1), np.float32), 8, 8)
    >>> variants.shape, corners
    ((4, 16, 16, 1), [(0, 0), (0, 8), (8, 0), (8, 8)])
    """
    height, width = image.shape[:2]
    if patch < 1 or stride < 1 or patch > min(height, width):
        raise ValueError(f"patch {patch} and stride {stride} do not fit a {height}x{width} image")
    ys = list(range(0, height - patch + 1, stride))
    xs = list(range(0, width - patch + 1, stride))
    if ys[-1] != height - patch:
        ys.append(height - patch)
    if xs[-1] != width - patch:
        xs.append(width - patch)
    corners = [(y, x) for y in ys for x in xs]
    variants = np.repeat(image[None], len(corners), axis=0)
    fill = float(image.mean())
    for i, (y, x) in enumerate(corners):
        variants[i, y : y + patch, x : x + patch] = fill
    return variants, corners


def occlusion_saliency(
    score: Callable[[np.ndarray], np.ndarray],
    image: np.ndarray,
    patch: int = 8,
    stride: int = 4,
) -> np.ndarray:
    """``HxW`` map in [0, 1]: how much the score drops when each region is hidden.

    Args:
        score: maps a batch of images ``(n, H, W, C)`` to one score per image (for
            example the top label's probability).
        image: one ``HxWxC`` float image as the model takes it.

    >>> def bright(batch):  # a "model" that looks at the top-left corner only
    ...     return batch[:, :4, :4, 0].mean(axis=(1, 2))
    >>> image = np.zeros((16, 16, 1), np.float32)
    >>> image[:4, :4] = 255.0
    >>> heat = occlusion_saliency(bright, image, patch=4, stride=4)
    >>> float(heat[0, 0]), float(heat[15, 15])
    (1.0, 0.0)
    """
    image = np.asarray(image, np.float32)
    if image.ndim == 2:
        image = image[..., None]
    variants, corners = occlusion_variants(image, patch, stride)
    scores = np.asarray(score(np.concatenate([image[None], variants])), np.float64).reshape(-1)
    drops = np.maximum(scores[0] - scores[1:], 0.0)
    heat = np.zeros(image.shape[:2], np.float64)
    counts = np.zeros(image.shape[:2], np.float64)
    for drop, (y, x) in zip(drops, corners, strict=True):
        heat[y : y + patch, x : x + patch] += drop
        counts[y : y + patch, x : x + patch] += 1
    heat /= np.maximum(counts, 1)
    peak = heat.max()
    return (heat / peak if peak > 0 else heat).astype(np.float32)
