"""``audio_lstm``: log-mel inside the model, strided convolutions, stacked LSTM."""

import keras

from emozoo.models.audio_lstm.model import build_audio_lstm
from emozoo.models.family import ExportHints, FamilySpec, register_family
from emozoo.models.layers import AttentionPooling

SPEC = register_family(
    FamilySpec(
        name="audio_lstm",
        builder=build_audio_lstm,
        modalities=("audio",),
        preprocessing={"audio": {"sample_rate": 16000, "duration_s": 3.0}},
        export=ExportHints(
            # Power spectra span ten orders of magnitude: 8 bits of them are noise. A
            # clip's own standardisation (mel_normalisation="clip") reduces over all its
            # frames and bins: in 8 bits the fused default's int8 file agreed on half.
            float_layers=(
                keras.layers.MelSpectrogram,
                keras.layers.STFTSpectrogram,
                keras.layers.GroupNormalization,
                AttentionPooling,
            ),
        ),
        test_config={
            "duration_s": 0.5,
            "num_mel_bins": 16,
            "fft_length": 256,
            "hop_length": 160,
            "conv_filters": 8,
            "lstm_units": (8,),
            "attention_units": 8,
        },
    )
)

__all__ = ["SPEC", "build_audio_lstm"]
