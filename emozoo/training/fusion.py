"""Train fused models on pseudo-pairs from frozen, pretrained unimodal encoders.

Running three encoders on every step would cost most of the compute, so the encoders'
embeddings of every source item are computed once, the fusion part of the model is
trained on pairs of those embeddings (the same architecture built over identity
encoders), and the trained head and the pretrained encoders are then assembled into
the full model by layer name.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from emozoo.data import make_dataset
from emozoo.data.pairs import PairList
from emozoo.data.pipeline import tokens_shortest_first
from emozoo.data.records import Records
from emozoo.models import MODALITIES, presence_input_name
from emozoo.models.fusion.compose import (  # noqa: F401  (their home before models)
    assemble,
    build_head,
    identity_encoders,
)


def compute_embeddings(
    encoder: keras.Model,
    records: Records,
    preprocessor,
    batch_size: int = 256,
    augmented_copies: int = 0,
    seed: int = 0,
    bucket_by_length: bool = False,
) -> np.ndarray:
    """Embeddings of every item, in order: ``(len(records), dim)`` without augmentation,
    or ``(augmented_copies, len(records), dim)``, each copy under the modality's default
    training augmentation (seeds ``seed``, ``seed + 1``, ...), decoded once.

    ``bucket_by_length`` (texts, with an encoder built with ``sequence_length=None``, no
    augmentation) embeds the texts shortest first in batches cut to their longest text,
    then puts the rows back in the records' order.
    """
    from emozoo.data import augment_dataset

    if bucket_by_length:
        if augmented_copies:
            raise ValueError(
                "bucket_by_length embeds texts as they are: augmented_copies must be 0"
            )
        return _embed_by_length(encoder, records, preprocessor, batch_size)
    ds = make_dataset(records, preprocessor, batch_size=batch_size, shuffle=False, cache=True)

    def embed(dataset) -> np.ndarray:
        return np.concatenate([np.asarray(encoder.predict_on_batch(x)) for x, _ in dataset])

    if not augmented_copies:
        return embed(ds)
    return np.stack([embed(augment_dataset(ds, True, seed + k)) for k in range(augmented_copies)])


def _embed_by_length(
    encoder: keras.Model, records: Records, preprocessor, batch_size: int
) -> np.ndarray:
    """Text embeddings computed shortest first, in batches cut to their longest text."""
    _, order = tokens_shortest_first(records, preprocessor)
    ds = make_dataset(
        records.subset(order),
        preprocessor,
        batch_size=batch_size,
        shuffle=False,
        cache=False,
        bucket_by_length=True,
    )
    progress = keras.utils.Progbar(len(records), unit_name="text")
    sorted_embeddings = []
    for x, _ in ds:
        sorted_embeddings.append(np.asarray(encoder.predict_on_batch(x)))
        progress.add(len(sorted_embeddings[-1]))
    embeddings = np.empty_like(np.concatenate(sorted_embeddings))
    embeddings[order] = np.concatenate(sorted_embeddings)
    return embeddings


def pair_arrays(pairs: PairList, embeddings: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Model inputs of a head over embeddings: embeddings (zeros where missing) and flags."""
    inputs = {}
    for modality in MODALITIES:
        index = getattr(pairs, modality)
        present = index >= 0
        bank = embeddings[modality]
        inputs[modality] = np.where(present[:, None], bank[np.maximum(index, 0)], 0.0).astype(
            np.float32
        )
        inputs[presence_input_name(modality)] = present[:, None].astype(np.float32)
    return inputs


def pair_embedding_dataset(
    pairs: PairList, embeddings, batch_size: int, shuffle: bool, seed: int = 0
) -> tf.data.Dataset:
    """``tf.data`` of ``(embedding inputs, int label)`` for the head-only model.

    ``embeddings[modality]`` is ``(items, dim)``, or ``(copies, items, dim)``: embeddings
    of several augmented versions of each item, of which every batch draws one at random
    per pair (seeded), so the head sees the variation the encoders were trained with.
    """
    banks = {m: np.asarray(embeddings[m], np.float32) for m in MODALITIES}
    labels = pairs.labels.astype(np.int32)
    if all(bank.ndim == 2 for bank in banks.values()):
        ds = tf.data.Dataset.from_tensor_slices((pair_arrays(pairs, banks), labels))
        if shuffle:
            ds = ds.shuffle(len(pairs), seed=seed, reshuffle_each_iteration=True)
        return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)

    copies = {m: tf.constant(b if b.ndim == 3 else b[None]) for m, b in banks.items()}
    indices = {m: getattr(pairs, m).astype(np.int32) for m in MODALITIES}
    ds = tf.data.Dataset.from_tensor_slices((indices, labels))
    if shuffle:
        ds = ds.shuffle(len(pairs), seed=seed, reshuffle_each_iteration=True)

    def gather(step, batch):
        index, label = batch
        inputs = {}
        for i, modality in enumerate(MODALITIES):
            bank = copies[modality]
            copy = tf.random.stateless_uniform(
                tf.shape(index[modality]),
                seed=tf.stack([tf.cast(seed * 3 + i, tf.int64), step]),
                maxval=tf.shape(bank)[0],
                dtype=tf.int32,
            )
            present = tf.cast(index[modality] >= 0, tf.float32)[:, None]
            rows = tf.stack([copy, tf.maximum(index[modality], 0)], axis=1)
            inputs[modality] = tf.gather_nd(bank, rows) * present
            inputs[presence_input_name(modality)] = present
        return inputs, label

    return ds.batch(batch_size).enumerate().map(gather).prefetch(tf.data.AUTOTUNE)
