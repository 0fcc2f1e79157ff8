"""Export-time stand-ins for layers whose TFLite lowering is slow; same outputs.

They exist only inside the copy of a model that is converted to TFLite and are never
saved in a ``.keras`` file.
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops

from emozoo.models.audio_whisper.model import WhisperLogMel
from emozoo.models.layers import ClipLogMelSpectrogram


class SlicedMelSpectrogram(ClipLogMelSpectrogram):
    """The per-clip ``keras.layers.MelSpectrogram`` with the STFT framing done by slicing.

    Keras frames the padded waveform with ``tf.signal.frame``, which TFLite runs as a
    ``GATHER`` of ``frames x fft_length`` indices (about 0.5 ms for 3 s of 16 kHz audio
    on one core). Cutting the signal into hop-sized blocks and concatenating shifted
    block views gives the same frames with a few ``STRIDED_SLICE`` operators.

    With ``float_projection`` the mel filter bank is not a constant weight, so that
    dynamic-range quantization leaves the projection of the power spectrum in float32:
    its hybrid kernels quantize each frame's spectrum to 8 bits, which erases every bin
    more than about 48 dB below the frame's peak (measured on ``audio_lstm``: 67% top-1
    agreement with the Keras model instead of 100%).
    """

    def __init__(self, *args, float_projection: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.float_projection = float_projection

    def get_config(self):
        return {**super().get_config(), "float_projection": self.float_projection}

    def _melscale(self, inputs):
        if not self.float_projection:
            return super()._melscale(inputs)
        matrix = self.linear_to_mel_weight_matrix(
            num_mel_bins=self.num_mel_bins,
            num_spectrogram_bins=inputs.shape[-1],
            sampling_rate=self.sampling_rate,
            lower_edge_hertz=self.min_freq,
            upper_edge_hertz=self.max_freq,
        )
        # 0 * (a finite power) is exactly 0, but it depends on the input, so the
        # converter cannot fold the sum into a constant weight it would quantize.
        matrix = matrix + 0.0 * inputs[:, :1, :1]
        return ops.matmul(inputs, matrix)

    def _frames(self, x):
        length = self.fft_length
        hop = self.sequence_stride
        x = ops.pad(x, [(0, 0), (length // 2, length // 2)], mode="reflect")
        padded = x.shape[-1]
        count = 1 + (padded - length) // hop
        pieces = math.ceil(length / hop)
        blocks = count + pieces - 1
        if blocks * hop > padded:
            x = ops.pad(x, [(0, 0), (0, blocks * hop - padded)])
        x = ops.reshape(x[:, : blocks * hop], (-1, blocks, hop))
        parts = [x[:, j : j + count, : min(hop, length - j * hop)] for j in range(pieces)]
        return ops.concatenate(parts, axis=-1)

    def _spectrogram(self, inputs):
        if self.sequence_length != self.fft_length or inputs.shape[-1] is None:
            return super()._spectrogram(inputs)
        window = {"hann": keras.ops.hanning, "hamming": keras.ops.hamming}.get(self.window)
        if window is None:
            return super()._spectrogram(inputs)
        # Periodic window of length N: the first N points of the symmetric one of N + 1.
        win = window(self.fft_length + 1)[: self.fft_length]
        frames = self._frames(inputs) * ops.cast(win, inputs.dtype)
        real, imag = ops.rfft(frames, fft_length=self.fft_length)
        spec = ops.sqrt(ops.add(ops.square(real), ops.square(imag)))
        return ops.power(spec, self.mag_exp)


def _plain_lstm(layer) -> bool:
    """An LSTM this module's unrolled form computes exactly (Keras defaults)."""
    config = layer.get_config()
    return (
        type(layer) is keras.layers.LSTM
        and config["activation"] == "tanh"
        and config["recurrent_activation"] == "sigmoid"
        and config["use_bias"]
        and config["return_sequences"]
        and not config["return_state"]
        and not config["stateful"]
        and not config["go_backwards"]
    )


def _unrolled(x, mask, kernel, recurrent_kernel, bias, backwards: bool, zero_masked: bool):
    """One LSTM direction unrolled over a fixed number of steps; outputs in time order.

    The input projection of every step is one matrix product before the loop, and the
    gates are reordered to (i, f, o | c) so each step needs one sigmoid and one tanh:
    far fewer TFLite operators than Keras's unrolled cell (about 11 per step instead of
    15). Masked steps keep the state; their output is 0 (``zero_masked``) or the last one.
    """
    units = recurrent_kernel.shape[0]
    order = [*range(0, 2 * units), *range(3 * units, 4 * units), *range(2 * units, 3 * units)]
    kernel = ops.take(kernel, order, axis=1)
    recurrent_kernel = ops.take(recurrent_kernel, order, axis=1)
    bias = ops.take(bias, order, axis=0)
    steps = ops.unstack(ops.matmul(x, kernel) + bias, axis=1)
    masks = None if mask is None else ops.unstack(ops.expand_dims(mask, -1), axis=1)
    h = c = ops.zeros((ops.shape(x)[0], units), x.dtype)
    outputs = [None] * len(steps)
    for t in reversed(range(len(steps))) if backwards else range(len(steps)):
        z = steps[t] + ops.matmul(h, recurrent_kernel)
        gates, candidate = ops.split(z, [3 * units], axis=-1)
        i, f, o = ops.split(ops.sigmoid(gates), 3, axis=-1)
        c_new = f * c + i * ops.tanh(candidate)
        h_new = o * ops.tanh(c_new)
        if masks is None:
            h, c, outputs[t] = h_new, c_new, h_new
        else:
            h = ops.where(masks[t], h_new, h)
            c = ops.where(masks[t], c_new, c)
            outputs[t] = ops.where(masks[t], h_new, 0.0) if zero_masked else h
    return ops.stack(outputs, axis=1)


class UnrolledLSTM(keras.layers.Layer):
    """An unrolled stand-in for a plain ``keras.layers.LSTM`` (same weights, same
    outputs), or for ``Bidirectional(LSTM)`` with ``bidirectional=True`` (forward weights,
    then backward weights, as Keras orders them; outputs concatenated)."""

    def __init__(
        self, units: int, bidirectional: bool = False, zero_masked: bool = False, **kwargs
    ):
        super().__init__(**kwargs)
        self.units = units
        self.bidirectional = bidirectional
        self.zero_masked = zero_masked
        self.supports_masking = True

    def build(self, input_shape):
        units, dim = self.units, input_shape[-1]
        self.directions = []
        for direction in ("forward", "backward") if self.bidirectional else ("forward",):
            self.directions.append(
                (
                    self.add_weight(shape=(dim, 4 * units), name=f"{direction}_kernel"),
                    self.add_weight(shape=(units, 4 * units), name=f"{direction}_recurrent_kernel"),
                    self.add_weight(shape=(4 * units,), name=f"{direction}_bias"),
                )
            )

    def call(self, inputs, mask=None):
        outputs = [
            _unrolled(inputs, mask, *weights, backwards=i == 1, zero_masked=self.zero_masked)
            for i, weights in enumerate(self.directions)
        ]
        return outputs[0] if len(outputs) == 1 else ops.concatenate(outputs, axis=-1)

    def compute_mask(self, inputs, mask=None):
        return mask

    def compute_output_shape(self, input_shape):
        width = self.units * (2 if self.bidirectional else 1)
        return (*input_shape[:-1], width)

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "bidirectional": self.bidirectional,
            "zero_masked": self.zero_masked,
        }


class Float16SafeWhisperLogMel(WhisperLogMel):
    """:class:`WhisperLogMel` with its floor taken after the logarithm:
    ``max(log10(mel), -10)`` equals ``log10(max(mel, 1e-10))``, but a float16 build
    stores constants as float16, where 1e-10 is 0 and silence would give ``-inf - -inf``
    (NaN); -10 survives, and ``log(0) = -inf`` is then floored."""

    def log10(self, mel):
        return keras.ops.maximum(keras.ops.log(mel) / np.log(10.0).astype("float32"), -10.0)


def lite_replacement(layer, quantize: str | None = None):
    """The stand-in for ``layer`` in a TFLite export copy, or ``None`` to keep it.

    Recurrent layers are replaced only for ``int8`` (the formats that keep a while loop
    need no unrolling).
    """
    if type(layer) in (keras.layers.MelSpectrogram, ClipLogMelSpectrogram):
        config = {**layer.get_config(), "float_projection": quantize == "dynamic"}
        return SlicedMelSpectrogram.from_config(config)
    if type(layer) is WhisperLogMel and quantize == "float16":
        return Float16SafeWhisperLogMel.from_config(layer.get_config())
    if quantize != "int8":
        return None
    if _plain_lstm(layer):
        return UnrolledLSTM(layer.units, zero_masked=layer.zero_output_for_mask, name=layer.name)
    if (
        type(layer) is keras.layers.Bidirectional
        and layer.merge_mode == "concat"
        and _plain_lstm(layer.forward_layer)
        and _plain_lstm(
            layer.backward_layer.__class__.from_config(
                {**layer.backward_layer.get_config(), "go_backwards": False}
            )
        )
        and layer.return_sequences
    ):
        return UnrolledLSTM(
            layer.forward_layer.units, bidirectional=True, zero_masked=True, name=layer.name
        )
    return None


__all__ = [
    "Float16SafeWhisperLogMel",
    "SlicedMelSpectrogram",
    "UnrolledLSTM",
    "lite_replacement",
]
