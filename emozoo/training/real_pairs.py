"""Train on real face + voice pairs: the ``face_au`` model and an AU + speech fusion head.

RAVDESS gives, for each trial, the facial action units and the speech of one actor at
one moment (``ravdess_face_au``): real pairs, split by actor (1-18 train, 19-20
validation, 21-24 test). Training here runs on cached arrays:

- the AUs themselves (35 values per trial);
- ``audio_whisper``'s frozen ``layer_statistics`` of each clip (and augmented copies),
  computed once per split and cached under ``runs/``;
- the fusion head over the two encoders' embeddings, every epoch drawing for each pair
  one copy of its clip and, half of the time, a random non-empty subset of modalities
  (missing-modality training, as the pseudo-pair fused models).

``pairing="pseudo"`` trains the same head on pseudo-pairs built from the same training
trials: one trial's AUs with another trial's voice of the same label (never its own),
so the real-pair and the pseudo-pair head differ only in what a pair is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from emozoo.data.datasets.face_au_sources import load_ravdess_au_pairs
from emozoo.models import EMBEDDING_LAYER, presence_input_name
from emozoo.preprocessing.speakers import SpeakerIds
from emozoo.training.frozen_features import compute_features, feature_model, head_model

#: audio_whisper's frozen feature layer (the cached arrays).
STATISTICS_LAYER = "layer_statistics"
PAIRINGS = ("real", "pseudo")


def au_statistics(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-AU mean and standard deviation of training AUs (``NaN`` ignored)."""
    values = np.asarray(values, np.float64)
    return np.nanmean(values, axis=0).astype(np.float32), np.nanstd(values, axis=0).astype(
        np.float32
    )


def cached_audio_statistics(
    audio_model: keras.Model,
    preprocessor,
    split: str,
    *,
    cache_dir: str | Path,
    cache_key: str,
    augmented_copies: int = 0,
    root=None,
    seed: int = 0,
) -> np.ndarray:
    """``(n, 1 + copies, layers, 2 * dim)`` frozen statistics of the split's clips, cached
    as ``<cache_dir>/<cache_key>_<split>_x<copies>.npy`` (read when present; the key
    names the audio model's weights)."""
    records = load_ravdess_au_pairs(split, root)["audio"]
    return compute_features(
        feature_model(audio_model, STATISTICS_LAYER),
        records,
        preprocessor,
        augmented_copies=augmented_copies,
        seed=seed,
        cache=Path(cache_dir) / f"{cache_key}_{split}_x{augmented_copies}.npy",
    )


def audio_embeddings_from_statistics(audio_encoder: keras.Model, statistics: np.ndarray):
    """``audio_whisper`` embeddings ``(n, copies, dim)`` of cached statistics, through the
    encoder's own layers after :data:`STATISTICS_LAYER` (an encoder built without top)."""
    head = head_model(audio_encoder, STATISTICS_LAYER)
    if head.output.name != EMBEDDING_LAYER and head.layers[-1].name != EMBEDDING_LAYER:
        raise ValueError("the audio encoder must end at its embedding (include_top=False)")
    n, copies = statistics.shape[:2]
    flat = statistics.reshape(n * copies, *statistics.shape[2:])
    values = np.asarray(head.predict(flat, batch_size=256, verbose=0))
    return values.reshape(n, copies, -1)


def standardise_copies_by_speaker(
    values: np.ndarray, speakers: SpeakerIds, *, min_clips: int = 1
) -> np.ndarray:
    """``(n, copies, ...)`` values standardised per speaker with each speaker's statistics
    of copy 0 (the clean recordings: augmented copies are not what inference sees)."""
    from emozoo.preprocessing.speakers import speaker_statistics, standardise_by_speaker

    statistics = speaker_statistics(values[:, 0], speakers, min_clips=min_clips)
    n, copies = values.shape[:2]
    flat = values.reshape(n * copies, *values.shape[2:])
    return standardise_by_speaker(
        flat, np.repeat(np.asarray(speakers), copies), statistics=statistics
    ).reshape(values.shape)


def real_pair_embeddings(
    entry,
    splits: Mapping[str, int],
    *,
    cache_dir: str | Path,
    seed: int = 0,
) -> dict[str, tuple[dict[str, np.ndarray], np.ndarray]]:
    """The embeddings a fused real-pair card's head trains and is tested on, per split.

    Args:
        entry: the fused card's registry entry: its recipe's ``encoders`` name the frozen
            encoder of each modality, its ``speaker_normalisation`` (if any) says which
            inputs and embeddings are standardised per actor.
        splits: ``ravdess_face_au`` split name -> augmented copies of its speech.
        cache_dir: where the speech encoder's layer statistics are cached
            (:func:`cached_audio_statistics`).
        seed: seed of the augmented copies (used only when the cache is written).

    Returns:
        ``{split: ({modality: (n, copies, dim)}, labels)}``: feature inputs (the AUs)
        through their encoder (one copy), speech from the cached statistics (clean copy
        first); with speaker normalisation, each actor's inputs and embeddings
        standardised by that actor's own mean and spread (embeddings: of the clean copy).
    """
    import emozoo
    from emozoo.data.datasets.face_au_sources import trial_actors
    from emozoo.preprocessing.speakers import standardise_by_speaker
    from emozoo.registry import get_entry

    norm = entry.speaker_normalisation
    encoder_names = dict(entry.recipe["encoders"])
    encoders = {m: emozoo.load(n, include_top=False) for m, n in encoder_names.items()}
    preprocessors = {m: emozoo.load_preprocessor(n) for m, n in encoder_names.items()}
    full_models: dict[str, keras.Model] = {}
    out = {}
    for split, copies in splits.items():
        pairs = load_ravdess_au_pairs(split)
        actors = trial_actors(split)
        embeddings = {}
        for modality, records in pairs.items():
            encoder_name = encoder_names[modality]
            inputs = preprocessors[modality].for_modality(modality)
            if hasattr(inputs, "sample_rate"):
                # Speech: the frozen layer statistics, computed once and cached.
                if modality not in full_models:
                    full_models[modality] = emozoo.load(encoder_name)
                weights = get_entry(encoder_name).weights
                if weights is None:
                    raise ValueError(f"{encoder_name} has no pretrained weights to encode with")
                key = f"ravdess_au_pairs_{weights.sha256[:12]}"
                full = full_models[modality]
                if any(layer.name == STATISTICS_LAYER for layer in full.layers):
                    statistics = cached_audio_statistics(
                        full,
                        preprocessors[modality],
                        split,
                        cache_dir=cache_dir,
                        cache_key=key,
                        augmented_copies=copies,
                        seed=seed,
                    )
                    embeddings[modality] = audio_embeddings_from_statistics(
                        encoders[modality], statistics
                    )
                else:  # another speech encoder (audio_lstm_distilled): its embeddings
                    embeddings[modality] = compute_features(
                        feature_model(full, EMBEDDING_LAYER),
                        records,
                        preprocessors[modality],
                        augmented_copies=copies,
                        seed=seed,
                        cache=Path(cache_dir) / f"{key}_{split}_x{copies}_embedding.npy",
                    )
            else:
                raw = inputs.from_items(records.items)
                if norm is not None and modality in norm.inputs:
                    raw = standardise_by_speaker(raw, actors, min_clips=norm.min_clips)
                values = encoders[modality].predict({modality: raw}, batch_size=256, verbose=0)
                embeddings[modality] = np.asarray(values)[:, None]
            if norm is not None and modality in norm.embeddings:
                embeddings[modality] = standardise_copies_by_speaker(
                    embeddings[modality], actors, min_clips=norm.min_clips
                )
        out[split] = (embeddings, pairs["face_au"].labels)
    return out


def partner_indices(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """For each item, another item of the same label (a pseudo-pair's other half)."""
    labels = np.asarray(labels)
    out = np.empty(len(labels), np.int64)
    for label in np.unique(labels):
        rows = np.flatnonzero(labels == label)
        if len(rows) < 2:
            raise ValueError(f"label {label} has one item; a pseudo-pair needs another")
        # A random derangement within the class: never an item with itself.
        shift = rng.integers(1, len(rows), size=len(rows))
        order = rng.permutation(len(rows))
        out[rows[order]] = rows[order][(np.arange(len(rows)) + shift) % len(rows)]
    return out


def pair_inputs(
    embeddings: Mapping[str, np.ndarray],
    labels: np.ndarray,
    *,
    repeats: int,
    pairing: str,
    full_probability: float,
    seed: int,
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Training inputs of the fusion head: ``repeats`` passes over the items, each pass
    with one random copy per item (``embeddings[m]`` is ``(n, copies, dim)``), a random
    subset of modalities dropped with probability ``1 - full_probability`` and, for
    ``pairing="pseudo"``, every modality but the first taken from a same-label partner."""
    if pairing not in PAIRINGS:
        raise ValueError(f"pairing is one of {PAIRINGS}, got {pairing!r}")
    rng = np.random.default_rng(seed)
    modalities = list(embeddings)
    n = len(labels)
    columns: dict[str, list] = {m: [] for m in modalities}
    presence: dict[str, list] = {m: [] for m in modalities}
    for _ in range(repeats):
        for i, m in enumerate(modalities):
            rows = np.arange(n)
            if pairing == "pseudo" and i > 0:
                rows = partner_indices(labels, rng)
            copies = rng.integers(0, embeddings[m].shape[1], size=n)
            columns[m].append(embeddings[m][rows, copies])
        present = np.ones((n, len(modalities)), bool)
        dropped = rng.random(n) >= full_probability
        for row in np.flatnonzero(dropped):
            keep = rng.random(len(modalities)) < 0.5
            if not keep.any() or keep.all():
                keep = np.zeros(len(modalities), bool)
                keep[rng.integers(len(modalities))] = True
            present[row] = keep
        for j, m in enumerate(modalities):
            presence[m].append(present[:, j])
    inputs = {}
    for m in modalities:
        flags = np.concatenate(presence[m]).astype(np.float32)[:, None]
        inputs[m] = np.concatenate(columns[m]).astype(np.float32) * flags
        inputs[presence_input_name(m)] = flags
    return inputs, np.tile(np.asarray(labels, np.int64), repeats)


def evaluation_inputs(
    embeddings: Mapping[str, np.ndarray], modalities: Sequence[str] | None = None
) -> dict[str, np.ndarray]:
    """Head inputs of real pairs (copy 0 of each item), only ``modalities`` present."""
    keep = set(modalities or embeddings)
    inputs = {}
    for m, values in embeddings.items():
        present = np.full((len(values), 1), float(m in keep), np.float32)
        inputs[m] = values[:, 0].astype(np.float32) * present
        inputs[presence_input_name(m)] = present
    return inputs


def train_fusion_head(
    head: keras.Model,
    train: tuple[Mapping[str, np.ndarray], np.ndarray],
    val: tuple[Mapping[str, np.ndarray], np.ndarray],
    *,
    pairing: str,
    epochs: int,
    batch_size: int,
    learning_rate: float,
    weight_decay: float,
    label_smoothing: float,
    repeats: int,
    full_probability: float,
    seed: int,
    log_dir: str | Path,
) -> keras.callbacks.History:
    """Train ``head`` (the fused architecture over identity encoders) on embeddings:
    ``train``/``val`` are ``({modality: (n, copies, dim)}, labels)``. Validation pairs
    are built as the training ones (real, or pseudo from the validation trials), all
    modalities present; the best epoch on them is kept."""

    keras.utils.set_random_seed(seed)
    x, y = pair_inputs(
        train[0],
        train[1],
        repeats=repeats,
        pairing=pairing,
        full_probability=full_probability,
        seed=seed,
    )
    vx, vy = pair_inputs(
        val[0], val[1], repeats=1, pairing=pairing, full_probability=1.0, seed=seed + 1
    )
    return _train_on_arrays(
        head,
        (x, y),
        (vx, vy),
        checkpoint="head.weights.h5",
        epochs=epochs,
        batch_size=batch_size,
        learning_rate=learning_rate,
        weight_decay=weight_decay,
        label_smoothing=label_smoothing,
        seed=seed,
        log_dir=log_dir,
    )


def train_face_au_model(
    model: keras.Model,
    train_items: np.ndarray,
    train_labels: np.ndarray,
    val_items: np.ndarray,
    val_labels: np.ndarray,
    *,
    epochs: int,
    batch_size: int,
    learning_rate: float,
    weight_decay: float,
    label_smoothing: float,
    seed: int,
    log_dir: str | Path,
) -> keras.callbacks.History:
    """Set ``model``'s AU standardisation from the training AUs, then train it (best
    epoch on validation accuracy)."""
    from emozoo.models import set_au_statistics

    keras.utils.set_random_seed(seed)
    set_au_statistics(model, *au_statistics(train_items))
    name = model.inputs[0].name
    return _train_on_arrays(
        model,
        ({name: train_items.astype(np.float32)}, train_labels),
        ({name: val_items.astype(np.float32)}, val_labels),
        checkpoint="best.weights.h5",
        epochs=epochs,
        batch_size=batch_size,
        learning_rate=learning_rate,
        weight_decay=weight_decay,
        label_smoothing=label_smoothing,
        seed=seed,
        log_dir=log_dir,
    )


def _train_on_arrays(
    model: keras.Model,
    train: tuple,
    val: tuple,
    *,
    checkpoint: str,
    epochs: int,
    batch_size: int,
    learning_rate: float,
    weight_decay: float,
    label_smoothing: float,
    seed: int,
    log_dir: str | Path,
) -> keras.callbacks.History:
    """``model`` trained on in-memory ``(inputs, labels)`` (shuffled batches), the best
    epoch on ``val`` kept in ``log_dir/checkpoint``."""
    from emozoo.training.config import FitConfig
    from emozoo.training.finetune import fit

    (x, y), (vx, vy) = train, val
    train_ds = tf.data.Dataset.from_tensor_slices((x, y.astype(np.int32)))
    train_ds = train_ds.shuffle(len(y), seed=seed).batch(batch_size)
    val_ds = tf.data.Dataset.from_tensor_slices((vx, vy.astype(np.int32))).batch(256)
    config = FitConfig.for_prepared_model(
        epochs=epochs,
        checkpoint=Path(log_dir) / checkpoint,
        log_dir=log_dir,
        resume=False,
        learning_rate=learning_rate,
        weight_decay=weight_decay,
        warmup_epochs=1,
        label_smoothing=label_smoothing,
        verbose=0,
    )
    return fit(model, train_ds, val_ds, config=config)
