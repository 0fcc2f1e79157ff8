"""``audio_lstm``: raw 16 kHz waveform -> log-mel (a Keras layer) -> conv -> stacked LSTM.

The log-mel front end is ``keras.layers.MelSpectrogram`` (with a per-clip dB floor,
:class:`~emozoo.models.layers.ClipLogMelSpectrogram`) inside the model, so the
model takes waveforms directly and the same features are computed at training,
evaluation and export time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import keras
from keras import layers

from emozoo.models.base import AUDIO, finish_model
from emozoo.models.layers import AttentionPooling, ClipLogMelSpectrogram, SpecAugment


def build_audio_lstm(
    labels: Sequence[str] | None = None,
    num_classes: int | None = None,
    include_top: bool = True,
    sample_rate: int = 16000,
    duration_s: float = 3.0,
    num_mel_bins: int = 64,
    fft_length: int = 512,
    hop_length: int = 160,
    conv_filters: int = 64,
    lstm_units: Sequence[int] = (128, 128),
    attention_units: int = 64,
    dropout: float = 0.3,
    spec_augment: Mapping[str, int] | None = None,
    mel_normalisation: str = "batch",
    unroll: bool = False,
    name: str = "audio_lstm",
) -> keras.Model:
    """Build the LSTM speech-emotion encoder/classifier.

    Args:
        labels, num_classes, include_top: as for every emozoo builder.
        sample_rate: sampling rate of the input waveform.
        duration_s: fixed clip length; the input has ``sample_rate * duration_s`` samples.
        num_mel_bins, fft_length, hop_length: log-mel front end (10 ms hop at 16 kHz).
        conv_filters: width of the two strided 1-D convolutions (4x fewer time steps).
        lstm_units: units of each stacked LSTM layer.
        attention_units: hidden width of the attention pooling.
        dropout: dropout between LSTMs and before the classifier.
        spec_augment: SpecAugment masks applied in training only, keyword arguments of
            :class:`~emozoo.models.layers.SpecAugment` (default 2 time masks of up to 20
            frames and 2 frequency masks of up to 8 bins); ``{"time_masks": 0,
            "freq_masks": 0}`` turns it off.
        mel_normalisation: how the log-mel frames are scaled before the convolutions:
            ``"batch"`` (a BatchNormalization: statistics of the training set) or
            ``"clip"`` (each clip by its own mean and spread over all its frames and bins,
            a ``GroupNormalization`` of one group: the same features at any loudness).
        unroll: unroll the LSTMs (fixed length; what TFLite int8 export needs).

    Input ``audio``: float32 waveform ``(batch, samples)`` in [-1, 1].

    >>> build_audio_lstm(duration_s=1.0).input_shape
    (None, 16000)
    """
    num_samples = int(round(sample_rate * duration_s))
    inputs = keras.Input((num_samples,), name=AUDIO)
    x = ClipLogMelSpectrogram(
        fft_length=fft_length,
        sequence_stride=hop_length,
        sampling_rate=sample_rate,
        num_mel_bins=num_mel_bins,
        power_to_db=True,
        name="log_mel",
    )(inputs)
    x = layers.Permute((2, 1), name="time_major")(x)  # (batch, frames, mels)
    if mel_normalisation == "batch":
        x = layers.BatchNormalization(name="mel_norm")(x)
    elif mel_normalisation == "clip":
        # Decibels shift with the recording's gain; a clip's own statistics cancel it.
        x = layers.GroupNormalization(groups=1, epsilon=1e-3, name="mel_norm")(x)
    else:
        raise ValueError(f"mel_normalisation must be 'batch' or 'clip', got {mel_normalisation!r}")
    x = SpecAugment(**dict(spec_augment or {}), name="spec_augment")(x)
    for i in (1, 2):
        x = layers.Conv1D(
            conv_filters, 5, strides=2, padding="same", use_bias=False, name=f"conv{i}"
        )(x)
        x = layers.BatchNormalization(name=f"conv{i}_bn")(x)
        x = layers.ReLU(name=f"conv{i}_relu")(x)
    for i, units in enumerate(lstm_units):
        x = layers.LSTM(units, return_sequences=True, unroll=unroll, name=f"lstm{i + 1}")(x)
        x = layers.Dropout(dropout, name=f"lstm{i + 1}_dropout")(x)
    x = AttentionPooling(attention_units, name="attention_pool")(x)
    return finish_model(
        inputs,
        x,
        name=name,
        include_top=include_top,
        labels=labels,
        num_classes=num_classes,
        dropout=dropout,
    )
