"""Per-modality augmentations, applied to whole batches inside tf.data.

- face: ``keras.layers`` augmentation layers (flip, rotation, zoom, translation,
  brightness, contrast, random erasing), run by tf.data on the TensorFlow ops.
- audio: gain, additive noise at a random SNR, circular time shift (waveform level;
  SpecAugment time/frequency masks act on the log-mel, inside the audio model).
- text: token dropout (tokens removed, the rest shifted left) and adjacent-token swaps.

Every augmenter takes a ``seed``; with the same seed the same batches come out.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import tensorflow as tf


@dataclass(frozen=True)
class FaceAugment:
    """Geometric and photometric face augmentation; factors as in ``keras.layers``."""

    flip: bool = True
    rotation: float = 0.04  # fraction of a full turn (about 15 degrees)
    zoom: float = 0.1
    translation: float = 0.1
    brightness: float = 0.2
    contrast: float = 0.2
    erasing: float = 0.5  # probability that a random patch is erased

    def build(self, seed: int | None = None) -> keras.layers.Pipeline:
        seeds = iter(range(0 if seed is None else seed, (0 if seed is None else seed) + 100))

        def next_seed():
            return None if seed is None else next(seeds)

        layers = []
        if self.flip:
            layers.append(keras.layers.RandomFlip("horizontal", seed=next_seed()))
        if self.rotation:
            layers.append(
                keras.layers.RandomRotation(self.rotation, fill_mode="reflect", seed=next_seed())
            )
        if self.zoom:
            layers.append(keras.layers.RandomZoom(self.zoom, fill_mode="reflect", seed=next_seed()))
        if self.translation:
            layers.append(
                keras.layers.RandomTranslation(
                    self.translation, self.translation, fill_mode="reflect", seed=next_seed()
                )
            )
        if self.brightness:
            layers.append(
                keras.layers.RandomBrightness(
                    self.brightness, value_range=(0, 255), seed=next_seed()
                )
            )
        if self.contrast:
            layers.append(
                keras.layers.RandomContrast(self.contrast, value_range=(0, 255), seed=next_seed())
            )
        if self.erasing:
            layers.append(
                keras.layers.RandomErasing(
                    self.erasing, scale=(0.02, 0.15), value_range=(0, 255), seed=next_seed()
                )
            )
        return keras.layers.Pipeline(layers, name="face_augment")


def _seed_pair(seed: int | None, counter) -> tf.Tensor:
    return tf.stack([tf.cast(0 if seed is None else seed, tf.int64), tf.cast(counter, tf.int64)])


@dataclass(frozen=True)
class AudioAugment:
    """Waveform augmentation: random gain (dB), noise at a random SNR (dB), time shift."""

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
