"""``audio_whisper``: a pretrained Whisper encoder, per-layer statistics and a classifier.

Raw 16 kHz waveform -> Whisper's log-mel front end (a Keras layer, so exports keep it)
-> the Whisper encoder (keras-hub's ``WhisperEncoder`` blocks, the shape of OpenAI's
Whisper base) -> masked mean and standard deviation of every layer's frames -> a learned
softmax mix of the layers -> a small MLP embedding -> the classifier.

Whisper was trained on 30 s windows; here it reads a few seconds (its sinusoidal
position table is sliced to the clip). Frames that cover only zero padding are left out
of the statistics, so a short clip padded to ``duration_s`` gives the statistics of the
speech itself. ``emozoo.convert.whisper`` maps OpenAI's weights (from a CTranslate2
file) into the backbone.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import keras_hub
import numpy as np
from keras import layers, ops
from keras_hub.src.models.whisper.whisper_encoder import WhisperEncoder

from emozoo.models.base import AUDIO, finish_model

_PACKAGE = "emozoo"

#: OpenAI Whisper base (encoder): 6 blocks, width 512, 8 heads, 80 mel bins.
WHISPER_BASE = {
    "num_layers": 6,
    "num_heads": 8,
    "hidden_dim": 512,
    "intermediate_dim": 2048,
    "num_mels": 80,
    "max_frames": 1500,
}
BACKBONE_LAYER = "backbone"
STATISTICS_LAYER = "layer_statistics"


def whisper_mel_filters(
    num_mels: int = 80, fft_length: int = 400, sample_rate: int = 16000
) -> np.ndarray:
    """Slaney-style mel filterbank ``(fft_length // 2 + 1, num_mels)``, as Whisper uses.

    keras-hub's ``WhisperAudioConverter`` filterbank (librosa's ``mel(htk=False,
    norm="slaney")``), computed in NumPy: a constant of the graph.
    """
    return keras_hub.layers.WhisperAudioConverter(
        num_mels=num_mels, num_fft_bins=fft_length, sampling_rate=sample_rate
    ).mel_filters


@keras.saving.register_keras_serializable(package=_PACKAGE)
class WhisperLogMel(layers.Layer):
    """Whisper's log-mel features: ``(batch, samples) -> (batch, samples // hop, mels)``.

    Centred STFT (reflect padding, periodic Hann window of ``fft_length``), power, Slaney
    mel filterbank, ``log10`` floored at 1e-10, clamped to 8 below the clip's maximum,
    then ``(x + 4) / 4``; the last frame is dropped, as Whisper does. The DFT is two
    constant matrix products over frames cut with reshapes, so the layer runs on every
    backend and converts to TFLite builtins.
    """

    def __init__(
        self,
        sample_rate: int = 16000,
        num_mels: int = 80,
        fft_length: int = 400,
        hop_length: int = 160,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if fft_length > 3 * hop_length:
            raise ValueError("fft_length may be at most 3 * hop_length")
        self.sample_rate = int(sample_rate)
        self.num_mels = int(num_mels)
        self.fft_length = int(fft_length)
        self.hop_length = int(hop_length)
        n = np.arange(fft_length)
        window = 0.5 - 0.5 * np.cos(2 * np.pi * n / fft_length)  # periodic Hann
        bins = np.arange(fft_length // 2 + 1)
        angle = 2 * np.pi * np.outer(n, bins) / fft_length
        self._cos = (window[:, None] * np.cos(angle)).astype("float32")
        self._sin = (window[:, None] * -np.sin(angle)).astype("float32")
        self._mel = whisper_mel_filters(num_mels, fft_length, sample_rate).astype("float32")

    def call(self, waveform):
        pad = self.fft_length // 2
        hop = self.hop_length
        # Reflect padding by hand (slices and a flip), which every backend and TFLite has.
        left = ops.flip(waveform[:, 1 : pad + 1], axis=1)
        right = ops.flip(waveform[:, -pad - 1 : -1], axis=1)
        x = ops.concatenate([left, waveform, right], axis=1)
        num_samples = waveform.shape[1]
        num_frames = num_samples // hop  # Whisper drops the last of the 1 + n // hop frames
        chunks = num_frames + 2
        x = x[:, : chunks * hop]
        x = ops.pad(x, [[0, 0], [0, chunks * hop - x.shape[1]]])
        x = ops.reshape(x, (-1, chunks, hop))
        frames = ops.concatenate([x[:, :-2], x[:, 1:-1], x[:, 2:]], axis=-1)
        frames = frames[:, :num_frames, : self.fft_length]
        real = ops.matmul(frames, self._cos)
        imag = ops.matmul(frames, self._sin)
        mel = ops.matmul(real * real + imag * imag, self._mel)
        log_mel = self.log10(mel)
        floor = ops.max(log_mel, axis=(1, 2), keepdims=True) - 8.0
        return (ops.maximum(log_mel, floor) + 4.0) / 4.0

    def log10(self, mel):
        """``log10(max(mel, 1e-10))``."""
        return ops.log(ops.maximum(mel, 1e-10)) / np.log(10.0).astype("float32")

    def compute_output_shape(self, input_shape):
        frames = None if input_shape[1] is None else input_shape[1] // self.hop_length
        return (input_shape[0], frames, self.num_mels)

    def get_config(self):
        return {
            **super().get_config(),
            "sample_rate": self.sample_rate,
            "num_mels": self.num_mels,
            "fft_length": self.fft_length,
            "hop_length": self.hop_length,
        }


@keras.saving.register_keras_serializable(package=_PACKAGE)
class NonPaddingFrames(layers.Layer):
    """1.0 for each encoder frame of ``frame_samples`` samples that holds any non-zero
    sample, 0.0 for frames of pure zero padding: ``(batch, samples) -> (batch, frames)``."""

    def __init__(self, frame_samples: int = 320, **kwargs):
        super().__init__(**kwargs)
        self.frame_samples = int(frame_samples)

    def call(self, waveform):
        frames = waveform.shape[1] // self.frame_samples
        x = ops.reshape(
            waveform[:, : frames * self.frame_samples], (-1, frames, self.frame_samples)
        )
        return ops.cast(ops.max(ops.abs(x), axis=-1) > 0.0, waveform.dtype)

    def compute_output_shape(self, input_shape):
        frames = None if input_shape[1] is None else input_shape[1] // self.frame_samples
        return (input_shape[0], frames)

    def get_config(self):
        return {**super().get_config(), "frame_samples": self.frame_samples}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class MaskedMeanStd(layers.Layer):
    """Mean and standard deviation over unmasked frames, concatenated:
    ``[(batch, time, dim), (batch, time)] -> (batch, 2 * dim)``. An all-masked row gives 0s."""

    def call(self, inputs):
        sequence, mask = inputs
        mask = ops.expand_dims(ops.cast(mask, sequence.dtype), -1)
        count = ops.maximum(ops.sum(mask, axis=1), 1.0)
        mean = ops.sum(sequence * mask, axis=1) / count
        variance = ops.sum(ops.square(sequence - ops.expand_dims(mean, 1)) * mask, axis=1) / count
        return ops.concatenate([mean, ops.sqrt(variance + 1e-6)], axis=-1)

    def compute_output_shape(self, input_shapes):
        shape = input_shapes[0]
        return (shape[0], 2 * shape[-1])


@keras.saving.register_keras_serializable(package=_PACKAGE)
class StackLayers(layers.Layer):
    """Stack per-layer features: ``[(batch, dim)] * layers -> (batch, layers, dim)``."""

    def call(self, inputs):
        return ops.stack(inputs, axis=1)

    def compute_output_shape(self, input_shapes):
        return (input_shapes[0][0], len(input_shapes), input_shapes[0][-1])


@keras.saving.register_keras_serializable(package=_PACKAGE)
class SoftmaxLayerMix(layers.Layer):
    """A learned convex mix of stacked layer features: ``(batch, layers, dim) -> (batch, dim)``.

    The weights start equal (SUPERB's weighted sum of hidden states).
    """

    def build(self, input_shape):
        self.logits = self.add_weight(
            name="logits", shape=(input_shape[1],), initializer="zeros", trainable=True
        )

    def call(self, stacked):
        weights = ops.softmax(self.logits)
        return ops.einsum("bld,l->bd", stacked, ops.cast(weights, stacked.dtype))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[2])


def whisper_encoder_backbone(
    num_layers: int = WHISPER_BASE["num_layers"],
    num_heads: int = WHISPER_BASE["num_heads"],
    hidden_dim: int = WHISPER_BASE["hidden_dim"],
    intermediate_dim: int = WHISPER_BASE["intermediate_dim"],
    num_mels: int = WHISPER_BASE["num_mels"],
    max_frames: int = WHISPER_BASE["max_frames"],
    dropout: float = 0.0,
    name: str = BACKBONE_LAYER,
) -> keras.Model:
    """The encoder half of keras-hub's ``WhisperBackbone`` as its own Functional model.

    Input ``(batch, mel frames, num_mels)``; outputs the ``num_layers + 1`` hidden states
    (the embedded input, then each block's output, the last one after the final layer
    norm), each ``(batch, mel frames // 2, hidden_dim)``. Layer names follow
    ``WhisperBackbone``'s, without the decoder (which an emotion encoder does not need).
    """
    features = keras.Input((None, num_mels), name="encoder_features")
    x = layers.Conv1D(hidden_dim, 3, padding="same", name="encoder_token_embedding_conv_layer_1")(
        features
    )
    x = layers.Activation("gelu", name="encoder_conv_1_gelu")(x)
    x = layers.ZeroPadding1D(1, name="encoder_padder")(x)
    x = layers.Conv1D(hidden_dim, 3, strides=2, name="encoder_token_embedding_conv_layer_2")(x)
    x = layers.Activation("gelu", name="encoder_conv_2_gelu")(x)
    positions = keras_hub.layers.PositionEmbedding(
        sequence_length=max_frames, trainable=False, name="encoder_position_embedding"
    )(x)
    x = layers.Add(name="encoder_embeddings_add")([x, positions])
    x = layers.Dropout(dropout, name="encoder_embeddings_dropout")(x)
    hidden = [x]
    for i in range(num_layers):
        x = WhisperEncoder(
            num_heads=num_heads,
            intermediate_dim=intermediate_dim,
            activation="gelu",
            layer_norm_epsilon=1e-5,
            dropout=dropout,
            normalize_first=True,
            name=f"transformer_encoder_layer_{i}",
        )(x)
        hidden.append(x)
    hidden[-1] = layers.LayerNormalization(epsilon=1e-5, name="encoder_layer_norm")(x)
    return keras.Model(features, hidden, name=name)


@keras.saving.register_keras_serializable(package=_PACKAGE)
class SpeechLevelNormalization(layers.Layer):
    """Scale each clip so that its speech (the samples before its zero padding) has
    ``target_rms`` (0.05, about -26 dBFS): a quiet or distant microphone gives the same
    features as a close one. Silent clips (RMS under 1e-5) are left alone."""

    def __init__(self, target_rms: float = 0.05, **kwargs):
        super().__init__(**kwargs)
        self.target_rms = float(target_rms)

    def call(self, waveforms):
        positions = ops.arange(ops.shape(waveforms)[1], dtype="float32")[None, :]
        nonzero = ops.cast(ops.not_equal(waveforms, 0.0), "float32")
        # Samples up to the last non-zero one are the clip; the rest is padding.
        last = ops.max(positions * nonzero, axis=1, keepdims=True)
        active = ops.maximum(last + 1.0, 1.0)
        rms = ops.sqrt(ops.sum(ops.square(waveforms), axis=1, keepdims=True) / active)
        gain = ops.where(rms > 1e-5, self.target_rms / ops.maximum(rms, 1e-5), 1.0)
        return ops.clip(waveforms * gain, -1.0, 1.0)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "target_rms": self.target_rms}


def statistics_head(
    stacked,
    *,
    embedding_dim: int,
    dropout: float,
):
    """Mix the stacked per-layer statistics and project them to the embedding."""
    x = SoftmaxLayerMix(name="layer_mix")(stacked)
    x = layers.LayerNormalization(name="statistics_norm")(x)
    x = layers.Dropout(dropout, name="statistics_dropout")(x)
    return layers.Dense(embedding_dim, activation="gelu", name="projection")(x)


def build_audio_whisper(
    labels: Sequence[str] | None = None,
    num_classes: int | None = None,
    include_top: bool = True,
    sample_rate: int = 16000,
    duration_s: float = 4.0,
    num_layers: int = WHISPER_BASE["num_layers"],
    num_heads: int = WHISPER_BASE["num_heads"],
    hidden_dim: int = WHISPER_BASE["hidden_dim"],
    intermediate_dim: int = WHISPER_BASE["intermediate_dim"],
    num_mels: int = WHISPER_BASE["num_mels"],
    max_frames: int = WHISPER_BASE["max_frames"],
    embedding_dim: int = 256,
    dropout: float = 0.3,
    normalize_level: bool = False,
    name: str = "audio_whisper",
) -> keras.Model:
    """Build the Whisper speech-emotion encoder/classifier.

    Args:
        labels, num_classes, include_top: as for every emozoo builder.
        sample_rate, duration_s: the input waveform (``sample_rate * duration_s``
            samples; at most 30 s, Whisper's window).
        num_layers, num_heads, hidden_dim, intermediate_dim, num_mels, max_frames: the
            Whisper encoder's shape (defaults: Whisper base).
        embedding_dim: width of the embedding (the projection of the mixed statistics).
        dropout: dropout on the statistics and before the classifier.
        normalize_level: bring each clip's speech to one loudness first
            (:class:`SpeechLevelNormalization`).

    Input ``audio``: float32 waveform ``(batch, samples)`` in [-1, 1], zero-padded.

    >>> build_audio_whisper(duration_s=0.5, num_layers=1, hidden_dim=16, num_heads=2,
    ...                     intermediate_dim=32, num_classes=3).output_shape
    (None, 3)
    """
    num_samples = int(round(sample_rate * duration_s))
    hop = 160 * sample_rate // 16000
    if num_samples % (2 * hop):
        raise ValueError(f"duration_s must be a multiple of {2 * hop / sample_rate} s")
    if num_samples // (2 * hop) > max_frames:
        raise ValueError(f"duration_s is at most {max_frames * 2 * hop / sample_rate} s")
    inputs = keras.Input((num_samples,), name=AUDIO)
    waveforms = SpeechLevelNormalization(name="level")(inputs) if normalize_level else inputs
    features = WhisperLogMel(
        sample_rate=sample_rate,
        num_mels=num_mels,
        hop_length=hop,
        fft_length=400 * hop // 160,
        name="log_mel",
    )(waveforms)
    mask = NonPaddingFrames(2 * hop, name="speech_frames")(inputs)
    backbone = whisper_encoder_backbone(
        num_layers=num_layers,
        num_heads=num_heads,
        hidden_dim=hidden_dim,
        intermediate_dim=intermediate_dim,
        num_mels=num_mels,
        max_frames=max_frames,
    )
    hidden = backbone(features)
    pooled = [MaskedMeanStd(name=f"statistics_{i}")([h, mask]) for i, h in enumerate(hidden)]
    stacked = StackLayers(name=STATISTICS_LAYER)(pooled)
    x = statistics_head(stacked, embedding_dim=embedding_dim, dropout=dropout)
    return finish_model(
        inputs,
        x,
        name=name,
        include_top=include_top,
        labels=labels,
        num_classes=num_classes,
        dropout=dropout,
    )
