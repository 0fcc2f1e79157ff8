"""Export-time stand-ins for layers whose TFLite lowering is slow; same outputs.

They exist only inside the copy of a model that is converted to TFLite and are never
saved in a ``.keras`` file.
"""

from __future__ import annotations

import math

import keras
from keras import ops


class SlicedMelSpectrogram(keras.layers.MelSpectrogram):
    """``keras.layers.MelSpectrogram`` with the STFT framing done by slicing.

    Keras frames the padded waveform with ``tf.signal.frame``, which TFLite runs as a
    ``GATHER`` of ``frames x fft_length`` indices (about 0.5 ms for 3 s of 16 kHz audio
    on one core). Cutting the signal into hop-sized blocks and concatenating shifted
    block views gives the same frames with a few ``STRIDED_SLICE`` operators.
    """

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


def lite_replacement(layer):
    """The stand-in for ``layer`` in a TFLite export copy, or ``None`` to keep it."""
    if type(layer) is keras.layers.MelSpectrogram:
        return SlicedMelSpectrogram.from_config(layer.get_config())
    return None


__all__ = ["SlicedMelSpectrogram", "lite_replacement"]
