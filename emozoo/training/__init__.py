"""Training: one path, :func:`fit`, with its settings in a :class:`FitConfig`; fine-tuning
policies, distribution, checkpoints and logs around ``keras.Model.fit``; the typed
training recipes of the pretrained models (:class:`Recipe`, ``zoo_configs/``). Reached
as ``emozoo.train`` too (``emozoo.train.fit(...)``)."""

from emozoo.training.config import FitConfig, FreezePolicy, Optimization, RunOptions
from emozoo.training.distribute import STRATEGIES, Distribution, distribution, split_cpu
from emozoo.training.finetune import (
    MIXED_PRECISION,
    class_weights_from_counts,
    fit,
    resolve_mixed_precision,
    train,
)
from emozoo.training.fit_data import one_hot_labels
from emozoo.training.manifests import split_manifest
from emozoo.training.optimizers import ScaledAdamW, compile_for_training, warmup_cosine
from emozoo.training.policies import POLICIES, apply_policy, merge_lora
from emozoo.training.recipe import Recipe, RecipeError, load_recipe
from emozoo.training.shipping import save_inference_weights
from emozoo.training.user_models import save_model

__all__ = [
    "MIXED_PRECISION",
    "POLICIES",
    "STRATEGIES",
    "Distribution",
    "FitConfig",
    "FreezePolicy",
    "Optimization",
    "Recipe",
    "RecipeError",
    "RunOptions",
    "ScaledAdamW",
    "apply_policy",
    "class_weights_from_counts",
    "compile_for_training",
    "distribution",
    "fit",
    "load_recipe",
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
