"""Export-time stand-in layers compute exactly what the layers they replace compute."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from emozoo.export.lite_layers import SlicedMelSpectrogram, UnrolledLSTM, lite_replacement
from emozoo.export.source import export_copy


@pytest.mark.parametrize("samples,fft,hop", [(8000, 256, 160), (4000, 400, 100), (1000, 128, 200)])
def test_sliced_framing_gives_the_same_log_mel(samples, fft, hop):
    layer = keras.layers.MelSpectrogram(
        fft_length=fft, sequence_stride=hop, sampling_rate=16000, num_mel_bins=16
    )
    x = np.random.default_rng(0).normal(0, 0.2, (2, samples)).astype("float32")
    for float_projection in (False, True):
        config = {**layer.get_config(), "float_projection": float_projection}
        sliced = SlicedMelSpectrogram.from_config(config)
        np.testing.assert_allclose(np.asarray(sliced(x)), np.asarray(layer(x)), atol=1e-4)


def test_unrolled_lstm_matches_keras_with_masks_both_ways():
    rng = np.random.default_rng(1)
    inputs = keras.Input((9,), dtype="int32")
    embedded = keras.layers.Embedding(30, 6, mask_zero=True)(inputs)
    bilstm = keras.layers.Bidirectional(keras.layers.LSTM(5, return_sequences=True))
    x = bilstm(embedded)
    x = keras.layers.LSTM(4, return_sequences=True)(x)
    outputs = keras.layers.GlobalAveragePooling1D()(x)
    model = keras.Model(inputs, outputs)
    for weight in model.weights:  # non-trivial biases and kernels
        weight.assign(rng.normal(0, 0.5, weight.shape).astype("float32"))
    ids = rng.integers(1, 30, (4, 9)).astype("int32")
    ids[0, 5:] = 0  # post-padding
    ids[1, 1:] = 0
    ids[2, :] = 0  # nothing given
    copy = export_copy(model, unroll=True, lite=True, quantize="int8")
    assert sum(isinstance(layer, UnrolledLSTM) for layer in copy.layers) == 2
    np.testing.assert_allclose(
        copy.predict(ids, verbose=0), model.predict(ids, verbose=0), atol=1e-5
    )


def test_only_plain_layers_get_a_stand_in():
    assert lite_replacement(keras.layers.LSTM(3, return_sequences=True), "int8") is not None
    assert lite_replacement(keras.layers.LSTM(3, return_sequences=True), None) is None
    assert lite_replacement(keras.layers.LSTM(3), "int8") is None  # last output only
    assert (
        lite_replacement(keras.layers.LSTM(3, return_sequences=True, activation="relu"), "int8")
        is None
    )
    assert lite_replacement(keras.layers.GRU(3, return_sequences=True), "int8") is None
    assert lite_replacement(keras.layers.Dense(3), "int8") is None
