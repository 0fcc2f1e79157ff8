"""Named models: the cards (zoo configs) in the family folders, user registrations, loading."""

from emozoo.registry.entry import ModelEntry
from emozoo.registry.loading import (
    NoPretrainedWeightsError,
    build_model,
    builder_kwargs,
    load,
    load_preprocessor,
    model_info,
)
from emozoo.registry.registry import (
    UnknownModelError,
    builtin_config_path,
    get_entry,
    list_models,
    model_versions,
    pinned_name,
    recommended_encoders,
    register_model,
    split_version,
    unregister_model,
    user_models_dir,
    weights_stem,
    write_lite_card,
    write_weights_card,
)
from emozoo.registry.weights import WeightsError, WeightsInfo, sha256_file, verify_weights

__all__ = [
    "ModelEntry",
    "NoPretrainedWeightsError",
    "UnknownModelError",
    "WeightsError",
    "WeightsInfo",
    "build_model",
    "builder_kwargs",
    "builtin_config_path",
    "get_entry",
    "list_models",
    "load",
    "load_preprocessor",
    "model_info",
    "model_versions",
    "pinned_name",
    "recommended_encoders",
    "register_model",
    "sha256_file",
    "split_version",
    "unregister_model",
    "user_models_dir",
    "verify_weights",
    "weights_stem",
    "write_lite_card",
    "write_weights_card",
]
