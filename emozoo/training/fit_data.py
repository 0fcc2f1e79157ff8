"""The datasets of a training run: checks, one pass counting batches and labels, class
weights, one-hot targets and batches that split evenly over replicas."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import keras
import numpy as np


def check_dataset(ds, model: keras.Model, name: str, *, named_inputs: bool = True) -> None:
    """Raise a clear error unless ``ds`` is a ``tf.data`` dataset of ``(inputs, label)``
    batches, not empty, whose inputs are named after ``model``'s (a prepared model,
    ``named_inputs=False``, may take its inputs in any form Keras takes)."""
    import tensorflow as tf

    if not isinstance(ds, tf.data.Dataset):
        raise TypeError(
            f"{name} must be a tf.data.Dataset of (inputs, label) batches, for example from "
            f"emozoo.data.from_manifest; got {type(ds).__name__}"
        )
    spec = ds.element_spec
    if not isinstance(spec, tuple) or len(spec) < 2:
        raise ValueError(f"{name} must yield (inputs, label) pairs; its elements are {spec}")
    inputs = spec[0]
    if named_inputs or isinstance(inputs, Mapping):
        wanted = [t.name for t in model.inputs]
        present = list(inputs) if isinstance(inputs, Mapping) else []
        missing = [key for key in wanted if key not in present]
        if missing:
            raise ValueError(
                f"{name} lacks model inputs {missing}; it has {present or 'no named inputs'}. "
                "Build it with emozoo.data.from_manifest(path, model=model) or make_dataset."
            )
    cardinality = int(ds.cardinality())
    if cardinality == 0:
        raise ValueError(f"{name} is empty")


def scan(ds, num_classes: int, replicas: int = 1) -> tuple[int, np.ndarray]:
    """Number of batches (with at least ``replicas`` samples) and per-class label counts
    of ``ds``, in one pass."""
    counts = np.zeros(num_classes, np.int64)
    batches = 0
    for element in ds:
        y = element[1]
        y = np.asarray(y)
        if y.ndim == 2:  # one-hot rows, or wider target rows that start with one
            hard = y[:, :num_classes]
            labels = hard[hard.sum(-1) > 0].argmax(-1)
        else:
            labels = y.reshape(-1)
        if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
            raise ValueError(
                f"Label index {int(labels.max())} is outside the model's {num_classes} classes"
            )
        counts += np.bincount(labels.astype(np.int64), minlength=num_classes)[:num_classes]
        batches += int(len(y) >= replicas)
    if batches == 0:
        raise ValueError("The dataset is empty")
    return batches, counts


def count_batches(ds) -> int:
    """The dataset's cardinality, or (unknown: a filter in the pipeline) a pass counting."""
    batches = int(ds.cardinality())
    return batches if batches > 0 else sum(1 for _ in ds)


def class_weights_from_counts(counts: Sequence[int]) -> dict[int, float]:
    """``"balanced"`` weights: ``n / (classes present * n_c)``; absent classes get 1.

    >>> class_weights_from_counts([30, 10, 0])
    {0: 0.6666666666666666, 1: 2.0, 2: 1.0}
    """
    values = np.asarray(counts, np.float64)
    present = values > 0
    total, k = values.sum(), int(present.sum())
    return {i: float(total / (k * c)) if c > 0 else 1.0 for i, c in enumerate(values)}


def resolve_class_weight(class_weight, labels: Sequence[str], counts) -> dict[int, float] | None:
    """``{class index: weight}`` of a ``class_weight`` setting (``"balanced"`` needs the
    label ``counts``), or ``None``."""
    if class_weight is None:
        return None
    if isinstance(class_weight, str):
        if class_weight != "balanced":
            raise ValueError(
                f"class_weight must be 'balanced', a dict or None, got {class_weight!r}"
            )
        if counts is None:
            raise ValueError("class_weight='balanced' counts the labels: it needs scan=True")
        return class_weights_from_counts(counts)
    if not isinstance(class_weight, Mapping):
        raise ValueError(f"class_weight must be 'balanced', a dict or None, got {class_weight!r}")
    weights = {i: 1.0 for i in range(len(labels))}
    for key, value in class_weight.items():
        index = labels.index(key) if isinstance(key, str) and key in labels else key
        if not isinstance(index, int) or not 0 <= index < len(labels):
            raise ValueError(f"class_weight key {key!r} is not one of the labels {list(labels)}")
        weights[index] = float(value)
    return weights


def one_hot_labels(ds, num_classes: int):
    """Turn int labels into one-hot rows (label smoothing needs them); a dataset of
    float rows already is one."""
    import tensorflow as tf

    label_spec = ds.element_spec[1]
    if label_spec.dtype.is_floating and label_spec.shape.rank == 2:
        return ds

    def convert(*element):
        x, y = element[0], element[1]
        y = tf.cast(tf.reshape(y, [-1]), tf.int32)
        return (x, tf.one_hot(y, num_classes), *element[2:])

    return ds.map(convert, num_parallel_calls=tf.data.AUTOTUNE)


def divisible_batches(ds, replicas: int):
    """Trim each batch to a multiple of ``replicas`` (JAX shards every batch evenly)."""
    import tensorflow as tf

    def trim(*element):
        size = tf.shape(element[1])[0] // replicas * replicas
        return tuple(keras.tree.map_structure(lambda t: t[:size], item) for item in element)

    return ds.map(trim).filter(lambda *element: tf.shape(element[1])[0] > 0)


__all__ = [
    "check_dataset",
    "class_weights_from_counts",
    "count_batches",
    "divisible_batches",
    "one_hot_labels",
    "resolve_class_weight",
    "scan",
]
