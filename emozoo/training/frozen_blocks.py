"""Fine-tune only the top blocks of a pretrained text Transformer, on cached lower states.

Fine-tuning all of a 110M-parameter encoder costs about 4 s per batch of 32 on two CPU
cores; most of what fine-tuning buys comes from the top blocks. With::

    "frozen_blocks": 8

in a text recipe, the backbone's first 8 blocks stay as pretrained: their output for
every training and validation text is computed once (batches of similar-length texts,
stored as float16 under ``runs/features``), and only the blocks above, the pooling and
the classifier are trained on those arrays, sharing weights with the full model. The
backbone must offer ``lower_blocks(count)`` and ``call_top_blocks(states, mask, first)``
(as :class:`emozoo.models.text_mpnet.model.MPNetBackbone` does).

Texts are not augmented (the cached states are fixed); each epoch shuffles the order of
the cached batches.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from emozoo.data import Records
from emozoo.data.pipeline import tokens_shortest_first
from emozoo.data.recipes import records_for
from emozoo.training.cache_keys import digest
from emozoo.training.config import FitConfig, prepared_model_config
from emozoo.training.frozen_features import call_layers_after

POOLING_LAYER = "mean_pool"
BACKBONE_LAYER = "backbone"

#: One cached batch: ``(states (b, length, hidden) float16, padding mask (b, length) int8,
#: labels (b,) int32)``.
CachedBatch = tuple[np.ndarray, np.ndarray, np.ndarray]


def _split_backbone(model: keras.Model):
    backbone = model.get_layer(BACKBONE_LAYER)
    if not (hasattr(backbone, "lower_blocks") and hasattr(backbone, "call_top_blocks")):
        raise ValueError(
            f"frozen_blocks needs a backbone with lower_blocks() and call_top_blocks(); "
            f"{model.name}'s {type(backbone).__name__} has neither"
        )
    return backbone


def top_model(model: keras.Model, frozen_blocks: int) -> keras.Model:
    """``{"states", "padding_mask"} -> predictions`` through ``model``'s own upper layers.

    ``states`` is the output of block ``frozen_blocks - 1``; the shared relative position
    bias is frozen, since the cached lower blocks were computed with it.
    """
    backbone = _split_backbone(model)
    backbone.get_layer("relative_position_bias").trainable = False
    states = keras.Input((None, backbone.hidden_dim), name="states")
    padding_mask = keras.Input((None,), dtype="int32", name="padding_mask")
    x = backbone.call_top_blocks(states, padding_mask, first=frozen_blocks)
    pooled = model.get_layer(POOLING_LAYER)([x, padding_mask])
    x = call_layers_after(model, POOLING_LAYER, pooled)
    return keras.Model(
        {"states": states, "padding_mask": padding_mask}, x, name=f"{model.name}_top"
    )


def cache_lower_states(
    lower: keras.Model,
    records: Records,
    preprocessor,
    *,
    batch_size: int,
    cache: Path | None = None,
) -> list[CachedBatch]:
    """The lower blocks' states of every text, in batches of similar length (shortest first).

    ``cache`` (an ``.npz`` path) is read when it exists and written otherwise.
    """
    if cache is not None and cache.is_file():
        with np.load(cache) as stored:
            count = len(stored.files) // 3
            return [(stored[f"s{i}"], stored[f"m{i}"], stored[f"y{i}"]) for i in range(count)]
    ids, order = tokens_shortest_first(records, preprocessor)
    lengths = (ids != 0).sum(axis=1)
    labels = np.asarray(records.labels, "int32")
    predict = tf.function(lambda x: lower(x, training=False), reduce_retracing=True)
    bar = keras.utils.Progbar(len(records), unit_name="text")
    batches: list[CachedBatch] = []
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        width = max(int(lengths[rows].max()), 1)
        token_ids = ids[rows, :width]
        mask = (token_ids != 0).astype("int32")
        states = predict({"token_ids": tf.constant(token_ids), "padding_mask": tf.constant(mask)})
        batches.append((np.asarray(tf.cast(states, "float16")), mask.astype("int8"), labels[rows]))
        bar.add(len(rows))
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, Any] = {}
        for i, (s, m, y) in enumerate(batches):
            arrays.update({f"s{i}": s, f"m{i}": m, f"y{i}": y})
        np.savez(cache, **arrays)
    return batches


def cached_dataset(
    batches: Sequence[CachedBatch], hidden_dim: int, *, shuffle: bool, seed: int = 0
) -> tf.data.Dataset:
    """``({"states", "padding_mask"}, label)`` batches; shuffled batch order when training."""
    rng = np.random.default_rng(seed)

    def generate():
        order = rng.permutation(len(batches)) if shuffle else range(len(batches))
        for i in order:
            states, mask, labels = batches[i]
            yield {"states": states, "padding_mask": mask.astype("int32")}, labels

    signature = (
        {
            "states": tf.TensorSpec((None, None, hidden_dim), tf.float16),
            "padding_mask": tf.TensorSpec((None, None), tf.int32),
        },
        tf.TensorSpec((None,), tf.int32),
    )
    ds = tf.data.Dataset.from_generator(generate, output_signature=signature)
    return ds.apply(tf.data.experimental.assert_cardinality(len(batches))).prefetch(2)


def train_top_blocks(
    model: keras.Model,
    train_specs: Sequence[Sequence],
    val_specs: Sequence[Sequence],
    preprocessor,
    *,
    frozen_blocks: int,
    batch_size: int,
    cache_dir: str | Path,
    cache_key: str,
    seed: int,
    fit_options: FitConfig | Mapping[str, Any],
) -> keras.callbacks.History:
    """Freeze ``model``'s embeddings and first ``frozen_blocks`` blocks, train the rest.

    ``cache_key`` names what made the states (model, tokenizer, backbone weights): caches
    are reused only under the same key.

    ``train_specs``/``val_specs`` are a recipe's ``[dataset, split, {kwargs}?]`` lists;
    a source listed twice is cached once and trained on twice per epoch.

    ``fit_options``: the :class:`~emozoo.training.config.FitConfig` of the top's
    training, or flat options for one (a prepared model, trained in place); it resumes
    an interrupted run in its ``log_dir`` and also keeps the best epoch's weights in
    ``<log_dir>/best.weights.h5``.
    """
    from emozoo.training.finetune import fit

    config = prepared_model_config(fit_options)

    backbone = _split_backbone(model)
    lower = backbone.lower_blocks(frozen_blocks)
    cache_dir = Path(cache_dir)
    cached: dict[str, list[CachedBatch]] = {}

    def batches_of(specs) -> list[CachedBatch]:
        out: list[CachedBatch] = []
        for spec in specs:
            key = digest(spec, f"{cache_key}_frozen{frozen_blocks}_b{batch_size}", length=12)
            if key not in cached:
                records = records_for([spec])
                print(
                    f"{model.name}: states of blocks 0-{frozen_blocks - 1} for {len(records)} texts of {spec[0]}/{spec[1]}"
                )
                cached[key] = cache_lower_states(
                    lower,
                    records,
                    preprocessor,
                    batch_size=batch_size,
                    cache=cache_dir / f"{cache_key}_{key}.npz",
                )
            out.extend(cached[key])
        return out

    train_batches = batches_of(train_specs)
    val_batches = batches_of(val_specs)
    top = top_model(model, frozen_blocks)
    trainable = sum(int(np.prod(w.shape)) for w in top.trainable_weights)
    print(
        f"{model.name}: training the top {backbone.num_layers - frozen_blocks} blocks and the "
        f"classifier ({trainable:,} parameters) on {len(train_batches)} cached batches"
    )
    config = config.replace(resume=True)
    if config.run.log_dir is not None:
        config = config.replace(checkpoint=Path(config.run.log_dir) / "best.weights.h5")
    return fit(
        top,
        cached_dataset(train_batches, backbone.hidden_dim, shuffle=True, seed=seed),
        cached_dataset(val_batches, backbone.hidden_dim, shuffle=False),
        config=config,
    )
