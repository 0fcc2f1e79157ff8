"""Training: fine-tuning policies, distribution, checkpoints and logs around
``keras.Model.fit``; reached as ``emozoo.train`` too (``emozoo.train.fit(...)``)."""

from emozoo.training.distribute import STRATEGIES, Distribution, distribution, split_cpu
from emozoo.training.finetune import (
    MIXED_PRECISION,
    class_weights_from_counts,
    fit,
    resolve_mixed_precision,
)
from emozoo.training.loop import (
    compile_for_training,
    one_hot_labels,
    save_inference_weights,
    train,
    warmup_cosine,
)
from emozoo.training.manifests import split_manifest
from emozoo.training.optimizers import ScaledAdamW
from emozoo.training.policies import POLICIES, apply_policy, merge_lora
from emozoo.training.user_models import save_model

__all__ = [
    "MIXED_PRECISION",
    "POLICIES",
    "STRATEGIES",
    "Distribution",
    "ScaledAdamW",
    "apply_policy",
    "class_weights_from_counts",
    "compile_for_training",
    "distribution",
    "fit",
    "merge_lora",
    "one_hot_labels",
    "resolve_mixed_precision",
    "save_inference_weights",
    "save_model",
    "split_cpu",
    "split_manifest",
    "train",
    "warmup_cosine",
]
