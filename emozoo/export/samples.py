"""Inputs to calibrate, check and score exports: real samples from the shared datasets,
or synthetic ones when the datasets are absent.

Real samples come from the same splits the fused models' pseudo-pairs use
(:data:`emozoo.data.pairs.PAIR_SOURCES`): ``train`` for int8 calibration, ``test`` for
parity and accuracy. A model is matched to data by its input names (``face``, ``text``,
``audio``; all three plus presence flags for a fused model).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np

from emozoo.registry.entry import MODALITY_NAMES


@dataclass
class Samples:
    """Model inputs for ``n`` samples, with their labels when they are real.

    Attributes:
        inputs: ``{input name: array}``, each with ``n`` rows.
        labels: int64 ``(n,)`` indices into ``label_names``, or ``None`` (synthetic).
        label_names: the label set of ``labels``.
        description: where the samples come from, for reports.
    """

    inputs: dict[str, np.ndarray]
    labels: np.ndarray | None
    label_names: tuple[str, ...] | None
    description: str

    def __len__(self) -> int:
        return len(next(iter(self.inputs.values())))

    @property
    def real(self) -> bool:
        return self.labels is not None

    def row(self, i: int) -> dict[str, np.ndarray]:
        """Sample ``i`` as a batch of one."""
        return {k: v[i : i + 1] for k, v in self.inputs.items()}

    def take(self, n: int) -> Samples:
        """The first ``n`` samples."""
        return Samples(
            {k: v[:n] for k, v in self.inputs.items()},
            None if self.labels is None else self.labels[:n],
            self.label_names,
            self.description,
        )


#: Samples given for a parity check or int8 calibration: ``"auto"``, a :class:`Samples`,
#: a dict of input arrays, or a ``tf.data.Dataset`` / iterable of input dicts (optionally
#: with labels) (see :func:`as_samples`).
SampleData = str | Samples | Mapping[str, np.ndarray] | Iterable[Any]


def as_samples(data, model, what: str) -> Samples:
    """Normalise user-given ``data`` (a :class:`Samples`, a dict of arrays, or a
    ``tf.data.Dataset`` / iterable of ``inputs`` or ``(inputs, labels)`` batches)."""
    if isinstance(data, Samples):
        samples = data
    elif isinstance(data, dict):
        samples = Samples({k: np.asarray(v) for k, v in data.items()}, None, None, f"given {what}")
    else:
        try:
            batches = list(iter(data))
        except TypeError:
            raise TypeError(
                f"{what} must be a dict of arrays, a Samples, or an iterable / tf.data.Dataset "
                f"of input dicts, not {type(data).__name__}"
            ) from None
        if not batches:
            raise ValueError(f"{what} is empty")
        inputs = [b[0] if isinstance(b, tuple) else b for b in batches]
        if not all(isinstance(b, dict) for b in inputs):
            raise TypeError(f"{what} must yield dicts of input arrays (optionally with labels)")
        labels = [np.asarray(b[1]) for b in batches if isinstance(b, tuple) and len(b) > 1]
        samples = Samples(
            {k: np.concatenate([np.asarray(b[k]) for b in inputs]) for k in inputs[0]},
            np.concatenate(labels).astype(np.int64) if len(labels) == len(batches) else None,
            None,
            f"given {what}",
        )
    expected = {t.name: (tuple(t.shape[1:]), str(t.dtype)) for t in model.inputs}
    missing = sorted(set(expected) - set(samples.inputs))
    if missing:
        raise ValueError(f"{what} lacks model inputs {missing}; the model takes {sorted(expected)}")
    if not len(samples):
        raise ValueError(f"{what} is empty")
    checked = {}
    for name, (shape, dtype) in expected.items():
        value = np.asarray(samples.inputs[name])
        if value.shape[1:] != shape:
            raise ValueError(
                f"{what}[{name!r}] has shape {value.shape}; the model expects (n, {', '.join(map(str, shape))})"
            )
        if len(value) != len(samples):
            raise ValueError(f"{what}: inputs have different numbers of rows")
        checked[name] = value.astype(dtype)
    return Samples(checked, samples.labels, samples.label_names, samples.description)


def _preprocessor(source):
    from emozoo.preprocessing import Preprocessor

    modalities = [m for m in MODALITY_NAMES if m in source.preprocessing]
    return Preprocessor(modalities, source.preprocessing, source.labels)


def _take(items, index):
    """``items[index]`` of an array or a list."""
    return items[index] if isinstance(items, np.ndarray) else [items[i] for i in index]


def _pick(count: int, n: int | None, seed: int) -> np.ndarray:
    if n is None or n >= count:
        return np.arange(count)
    return np.sort(np.random.default_rng(seed).choice(count, size=n, replace=False))


def real_samples(source, split: str, n: int | None = None, seed: int = 0, root=None) -> Samples:
    """``n`` samples (all with ``None``) of the ``train`` / ``val`` / ``test`` split for
    ``source`` (an :class:`~emozoo.export.source.ExportSource`, a model or a name).

    Raises ``DatasetNotFoundError`` (a ``FileNotFoundError``) where the data is absent
    and ``ValueError`` where the model does not fit the shared data.

    >>> samples = real_samples("face_cnn", "test", n=100)  # doctest: +SKIP
    >>> samples.inputs["face"].shape  # doctest: +SKIP
    (100, 48, 48, 1)
    """
    from emozoo.data import concat_records, load_source
    from emozoo.data.pairs import PAIR_SOURCES, load_pairs
    from emozoo.export.source import ExportSource, resolve

    if not isinstance(source, ExportSource):
        source = resolve(source)
    if split not in PAIR_SOURCES:
        raise ValueError(f"split must be one of {list(PAIR_SOURCES)}, got {split!r}")
    if n is not None and n < 1:
        raise ValueError(f"n must be at least 1 (or None for all), got {n}")
    names = set(source.input_names)
    modalities = [m for m in MODALITY_NAMES if m in names]
    if not modalities:
        raise ValueError(f"{source.name} takes no face, text or audio input; no data fits it")
    pre = _preprocessor(source)
    for modality in modalities:
        pre.for_modality(modality).check_fits(source.model)
    fused = any(name.endswith("_present") for name in names)
    if fused:
        if set(modalities) != set(MODALITY_NAMES):
            raise ValueError(f"{source.name}: presence flags without all three modalities")
        pairs, records = load_pairs(split, root=root)
        idx = _pick(len(pairs), n, seed)
        specs = {t.name: (tuple(t.shape[1:]), str(t.dtype)) for t in source.model.inputs}
        inputs = {}
        for m in MODALITY_NAMES:
            rows = getattr(pairs, m)[idx]
            present = rows >= 0
            items = records[m].items
            shape, dtype = specs[m]
            value = np.zeros((len(idx), *shape), dtype)
            chosen = rows[present]
            if len(chosen):
                value[present] = pre.for_modality(m).from_items(_take(items, chosen))
            inputs[m] = value
            inputs[f"{m}_present"] = present.astype(np.float32)[:, None]
        labels, label_names = pairs.labels[idx], pairs.label_names
        description = f"pairs/{split} ({len(idx)} of {len(pairs)} pseudo-pairs, seed {seed})"
    else:
        (modality,) = modalities
        records = concat_records(
            [load_source(name, s, root=root) for name, s in PAIR_SOURCES[split][modality]]
        )
        idx = _pick(len(records), n, seed)
        inputs = {modality: pre.for_modality(modality).from_items(_take(records.items, idx))}
        labels, label_names = records.labels[idx], records.label_names
        parts = "+".join(f"{name}/{s}" for name, s in PAIR_SOURCES[split][modality])
        description = f"{parts} ({len(idx)} of {len(records)}, seed {seed})"
    return Samples(
        as_samples(inputs, source.model, "samples").inputs, labels, label_names, description
    )


def synthetic_samples(source, n: int, seed: int = 0, drop_modalities: bool = False) -> Samples:
    """``n`` made-up inputs of the right shapes and ranges: noise faces, random token ids
    followed by padding, tones in noise. For checking an export where no data is at hand,
    never for judging accuracy. With ``drop_modalities`` half the samples of a fused model
    miss a random subset of modalities (zeros, flag 0), as in training.

    >>> synthetic_samples("text_bilstm", 4).inputs["text"].shape  # doctest: +SKIP
    (4, 64)
    """
    from emozoo.export.source import ExportSource, resolve

    if not isinstance(source, ExportSource):
        source = resolve(source)
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    rng = np.random.default_rng(seed)
    inputs: dict[str, np.ndarray] = {}
    rows = [
        layer.input_dim
        for layer in source.model._flatten_layers(include_self=False, recursive=True)
        if isinstance(layer, keras.layers.Embedding)
    ]
    pre = _preprocessor(source)
    for tensor in source.model.inputs:
        name, shape, dtype = tensor.name, tuple(tensor.shape[1:]), str(tensor.dtype)
        if name.endswith("_present"):
            inputs[name] = np.ones((n, *shape), np.float32)
        elif name in pre.modalities:
            inputs[name] = pre.for_modality(name).synthetic(n, rng, token_rows=min(rows or [2]))
            inputs[name] = inputs[name].astype(dtype).reshape(n, *shape)
        else:
            inputs[name] = rng.normal(0, 1, size=(n, *shape)).astype(dtype)
    present = [m for m in MODALITY_NAMES if f"{m}_present" in inputs]
    if drop_modalities and len(present) > 1:
        for i in np.flatnonzero(rng.random(n) < 0.5):
            keep = set(rng.choice(present, size=rng.integers(1, len(present) + 1), replace=False))
            for m in present:
                if m not in keep:
                    inputs[m][i] = 0
                    inputs[f"{m}_present"][i] = 0.0
    return Samples(inputs, None, None, f"synthetic ({n} samples, seed {seed})")


__all__ = ["Samples", "as_samples", "real_samples", "synthetic_samples"]
