"""Datasets named by a card's ``recipe``: what a registered model trains on and is tested on.

A recipe lists sources as ``[dataset, split]`` (or ``[dataset, split, {kwargs}]``):

    "recipe": {"train": [["fer2013", "Training"]], "val": [["fer2013", "PublicTest"]],
               "epochs": 30, "batch_size": 128, "learning_rate": 0.002, ...}

Text recipes may add ``"bucket_by_length": true`` (batches of similar-length texts, cut to
their longest text; the model is trained with ``sequence_length=None``).

Multimodal models train on cross-dataset pseudo-pairs (``"train": "pairs"``).
"""

from __future__ import annotations

from collections.abc import Sequence

from emozoo.data import Records, concat_records, load_source, make_dataset, sample_indices


def records_for(specs: Sequence[Sequence], root=None) -> Records:
    """One :class:`Records` from a recipe's list of ``[dataset, split, {kwargs}?]``.

    The kwargs go to :func:`emozoo.data.load_source`, except ``"sample": n``, which keeps
    a fixed random subset of ``n`` items (seed 0, in their original order): quick checks
    of slow models evaluate on these.
    """
    parts = []
    for spec in specs:
        source, split, *rest = spec
        kwargs = dict(rest[0]) if rest else {}
        sample = kwargs.pop("sample", None)
        records = load_source(source, split, root=root, **kwargs)
        if sample is not None:
            records = records.subset(sample_indices(len(records), sample, f" for {source}/{split}"))
        parts.append(records)
    return parts[0] if len(parts) == 1 else concat_records(parts)


def describe_sources(specs) -> str:
    """``"fer2013/Training"``-style text for model cards."""
    if isinstance(specs, str):
        return specs
    return " + ".join(f"{s[0]}/{s[1]}" + (f" {s[2]}" if len(s) > 2 else "") for s in specs)


def recipe_datasets(recipe: dict, preprocessor, seed: int = 0, root=None):
    """``(train_ds, val_ds)`` of a unimodal recipe, the training split augmented."""
    batch_size = recipe.get("batch_size", 64)
    bucket = bool(recipe.get("bucket_by_length", False))
    train = records_for(recipe["train"], root)
    val = records_for(recipe["val"], root)
    train_ds = make_dataset(
        train,
        preprocessor,
        batch_size=batch_size,
        augment=recipe.get("augment", True),
        seed=seed,
        bucket_by_length=bucket,
    )
    val_ds = make_dataset(val, preprocessor, batch_size=256, shuffle=False, bucket_by_length=bucket)
    return train_ds, val_ds
