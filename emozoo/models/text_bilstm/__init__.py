"""``text_bilstm``: WordPiece embedding, bidirectional LSTM, attention pooling."""

from emozoo.models.family import ExportHints, FamilySpec, register_family
from emozoo.models.layers import AttentionPooling
from emozoo.models.text_bilstm.model import build_text_bilstm

SPEC = register_family(
    FamilySpec(
        name="text_bilstm",
        builder=build_text_bilstm,
        modalities=("text",),
        preprocessing={
            "text": {
                "vocabulary": "wordpiece_vocab.txt",
                "sequence_length": 64,
                "lowercase": True,
                "strip_accents": True,
            }
        },
        export=ExportHints(float_layers=(AttentionPooling,)),
        test_config={
            "vocabulary_size": 50,
            "sequence_length": 12,
            "embedding_dim": 16,
            "lstm_units": 8,
            "attention_units": 8,
        },
    )
)

__all__ = ["SPEC", "build_text_bilstm"]
