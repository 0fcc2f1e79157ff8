"""Face crops -> the face models' input: grayscale, resized, float32 in [0, 255]."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from emozoo.preprocessing.base import ModalityPreprocessor, SkipCallback

_GRAY_CODES = {
    "rgb": (cv2.COLOR_RGB2GRAY, cv2.COLOR_RGBA2GRAY),
    "bgr": (cv2.COLOR_BGR2GRAY, cv2.COLOR_BGRA2GRAY),
}


def to_gray(image: np.ndarray, order: str = "rgb") -> np.ndarray:
    """A uint8 image as the grayscale faces are cut from and read in.

    Args:
        image: ``HxW`` (returned as is), ``HxWx3`` or ``HxWx4`` uint8.
        order: the channel order, ``"rgb"`` (photos, ``emozoo.inference.media.load_image``)
            or ``"bgr"`` (OpenCV frames, as a stream's).

    >>> red_or_blue = np.full((2, 2, 3), (255, 0, 0), np.uint8)
    >>> int(to_gray(red_or_blue)[0, 0]), int(to_gray(red_or_blue, order="bgr")[0, 0])
    (76, 29)
    """
    if order not in _GRAY_CODES:
        raise ValueError(f"order must be one of {tuple(_GRAY_CODES)}, got {order!r}")
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise ValueError(f"Images must be uint8, got {image.dtype}")
    if image.ndim == 2:
        return image
    if image.ndim == 3 and image.shape[-1] in (3, 4):
        return cv2.cvtColor(image, _GRAY_CODES[order][image.shape[-1] - 3])
    raise ValueError(f"Images must be HxW, HxWx3 or HxWx4, got shape {image.shape}")


class FacePreprocessor(ModalityPreprocessor):
    """Turn uint8 face crops into a ``(batch, size, size, 1)`` float32 array.

    Accepts one crop (``HxW`` grayscale, ``HxWx3`` RGB, ``HxWx4`` RGBA), a batch
    array (``NxHxW`` or ``NxHxWxC``) or a list of crops of any sizes. Colour is
    converted to grayscale with the ITU-R BT.601 weights (``channel_order="bgr"`` for
    arrays straight from ``cv2.imread``); each crop is resized with area interpolation.
    """

    modality = "face"
    input_note = "float32 grayscale crop, raw pixel values 0-255 (the scaling is inside the model)"

    def __init__(
        self,
        image_size: int = 48,
        channel_order: str = "rgb",
        color: str = "grayscale",
        **_ignored,
    ):
        if channel_order not in ("rgb", "bgr"):
            raise ValueError(f"channel_order must be 'rgb' or 'bgr', got {channel_order!r}")
        self.image_size = int(image_size)
        self.channel_order = channel_order
        self.color = color

    @property
    def input_shape(self) -> tuple[int, ...]:
        return (self.image_size, self.image_size, 1)

    def model_kwargs(self) -> dict:
        return {"image_size": self.image_size}

    def dataset(self, items, labels, skip: SkipCallback | None = None, where: str = ""):
        import tensorflow as tf  # lazy: inference on faces needs no TensorFlow start-up

        images = np.asarray(items)
        if images.ndim != 3:
            raise ValueError(
                f"{where}: face items must be (n, h, w) uint8, got shape {images.shape}"
            )
        if images.shape[1:] != (self.image_size, self.image_size):
            images = self(images)[..., 0].astype(np.uint8)
        # uint8 until batched: a quarter of the memory in the cache.
        return tf.data.Dataset.from_tensor_slices((images[..., None], labels.astype(np.int32)))

    def finish_batch(self, batch):
        import tensorflow as tf  # lazy, as above

        return tf.cast(batch, tf.float32)

    def synthetic(self, n, rng, token_rows=None):
        return rng.integers(0, 256, size=(n, *self.input_shape)).astype(np.float32)

    def check_fits(self, model) -> None:
        if self.color != "grayscale":
            raise ValueError("The shared face data is grayscale; the model takes colour faces")

    @staticmethod
    def params_from_input_shape(shape, params):
        return {
            **params,
            "image_size": int(shape[0]),
            "color": "grayscale" if shape[-1] == 1 else "rgb",
        }

    def _split_batch(self, images) -> list[np.ndarray]:
        if isinstance(images, np.ndarray):
            if images.ndim == 2 or (images.ndim == 3 and images.shape[-1] in (1, 3, 4)):
                return [images]
            if images.ndim == 3 and images.shape[-1] <= 8:
                # HxWxC with an odd C, not a batch of C-pixel-wide faces.
                raise ValueError(
                    f"Face image 0 has {images.shape[-1]} channels (shape {images.shape}); "
                    "expected 1, 3 or 4"
                )
            if images.ndim == 3 or images.ndim == 4:
                return list(images)
            raise ValueError(
                f"Face images must be HxW, HxWxC, NxHxW or NxHxWxC; got an array of shape {images.shape}"
            )
        if isinstance(images, Sequence) and not isinstance(images, (str, bytes)):
            return [np.asarray(image) for image in images]
        raise TypeError(
            f"Face images must be a numpy array or a list of arrays, not {type(images).__name__}"
        )

    def _to_gray(self, image: np.ndarray, index: int) -> np.ndarray:
        if image.size == 0 or image.ndim not in (2, 3) or min(image.shape[:2]) < 2:
            raise ValueError(f"Face image {index} has unusable shape {image.shape}")
        if image.dtype != np.uint8:
            if np.issubdtype(image.dtype, np.floating) and not np.isfinite(image).all():
                raise ValueError(f"Face image {index} contains NaN or infinite values")
            if (
                np.issubdtype(image.dtype, np.floating)
                and image.size
                and float(np.nanmax(image)) <= 1.0
            ):
                raise ValueError(
                    f"Face image {index} is float in [0, 1]; pass uint8 pixels in [0, 255]"
                )
            image = np.clip(image, 0, 255).astype(np.uint8)
        if image.ndim == 3:
            channels = image.shape[-1]
            if channels == 1:
                image = image[..., 0]
            elif channels in (3, 4):
                image = to_gray(image, self.channel_order)
            else:
                raise ValueError(f"Face image {index} has {channels} channels; expected 1, 3 or 4")
        return image

    def __call__(self, images) -> np.ndarray:
        crops = self._split_batch(images)
        if not crops:
            raise ValueError("No face images given")
        out = np.empty((len(crops), self.image_size, self.image_size, 1), np.float32)
        for i, crop in enumerate(crops):
            gray = self._to_gray(crop, i)
            if gray.shape != (self.image_size, self.image_size):
                gray = cv2.resize(
                    gray, (self.image_size, self.image_size), interpolation=cv2.INTER_AREA
                )
            out[i, :, :, 0] = gray
        return out
