"""Per-modality augmentations, applied to whole batches inside tf.data.

- face: flip, rotation, zoom and translation (one affine pass), brightness, contrast,
  random erasing.
- audio: gain, additive noise at a random SNR, circular time shift (waveform level;
  SpecAugment time/frequency masks act on the log-mel, inside the audio model).
- text: token dropout (tokens removed, the rest shifted left) and adjacent-token swaps.

Every augmenter takes a ``seed``; with the same seed the same batches come out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import keras
import numpy as np
import tensorflow as tf


@dataclass(frozen=True)
class FaceAugment:
    """Face augmentation on batches ``(batch, h, w, 1)`` of pixels in [0, 255].

    Flip, rotation, zoom and translation are composed into one affine matrix per
    image and applied in a single ``keras.ops.image.affine_transform`` pass (three
    ``keras.layers`` resampling passes ran at a third of the speed here); then
    brightness, contrast and random erasing. All draws are stateless, seeded per batch.
    """

    modality: ClassVar[str] = "face"
    #: A missing input (presence 0) is zeroed again after augmentation.
    rezero_missing: ClassVar[bool] = True

    flip: bool = True
    rotation: float = (
        0.04  # fraction of a full turn, as keras.layers.RandomRotation (about 15 degrees)
    )
    zoom: float = 0.1
    translation: float = 0.1  # fraction of the image side
    brightness: float = 0.2  # fraction of the 255 range
    contrast: float = 0.2
    erasing: float = 0.5  # probability that a random patch is erased
    erasing_area: tuple[float, float] = (0.02, 0.15)

    def __call__(self, images: tf.Tensor, seed_pair: tf.Tensor) -> tf.Tensor:
        seeds = tf.random.experimental.stateless_split(seed_pair, 12)
        batch = tf.shape(images)[0]
        height = tf.cast(tf.shape(images)[1], tf.float32)
        width = tf.cast(tf.shape(images)[2], tf.float32)

        def uniform(i, low, high):
            return tf.random.stateless_uniform([batch], seeds[i], low, high)

        angle = uniform(0, -self.rotation, self.rotation) * 2.0 * np.pi
        scale = uniform(1, 1.0 - self.zoom, 1.0 + self.zoom)
        shift_x = uniform(2, -self.translation, self.translation) * width
        shift_y = uniform(3, -self.translation, self.translation) * height
        flip = tf.where(uniform(4, 0.0, 1.0) < 0.5, -1.0, 1.0) if self.flip else tf.ones([batch])
        # Output pixel p samples input q = M (p - c - t) + c, M the inverse of scale*rotate*flip.
        cos, sin = tf.cos(angle) / scale, tf.sin(angle) / scale
        m00, m01, m10, m11 = flip * cos, flip * sin, -sin, cos
        cx, cy = (width - 1.0) / 2.0, (height - 1.0) / 2.0
        ox, oy = cx + shift_x, cy + shift_y
        zeros = tf.zeros([batch])
        transform = tf.stack(
            [m00, m01, cx - m00 * ox - m01 * oy, m10, m11, cy - m10 * ox - m11 * oy, zeros, zeros],
            axis=1,
        )
        images = keras.ops.image.affine_transform(
            images, transform, interpolation="bilinear", fill_mode="reflect"
        )

        if self.brightness:
            images = (
                images + uniform(5, -self.brightness, self.brightness)[:, None, None, None] * 255.0
            )
        if self.contrast:
            mean = tf.reduce_mean(images, axis=[1, 2, 3], keepdims=True)
            factor = uniform(6, 1.0 - self.contrast, 1.0 + self.contrast)[:, None, None, None]
            images = (images - mean) * factor + mean
        images = tf.clip_by_value(images, 0.0, 255.0)

        if self.erasing:
            area = uniform(7, *self.erasing_area) * height * width
            aspect = tf.exp(uniform(8, np.log(0.3), np.log(3.3)))
            patch_h = tf.minimum(tf.sqrt(area * aspect), height)
            patch_w = tf.minimum(tf.sqrt(area / aspect), width)
            top = uniform(9, 0.0, 1.0) * (height - patch_h)
            left = uniform(10, 0.0, 1.0) * (width - patch_w)
            rows = tf.range(height)[None, :, None]
            cols = tf.range(width)[None, None, :]
            inside = (
                (rows >= top[:, None, None])
                & (rows < (top + patch_h)[:, None, None])
                & (cols >= left[:, None, None])
                & (cols < (left + patch_w)[:, None, None])
            )
            erase = inside & (uniform(11, 0.0, 1.0) < self.erasing)[:, None, None]
            fill = tf.random.stateless_uniform(tf.shape(images), seeds[11], 0.0, 255.0)
            images = tf.where(erase[..., None], fill, images)
        return images


@dataclass(frozen=True)
class AudioAugment:
    """Waveform augmentation: random gain (dB), noise at a random SNR (dB), time shift."""

    modality: ClassVar[str] = "audio"
    rezero_missing: ClassVar[bool] = True

    gain_db: tuple[float, float] = (-6.0, 6.0)
    snr_db: tuple[float, float] = (10.0, 40.0)
    noise_probability: float = 0.5
    max_shift_s: float = 0.2
    sample_rate: int = 16000

    def __call__(self, audio: tf.Tensor, seed_pair: tf.Tensor) -> tf.Tensor:
        """Augment a batch ``(batch, samples)`` with stateless ops seeded by ``seed_pair``."""
        batch = tf.shape(audio)[0]
        seeds = tf.random.experimental.stateless_split(seed_pair, 5)
        gain = tf.random.stateless_uniform([batch, 1], seeds[0], *self.gain_db)
        audio = audio * tf.pow(10.0, gain / 20.0)
        signal_power = tf.reduce_mean(tf.square(audio), axis=1, keepdims=True) + 1e-10
        snr = tf.random.stateless_uniform([batch, 1], seeds[1], *self.snr_db)
        noise = tf.random.stateless_normal(tf.shape(audio), seeds[2]) * tf.sqrt(
            signal_power / tf.pow(10.0, snr / 10.0)
        )
        use_noise = tf.cast(
            tf.random.stateless_uniform([batch, 1], seeds[3]) < self.noise_probability, audio.dtype
        )
        audio = audio + noise * use_noise
        max_shift = int(self.max_shift_s * self.sample_rate)
        if max_shift:
            shifts = tf.random.stateless_uniform(
                [batch], seeds[4], -max_shift, max_shift + 1, dtype=tf.int32
            )
            length = tf.shape(audio)[1]
            index = tf.math.floormod(tf.range(length)[None, :] - shifts[:, None], length)
            audio = tf.gather(audio, index, batch_dims=1)
        return tf.clip_by_value(audio, -1.0, 1.0)


@dataclass(frozen=True)
class TextAugment:
    """Token-id augmentation: drop tokens, swap one adjacent pair per text."""

    modality: ClassVar[str] = "text"
    rezero_missing: ClassVar[bool] = False  # dropout and swaps keep padding as it is

    dropout: float = 0.1
    swap_probability: float = 0.3

    def __call__(self, ids: tf.Tensor, seed_pair: tf.Tensor) -> tf.Tensor:
        """Augment a batch of padded ids ``(batch, length)`` (0 = padding)."""
        seeds = tf.random.experimental.stateless_split(seed_pair, 3)
        length = tf.shape(ids)[1]
        real = ids > 0
        keep = tf.logical_or(
            tf.random.stateless_uniform(tf.shape(ids), seeds[0]) >= self.dropout, ~real
        )
        # Never drop every token of a text.
        keep = tf.logical_or(
            keep, tf.logical_and(real, ~tf.reduce_any(keep & real, axis=1, keepdims=True))
        )
        kept = tf.ragged.boolean_mask(tf.where(real, ids, 0), keep & real)
        ids = kept.to_tensor(default_value=0, shape=tf.shape(ids))

        count = tf.reduce_sum(tf.cast(ids > 0, tf.int32), axis=1)
        position = tf.cast(
            tf.random.stateless_uniform(tf.shape(count), seeds[1])
            * tf.cast(tf.maximum(count - 1, 1), tf.float32),
            tf.int32,
        )
        do_swap = (
            tf.random.stateless_uniform(tf.shape(count), seeds[2]) < self.swap_probability
        ) & (count >= 2)
        steps = tf.range(length)[None, :]
        left, right = position[:, None], position[:, None] + 1
        index = tf.where(steps == left, right, tf.where(steps == right, left, steps))
        index = tf.where(do_swap[:, None], index, steps)
        return tf.gather(ids, index, batch_dims=1)


#: The augmenter of each modality, by the model input it changes.
AUGMENTERS = {cls.modality: cls for cls in (FaceAugment, AudioAugment, TextAugment)}
