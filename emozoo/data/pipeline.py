"""Records -> batched ``tf.data.Dataset`` of ``(inputs, label)`` for a registered model.

Order of work: decode and preprocess (deterministic) -> ``cache`` -> ``shuffle`` ->
``batch`` -> augment (on whole batches) -> ``prefetch(AUTOTUNE)``. Labels are int32
indices into the records' label set. Same seed, same batches.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import tensorflow as tf

from emozoo.data.augment import AUGMENTERS
from emozoo.data.records import Records

if TYPE_CHECKING:
    from emozoo.preprocessing import Preprocessor

#: A batch as the model takes it: ``({input name: tensor}, label)``.
_Batch = tuple[dict[str, Any], Any]

AUTOTUNE = tf.data.AUTOTUNE


@dataclass
class SkipReport:
    """Samples left out because they could not be read (only with ``on_error="skip"``)."""

    skipped: list[tuple[str, str]] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.skipped)

    def __str__(self) -> str:
        lines = [f"{self.count} sample(s) skipped"]
        lines += [f"  {item}: {reason}" for item, reason in self.skipped]
        return "\n".join(lines)


def make_dataset(
    records: Records,
    preprocessor: Preprocessor,
    *,
    batch_size: int = 64,
    shuffle: bool = True,
    augment: bool | Mapping[str, object] = False,
    seed: int = 0,
    cache: bool = True,
    on_error: str = "raise",
    drop_remainder: bool = False,
    report: SkipReport | None = None,
    bucket_by_length: bool = False,
) -> tf.data.Dataset:
    """Batched ``({modality: input}, label)`` for ``records``, preprocessed like ``preprocessor``.

    Args:
        records: from an adapter such as :func:`emozoo.data.load_source`.
        preprocessor: :func:`emozoo.load_preprocessor` of the model to feed.
        augment: ``True`` for the default augmentation, or per-modality overrides as
            in :func:`augment_dataset`.
        seed: fixes shuffling and augmentation.
        on_error: ``"raise"`` (default) stops at the first unreadable or empty sample with
            its name; ``"skip"`` leaves it out and records it in ``report``.
        report: a :class:`SkipReport` to fill (with ``on_error="skip"``).
        bucket_by_length: text only: batch texts of similar length together and cut
            each batch to its longest text, ``(batch, <= sequence_length)``, for a model
            built with ``sequence_length=None`` (a transformer then skips the padding).
            Batches come in shuffled order; without ``shuffle``, shortest first.

    >>> import emozoo
    >>> from emozoo.data import load_source  # doctest: +SKIP
    >>> ds = make_dataset(load_source("fer2013", "train"), emozoo.load_preprocessor("face_cnn"))  # doctest: +SKIP
    """
    if on_error not in ("raise", "skip"):
        raise ValueError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
    if records.modality not in preprocessor.modalities:
        raise ValueError(
            f"{records!r} is {records.modality}; the model takes {', '.join(preprocessor.modalities)}"
        )
    if len(records) == 0:
        raise ValueError(f"{records!r} is empty")
    report = report if report is not None else SkipReport()
    modality = records.modality
    inputs = preprocessor.for_modality(modality)
    if bucket_by_length and not inputs.variable_length:
        raise ValueError(f"bucket_by_length applies to text, not to {records!r}")
    where = f"{records.name}/{records.split}"

    def skip(item: str, reason: str) -> None:
        report.skipped.append((item, reason))

    ds = inputs.dataset(
        records.items, records.labels, skip=skip if on_error == "skip" else None, where=where
    )
    if cache:
        ds = ds.cache()
    if shuffle:
        # A buffer as large as the data: sources are often sorted by class, and a
        # partial buffer would give batches of one or two classes.
        ds = ds.shuffle(len(records), seed=seed, reshuffle_each_iteration=True)
    if bucket_by_length:
        ds = length_batches(
            ds, batch_size, shuffle=shuffle, seed=seed, drop_remainder=drop_remainder
        )
    else:
        ds = ds.batch(
            batch_size,
            drop_remainder=drop_remainder,
            num_parallel_calls=AUTOTUNE,
            deterministic=True,
        )

    ds = ds.map(lambda x, y: ({modality: inputs.finish_batch(x)}, y), num_parallel_calls=AUTOTUNE)
    if augment:
        ds = augment_dataset(ds, augment, seed)
    if missing := [m for m in preprocessor.modalities if m != modality]:
        ds = ds.map(
            _add_missing_modalities(preprocessor, modality, missing), num_parallel_calls=AUTOTUNE
        )
    return ds.prefetch(AUTOTUNE)


def tokens_shortest_first(
    records: Records, preprocessor: Preprocessor
) -> tuple[np.ndarray, np.ndarray]:
    """Token ids ``(n, sequence_length)`` int32 of every text, and the order shortest first.

    For work on texts in batches of similar length (``bucket_by_length``); the order is
    stable, so equal lengths keep the records' order.
    """
    inputs = preprocessor.for_modality(records.modality)
    if not inputs.variable_length:
        raise ValueError(f"bucket_by_length applies to text, not to {records!r}")
    ids = inputs.from_items(records.items).astype("int32")
    return ids, np.argsort((ids != 0).sum(axis=1), kind="stable")


def length_batches(
    ds: tf.data.Dataset,
    batch_size: int,
    *,
    shuffle: bool = True,
    seed: int = 0,
    drop_remainder: bool = False,
    chunk_batches: int = 32,
) -> tf.data.Dataset:
    """Batch ``(token ids, label)`` pairs by length and cut each batch to its longest text.

    Every ``chunk_batches * batch_size`` consecutive texts are sorted by length (0 is
    padding and comes last in each row) and split into batches; with ``shuffle`` the
    batches are then mixed. Padding columns beyond each batch's longest text are dropped.

    >>> ds = tf.data.Dataset.from_tensor_slices(([[5, 0, 0], [5, 6, 7], [5, 6, 0]], [0, 1, 2]))
    >>> [ids.shape[1] for ids, _ in length_batches(ds, 2, shuffle=False)]
    [2, 3]
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be positive, got {batch_size}")

    def lengths(ids: tf.Tensor) -> tf.Tensor:
        return tf.reduce_sum(tf.cast(ids != 0, tf.int32), axis=1)

    def sort_chunk(ids: tf.Tensor, labels: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        order = tf.argsort(lengths(ids), stable=True)
        return tf.gather(ids, order), tf.gather(labels, order)

    def trim(ids: tf.Tensor, labels: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        return ids[:, : tf.maximum(tf.reduce_max(lengths(ids)), 1)], labels

    ds = ds.batch(batch_size * chunk_batches).map(sort_chunk, num_parallel_calls=AUTOTUNE)
    ds = ds.unbatch().batch(batch_size, drop_remainder=drop_remainder)
    ds = ds.map(trim, num_parallel_calls=AUTOTUNE)
    if shuffle:
        ds = ds.shuffle(2 * chunk_batches, seed=seed, reshuffle_each_iteration=True)
    return ds


def augment_dataset(
    ds: tf.data.Dataset, augment: bool | Mapping[str, object], seed: int
) -> tf.data.Dataset:
    """Augment every modality present in batches of ``({modality: batch, ...}, label)``.

    ``augment`` is ``True`` (defaults) or ``{"face": {...}, "audio": {...}, "text": {...}}``
    with :class:`FaceAugment` / :class:`AudioAugment` / :class:`TextAugment` fields; a
    modality mapped to ``False`` is left alone. A missing face or audio input (presence
    flag 0) is re-zeroed after augmentation; text augmentation keeps padding as is.
    """
    options = dict(augment) if isinstance(augment, Mapping) else {}
    unknown = set(options) - set(AUGMENTERS)
    if unknown:
        raise ValueError(f"augment keys must be {', '.join(AUGMENTERS)}; got {sorted(unknown)}")

    def fields(modality: str) -> dict[str, Any] | None:
        value = options.get(modality, True)
        return None if value is False else (dict(value) if isinstance(value, Mapping) else {})

    augmenters = {
        m: cls(**kwargs)
        for m, cls in AUGMENTERS.items()
        if (kwargs := fields(m)) is not None and m in ds.element_spec[0]
    }
    if not augmenters:
        return ds

    def apply(index: tf.Tensor, batch: _Batch) -> _Batch:
        inputs, label = batch
        inputs = dict(inputs)
        seed_pair = tf.stack([tf.cast(seed, tf.int64), index])
        for modality, augmenter in augmenters.items():
            augmented = augmenter(inputs[modality], seed_pair)
            present = inputs.get(f"{modality}_present")
            if present is not None and augmenter.rezero_missing:
                # Noise and brightness must not fill in a missing input.
                augmented = augmented * tf.reshape(present, [-1] + [1] * (len(augmented.shape) - 1))
            inputs[modality] = augmented
        return inputs, label

    # A per-batch counter seeds the stateless augmenters: same seed, same batches.
    return ds.enumerate().map(apply, num_parallel_calls=AUTOTUNE, deterministic=True)


def _add_missing_modalities(
    preprocessor: Preprocessor, modality: str, missing: list[str]
) -> Callable[[dict[str, Any], Any], _Batch]:
    """Feed a unimodal batch to a multimodal model: zeros and presence 0 for the others."""
    inputs_of = {m: preprocessor.for_modality(m) for m in missing}
    shapes = {m: p.input_shape for m, p in inputs_of.items()}
    dtypes = {m: p.input_dtype for m, p in inputs_of.items()}

    def add(inputs: dict[str, Any], y: Any) -> _Batch:
        x = inputs[modality]
        batch = tf.shape(x)[0]
        inputs = {modality: x, f"{modality}_present": tf.ones((batch, 1))}
        for other in missing:
            inputs[other] = tf.zeros(tf.concat([[batch], shapes[other]], 0), dtypes[other])
            inputs[f"{other}_present"] = tf.zeros((batch, 1))
        return inputs, y

    return add
