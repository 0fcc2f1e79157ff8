"""Training: optimisers, schedules, checkpoints and logs around ``keras.Model.fit``."""

from emozoo.training.fit import compile_for_training, one_hot_labels, save_inference_weights, train

__all__ = ["compile_for_training", "one_hot_labels", "save_inference_weights", "train"]
