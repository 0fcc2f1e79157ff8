"""Train a model's head on features of its frozen pretrained backbone, computed once.

For models whose graph has a named feature layer (``audio_whisper``'s
``layer_statistics``), the backbone's output for every training item, and for a few
augmented copies of it, is computed once and cached under ``runs/``; the head (every
layer after the feature layer) is then trained on those arrays in seconds per epoch and
shares its weights with the full model. The recipe says so with::

    "frozen_features": {"layer": "layer_statistics", "augmented_copies": 2}

Augmented copies of a clip: speed perturbation (0.9-1.1, by resampling: tempo and
pitch together), random gain, Gaussian noise at a random SNR, with probability
``"babble"`` another training clip mixed in at 5-20 dB (overlapping talkers), and a
time shift.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from emozoo.data import Records
from emozoo.preprocessing.audio import AudioPreprocessor, fit_length, read_audio, resample
from emozoo.training.config import FitConfig, prepared_model_config


def feature_model(model: keras.Model, layer: str) -> keras.Model:
    """The sub-model from ``model``'s inputs to layer ``layer``'s output (shares weights)."""
    return keras.Model(model.inputs, model.get_layer(layer).output, name=f"{model.name}_{layer}")


def head_model(model: keras.Model, layer: str) -> keras.Model:
    """A model from ``layer``'s output to ``model``'s output, calling ``model``'s own layers.

    Works for a head that is a chain (each layer after ``layer`` takes the previous
    one's output), as ``audio_whisper``'s is; the head shares weights with ``model``.
    """
    features = keras.Input(tuple(model.get_layer(layer).output.shape[1:]), name=layer)
    return keras.Model(
        features, call_layers_after(model, layer, features), name=f"{model.name}_head"
    )


def call_layers_after(model: keras.Model, layer: str, x):
    """``x`` through every layer of ``model`` after ``layer``, in order (a chain head).

    The layers are ``model``'s own, so a model built on the result shares its weights.
    """
    names = [lay.name for lay in model.layers]
    if layer not in names:
        raise ValueError(f"{model.name} has no layer {layer!r}; its layers: {', '.join(names)}")
    for lay in model.layers[names.index(layer) + 1 :]:
        x = lay(x)
    return x


def perturb(
    waveform: np.ndarray,
    rng: np.random.Generator,
    sample_rate: int,
    num_samples: int,
    other: np.ndarray | None = None,
) -> np.ndarray:
    """One augmented copy of a clip (see the module docstring); ``other``, another clip,
    is mixed in as babble."""
    if other is not None:
        other = np.resize(other, len(waveform)) if len(other) else np.zeros_like(waveform)
        speech = np.mean(waveform**2) + 1e-10
        snr = rng.uniform(5, 20)
        waveform = waveform + other * np.sqrt(
            speech / 10 ** (snr / 10) / (np.mean(other**2) + 1e-10)
        )
    speed = rng.uniform(0.9, 1.1)
    target = int(round(sample_rate / speed))
    waveform = resample(waveform, sample_rate, target) if target != sample_rate else waveform
    waveform = waveform * 10 ** (rng.uniform(-6, 6) / 20)
    if rng.random() < 0.5:
        power = np.mean(waveform**2) + 1e-10
        snr = rng.uniform(10, 40)
        waveform = waveform + rng.standard_normal(len(waveform)) * np.sqrt(power / 10 ** (snr / 10))
    shift = int(rng.integers(0, int(0.2 * sample_rate) + 1))
    waveform = np.concatenate([np.zeros(shift, np.float32), waveform])
    return np.clip(fit_length(waveform.astype(np.float32), num_samples), -1, 1)


def compute_features(
    features: keras.Model,
    records: Records,
    preprocessor,
    *,
    augmented_copies: int = 0,
    babble: float = 0.0,
    seed: int = 0,
    batch_size: int = 32,
    cache: str | Path | None = None,
    progress: bool = True,
) -> np.ndarray:
    """Features ``(n, 1 + augmented_copies, ...)`` of audio ``records`` (copy 0 is clean).

    ``cache`` (a ``.npy`` path) is read when it exists and written otherwise, so an
    interrupted run resumes without recomputing.
    """
    if cache is not None and Path(cache).is_file():
        return np.load(cache)
    if not isinstance(preprocessor.for_modality(records.modality), AudioPreprocessor):
        raise ValueError(f"frozen-feature training reads audio records, got {records.modality}")
    rate, num_samples = preprocessor.audio.sample_rate, preprocessor.audio.num_samples
    rng = np.random.default_rng(seed)
    predict = tf.function(lambda x: features(x, training=False))
    bar = keras.utils.Progbar(len(records), unit_name="clip") if progress else None
    out: np.ndarray | None = None
    for start in range(0, len(records), batch_size):
        paths = records.items[start : start + batch_size]
        clips = []

        def clip_at(index: int) -> np.ndarray:
            wave, file_rate = read_audio(records.items[index])
            return resample(wave, file_rate, rate)

        for offset in range(len(paths)):
            wave = clip_at(start + offset)
            clips.append([fit_length(wave, num_samples)])
            for _ in range(augmented_copies):
                other = None
                if rng.random() < babble:
                    other = clip_at(int(rng.integers(len(records))))
                clips[-1].append(perturb(wave, rng, rate, num_samples, other))
        batch = np.asarray(clips, np.float32)  # (b, copies, samples)
        flat = batch.reshape(-1, num_samples)
        values = np.asarray(predict({"audio": tf.constant(flat)}))
        values = values.reshape(len(paths), 1 + augmented_copies, *values.shape[1:])
        if out is None:
            out = np.zeros((len(records), *values.shape[1:]), np.float32)
        out[start : start + len(paths)] = values
        if bar is not None:
            bar.add(len(paths))
    if cache is not None:
        Path(cache).parent.mkdir(parents=True, exist_ok=True)
        np.save(cache, out)  # type: ignore[arg-type]  # None only for empty records
    return out  # type: ignore[return-value]  # None only for empty records


def feature_dataset(
    values: np.ndarray,
    labels: np.ndarray,
    batch_size: int,
    *,
    shuffle: bool,
    seed: int = 0,
) -> tf.data.Dataset:
    """Batches of ``(features, label)``; in training each epoch draws one copy per item."""
    layer_input = values.shape[2:]
    if not shuffle:
        ds = tf.data.Dataset.from_tensor_slices((values[:, 0], labels))
        return ds.batch(batch_size)
    copies = values.shape[1]
    values_t = tf.constant(values)
    labels_t = tf.constant(labels)

    def draw(index, copy):
        return values_t[index, copy], labels_t[index]

    ds = tf.data.Dataset.range(len(labels)).shuffle(len(labels), seed=seed)
    random = tf.data.Dataset.random(seed=seed).map(lambda r: tf.math.floormod(r, copies))
    ds = tf.data.Dataset.zip(ds, random).map(draw)
    ds = ds.map(lambda x, y: (tf.ensure_shape(x, layer_input), y))
    return ds.batch(batch_size)


def train_head_on_features(
    model: keras.Model,
    train_records: Records,
    val_records: Records,
    preprocessor,
    *,
    layer: str,
    augmented_copies: int,
    babble: float = 0.0,
    batch_size: int,
    cache_dir: str | Path,
    seed: int,
    fit_options: FitConfig | Mapping[str, Any],
    cache_key: str,
) -> keras.callbacks.History:
    """Freeze everything up to ``layer``, cache its outputs, train the rest of ``model``.

    ``fit_options``: the :class:`~emozoo.training.config.FitConfig` of the head's
    training, or flat options for one (a prepared model: the head trains in place);
    the best epoch's weights also go to ``<log_dir>/head.weights.h5``.
    """
    from emozoo.training.finetune import fit

    config = prepared_model_config(fit_options)

    features = feature_model(model, layer)
    cache_dir = Path(cache_dir)
    train_x = compute_features(
        features,
        train_records,
        preprocessor,
        augmented_copies=augmented_copies,
        babble=babble,
        seed=seed,
        cache=cache_dir / f"{cache_key}_train_x{augmented_copies}.npy",
    )
    val_x = compute_features(
        features, val_records, preprocessor, cache=cache_dir / f"{cache_key}_val.npy"
    )
    head = head_model(model, layer)
    train_ds = feature_dataset(train_x, train_records.labels, batch_size, shuffle=True, seed=seed)
    val_ds = feature_dataset(val_x, val_records.labels, 256, shuffle=False)
    print(f"{model.name}: training {head.count_params():,} head parameters on cached {layer}")
    if config.run.log_dir is not None:
        config = config.replace(checkpoint=Path(config.run.log_dir) / "head.weights.h5")
    return fit(head, train_ds, val_ds, config=config)
