"""Small model configs and random inputs for fast architecture tests."""

from __future__ import annotations

import numpy as np

from emozoo.models import input_specs

SMALL_FACE = {"image_size": 32, "stem_filters": 8, "block_filters": (16, 32), "dropout": 0.1}
SMALL_TEXT = {
    "vocabulary_size": 50,
    "sequence_length": 12,
    "embedding_dim": 16,
    "lstm_units": 8,
    "attention_units": 8,
}
SMALL_AUDIO = {
    "duration_s": 0.5,
    "num_mel_bins": 16,
    "fft_length": 256,
    "hop_length": 160,
    "conv_filters": 8,
    "lstm_units": (8,),
    "attention_units": 8,
}
SMALL_MINILM = {
    "vocabulary_size": 50,
    "sequence_length": 12,
    "num_layers": 1,
    "num_heads": 2,
    "hidden_dim": 8,
    "intermediate_dim": 16,
    "max_sequence_length": 16,
}
SMALL_WHISPER = {
    "duration_s": 0.5,
    "num_layers": 1,
    "num_heads": 2,
    "hidden_dim": 16,
    "intermediate_dim": 32,
    "num_mels": 16,
    "max_frames": 32,
    "embedding_dim": 8,
}
SMALL_FACE_VGG = {"image_size": 32, "widths": (8, 16), "dropout": 0.1}
SMALL_MPNET = {
    "vocabulary_size": 50,
    "sequence_length": 12,
    "num_layers": 2,
    "num_heads": 2,
    "hidden_dim": 8,
    "intermediate_dim": 16,
    "max_positions": 16,
}
SMALL_ENCODERS = {"face": SMALL_FACE, "text": SMALL_TEXT, "audio": SMALL_AUDIO}
SMALL_FUSION = {"model_dim": 16, "num_layers": 1, "num_heads": 2, "intermediate_dim": 32}

#: architecture name -> keyword arguments giving a small instance of it.
SMALL_CONFIGS = {
    "face_cnn": SMALL_FACE,
    "text_bilstm": SMALL_TEXT,
    "audio_lstm": SMALL_AUDIO,
    "fusion_transformer": {"embedding_dims": {"face": 6, "text": 5, "audio": 4}, **SMALL_FUSION},
    "cnn_lstm_fusion": {"encoders": SMALL_ENCODERS, "fusion": SMALL_FUSION},
    "late_fusion": {"encoders": SMALL_ENCODERS},
    "text_minilm": SMALL_MINILM,
    "minilm_cnn_lstm_fusion": {
        "encoders": {**SMALL_ENCODERS, "text": SMALL_MINILM},
        "fusion": SMALL_FUSION,
    },
    "concat_fusion": {"encoders": SMALL_ENCODERS, "hidden_units": (16,)},
    "audio_whisper": SMALL_WHISPER,
    "face_vgg": SMALL_FACE_VGG,
    "text_mpnet": SMALL_MPNET,
}


def random_inputs(model, batch: int = 3, seed: int = 0, present: dict | None = None) -> dict:
    """Random inputs matching ``model``'s input specs; presence flags default to 1."""
    rng = np.random.default_rng(seed)
    inputs = {}
    for name, (shape, dtype) in input_specs(model).items():
        if name.endswith("_present"):
            value = (present or {}).get(name.removesuffix("_present"), 1.0)
            inputs[name] = np.full((batch, *shape), value, np.float32)
        elif "int" in dtype:
            inputs[name] = rng.integers(1, 50, size=(batch, *shape)).astype(dtype)
        elif name == "face":
            inputs[name] = rng.uniform(0, 255, size=(batch, *shape)).astype(dtype)
        else:
            inputs[name] = rng.normal(0, 0.3, size=(batch, *shape)).astype(dtype)
    return inputs
