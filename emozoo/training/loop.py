"""The former training loop, kept for old imports: training runs through
:func:`emozoo.training.fit` (``train`` is a thin wrapper of it)."""

from emozoo.training.finetune import train
from emozoo.training.fit_data import one_hot_labels
from emozoo.training.optimizers import compile_for_training, warmup_cosine
from emozoo.training.shipping import save_inference_weights

__all__ = [
    "compile_for_training",
    "one_hot_labels",
    "save_inference_weights",
    "train",
    "warmup_cosine",
]
