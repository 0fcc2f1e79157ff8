"""Training recipes: how a pretrained model was trained, as a typed :class:`Recipe`.

Each pretrained model's recipe is a hand-written YAML file, ``zoo_configs/<name>.yaml``
(read with ``yaml.safe_load``); its card (``emozoo/models/<family>/<name>.json``) keeps
what the trained weights are, written by the tools. ``emozoo pretrain NAME`` (or
``emozoo pretrain zoo_configs/NAME.yaml``, or any copy of it) trains from one::

    model: face_vgg                      # the registered model it trains
    train: [[fer2013, Training]]         # [dataset, split] or [dataset, split, {kwargs}]
    val: [[fer2013, PublicTest]]         # chooses the best epoch
    evaluate: {fer2013/PrivateTest: [[fer2013, PrivateTest]]}
    epochs: 60
    batch_size: 128
    learning_rate: 0.001

Methods (at most one): ``frozen_features`` (a head on cached features of a frozen
layer), ``frozen_blocks`` (the top blocks of a text Transformer on cached lower states),
``distill`` (a teacher's soft labels); fused models train their head on pseudo-pairs
(``train: pairs``, ``encoders``). Every key is listed in :data:`RECIPE_KEYS`.

>>> recipe = Recipe.from_dict({"model": "m", "train": [["fer2013", "Training"]],
...                            "val": [["fer2013", "PublicTest"]], "epochs": 3,
...                            "batch_size": 32})
>>> recipe.method, recipe.learning_rate
('whole', 0.001)
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emozoo.paths import ZOO_CONFIGS_DIR

#: Every recipe key and what it means.
RECIPE_KEYS: dict[str, str] = {
    "model": "the registered model the recipe trains",
    "train": "training data: a list of [dataset, split, {kwargs}?], or 'pairs'",
    "val": "validation data (chooses the best epoch), as 'train'",
    "evaluate": "{report name: test set} measured once after training",
    "epochs": "epochs of training",
    "batch_size": "training batch size",
    "learning_rate": "AdamW's peak learning rate",
    "weight_decay": "AdamW's decoupled weight decay",
    "warmup_epochs": "linear warm-up before the cosine decay, in epochs",
    "label_smoothing": "of the categorical cross-entropy",
    "augment": "the modality's training augmentation",
    "pretrained_backbone": "converted pretrained weights the backbone starts from",
    "train_config": "builder arguments of the training twin (same weights)",
    "lora_rank": "LoRA adapters of this rank on the backbone (0: none)",
    "bucket_by_length": "batches of similar-length texts",
    "mixed_precision": "compute in half precision while training ('bfloat16')",
    "weights_dtype": "dtype of the shipped weights file",
    "frozen_features": "{layer, augmented_copies, babble}: a head on cached features",
    "frozen_blocks": "train only the backbone blocks above the first N",
    "distill": "{teacher, temperature, alpha, copies, unlabelled}: soft labels",
    "encoders": "fused models: {modality: registered encoder}",
    "embedding_copies": "fused models: augmented embedding copies per item",
    "alignment": "fused models: {weight, temperature} of the cross-modal loss",
    "compose_encoders": "fused models: ship the head alone, encoders by name",
    "trainer": "another tool that trains this model (e.g. tools/train_real_pairs.py)",
    "pairing": "real-pair heads: 'real' or 'pseudo' pairs",
    "augmented_copies": "real-pair heads: augmented copies of each clip",
    "repeats": "real-pair heads: passes over the pairs per epoch",
    "full_probability": "real-pair heads: share of pairs with both modalities",
}

PAIRS = "pairs"
_REQUIRED = ("model", "train", "val", "epochs", "batch_size")
_HALF_PRECISIONS = ("bfloat16", "float16")
_WEIGHT_DTYPES = ("float32", "float16", "bfloat16")


class RecipeError(ValueError):
    """A recipe that cannot be read or is not valid; the message names the key and file."""


def _fail(where: str, message: str) -> RecipeError:
    return RecipeError(f"{where}: {message}" if where else message)


@dataclass(frozen=True)
class FrozenFeatures:
    """``frozen_features``: the model up to ``layer`` is frozen and its outputs cached
    (the clean item and ``augmented_copies`` augmented ones, ``babble`` the share of
    copies with babble noise); the rest of the model trains on them."""

    layer: str
    augmented_copies: int = 0
    babble: float = 0.0


@dataclass(frozen=True)
class Distillation:
    """``distill``: the student trains on ``teacher``'s soft labels (a name, or a list:
    an ensemble) softened by ``temperature``; ``alpha`` is their share of the loss;
    ``copies`` augmented copies per item; ``unlabelled`` folders add items."""

    teacher: str | list[str]
    temperature: float = 4.0
    alpha: float = 0.7
    copies: int = 2
    unlabelled: list[str] = field(default_factory=list)

    @property
    def teachers(self) -> list[str]:
        """The teacher names, as a list."""
        return list(self.teacher) if isinstance(self.teacher, list) else [self.teacher]


@dataclass(frozen=True)
class Alignment:
    """``alignment``: the cross-modal contrastive loss of a Transformer fusion head."""

    weight: float = 1.0
    temperature: float = 0.1


_BLOCKS: dict[str, type] = {
    "frozen_features": FrozenFeatures,
    "distill": Distillation,
    "alignment": Alignment,
}


@dataclass(frozen=True)
class Recipe:
    """A pretrained model's training recipe (see the module docstring for the format).

    Build one with :meth:`from_yaml`, :meth:`from_dict`, :meth:`for_model` or
    :func:`load_recipe`; :meth:`replace` gives a changed copy (checked again) and
    :meth:`to_dict` the mapping back (keys at their defaults left out).
    """

    model: str
    train: Any
    val: Any
    epochs: int
    batch_size: int
    evaluate: dict[str, Any] = field(default_factory=dict)
    learning_rate: float = 1e-3
    weight_decay: float = 1e-4
    warmup_epochs: float = 1.0
    label_smoothing: float = 0.0
    augment: bool = True
    pretrained_backbone: str | None = None
    train_config: dict[str, Any] = field(default_factory=dict)
    lora_rank: int = 0
    bucket_by_length: bool = False
    mixed_precision: str | None = None
    weights_dtype: str = "float32"
    frozen_features: FrozenFeatures | None = None
    frozen_blocks: int = 0
    distill: Distillation | None = None
    encoders: dict[str, str] = field(default_factory=dict)
    embedding_copies: int | dict[str, int] = 0
    alignment: Alignment | None = None
    compose_encoders: bool = False
    trainer: str | None = None
    pairing: str | None = None
    augmented_copies: int = 0
    repeats: int = 1
    full_probability: float = 1.0
    #: Where the recipe was read from (for messages); not a recipe key.
    source: str = field(default="", compare=False, repr=False)

    def __post_init__(self) -> None:
        _validate(self)

    # -- reading -------------------------------------------------------------------

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], *, model: str | None = None, source: str = ""
    ) -> Recipe:
        """A recipe from a mapping (a parsed YAML file, or an old card's ``"recipe"``).

        ``model`` names the model when the mapping has no ``model`` key. Raises
        :class:`RecipeError` naming unknown keys (with the closest known one), missing
        ones and values of the wrong kind.
        """
        if not isinstance(data, Mapping):
            raise _fail(source, f"a recipe is a mapping of keys, got {type(data).__name__}")
        values = copy.deepcopy(dict(data))
        unknown = sorted(set(values) - set(RECIPE_KEYS))
        if unknown:
            hints = []
            for key in unknown:
                close = difflib.get_close_matches(key, list(RECIPE_KEYS), n=1)
                hints.append(f"{key!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
            raise _fail(
                source,
                f"unknown recipe keys {', '.join(hints)}; known: {', '.join(RECIPE_KEYS)}",
            )
        if model is not None and values.setdefault("model", model) != model:
            raise _fail(source, f"the recipe trains {values['model']!r}, not {model!r}")
        missing = [key for key in _REQUIRED if key not in values]
        if missing:
            raise _fail(source, f"a recipe needs {', '.join(repr(k) for k in missing)}")
        for key, block in _BLOCKS.items():
            if values.get(key) is not None:
                values[key] = _block(block, key, values[key], source)
        return cls(**values, source=source)

    @classmethod
    def from_yaml(cls, path: str | Path) -> Recipe:
        """The recipe in YAML file ``path`` (``yaml.safe_load``: plain data only)."""
        import yaml

        path = Path(path).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"Recipe file {path} does not exist")
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as error:
            raise RecipeError(f"{path}: not valid YAML ({error})") from error
        return cls.from_dict(data if data is not None else {}, source=str(path))

    @classmethod
    def for_model(cls, name: str) -> Recipe:
        """The recipe of registered model ``name`` (``zoo_configs/<name>.yaml``, as the
        registry reads it into the model's entry)."""
        from emozoo.registry import get_entry

        entry = get_entry(name)
        name = entry.name  # "cnn_lstm_fusion@v2", the default's own version, is the model
        if not entry.recipe:
            raise RecipeError(f"{name} has no training recipe ({recipe_path(name)} does not exist)")
        return cls.from_dict(entry.recipe, model=name, source=str(recipe_path(name)))

    # -- writing -------------------------------------------------------------------

    def replace(self, **changes: Any) -> Recipe:
        """A copy with ``changes`` (recipe keys; blocks as mappings or typed), checked."""
        data = {**self.to_dict(), **changes}
        return Recipe.from_dict(data, source=self.source)

    def to_dict(self) -> dict[str, Any]:
        """The recipe as plain data: the required keys and every other key whose value
        differs from its default (blocks as mappings of their non-default fields)."""
        data: dict[str, Any] = {}
        for item in dataclasses.fields(self):
            if item.name == "source":
                continue
            value = getattr(self, item.name)
            if item.name not in _REQUIRED and value == _default(item):
                continue
            data[item.name] = _plain(value)
        return data

    # -- what it asks for ----------------------------------------------------------

    @property
    def method(self) -> str:
        """How the model trains: ``"external"`` (another tool, :attr:`trainer`),
        ``"pairs"`` (a fused head on pseudo-pair embeddings), ``"frozen_features"``,
        ``"distill"``, ``"frozen_blocks"`` or ``"whole"`` (the model on its data)."""
        if self.trainer:
            return "external"
        if self.train == PAIRS:
            return "pairs"
        if self.frozen_features is not None:
            return "frozen_features"
        if self.distill is not None:
            return "distill"
        if self.frozen_blocks:
            return "frozen_blocks"
        return "whole"

    def fit_options(self) -> dict[str, Any]:
        """The schedule as :func:`emozoo.training.fit` options (``epochs``,
        ``learning_rate``, ``weight_decay``, ``warmup_epochs``, ``label_smoothing``)."""
        return {
            "epochs": self.epochs,
            "learning_rate": self.learning_rate,
            "weight_decay": self.weight_decay,
            "warmup_epochs": self.warmup_epochs,
            "label_smoothing": self.label_smoothing,
        }

    def copies_of(self, modality: str) -> int:
        """Augmented embedding copies of ``modality``'s items (fused models)."""
        copies = self.embedding_copies
        return int(copies.get(modality, 0) if isinstance(copies, dict) else copies)


def recipe_keys_table() -> str:
    """The Markdown table of :data:`RECIPE_KEYS` (``zoo_configs/README.md`` holds it)."""
    rows = [f"| `{key}` | {meaning} |" for key, meaning in RECIPE_KEYS.items()]
    required = ", ".join(f"`{key}`" for key in _REQUIRED)
    return "\n".join([f"Required: {required}.", "", "| key | meaning |", "|---|---|", *rows])


def recipe_path(name: str) -> Path:
    """Where registered model ``name``'s recipe lives: ``zoo_configs/<name>.yaml``."""
    return ZOO_CONFIGS_DIR / f"{name}.yaml"


def load_recipe(target: str | Path) -> Recipe:
    """A recipe from a YAML file (a path ending in ``.yaml``/``.yml``, or an existing
    file) or a registered model's name.

    >>> load_recipe("face_vgg").model  # doctest: +SKIP
    'face_vgg'
    """
    path = Path(target).expanduser()
    if isinstance(target, Path) or path.suffix in (".yaml", ".yml") or path.is_file():
        return Recipe.from_yaml(path)
    return Recipe.for_model(str(target))


# -- checks ----------------------------------------------------------------------


def _default(item: dataclasses.Field[Any]) -> Any:
    if item.default is not dataclasses.MISSING:
        return item.default
    if item.default_factory is not dataclasses.MISSING:
        return item.default_factory()
    return dataclasses.MISSING


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            item.name: _plain(getattr(value, item.name))
            for item in dataclasses.fields(value)
            if _default(item) is dataclasses.MISSING or getattr(value, item.name) != _default(item)
        }
    return copy.deepcopy(value)


def _block(block: type, key: str, value: Any, source: str) -> Any:
    if isinstance(value, block):
        return value
    if not isinstance(value, Mapping):
        raise _fail(source, f"{key} must be a mapping of {_names(block)}, got {value!r}")
    known = _names(block)
    unknown = sorted(set(value) - set(known))
    if unknown:
        raise _fail(source, f"unknown keys {unknown} in {key}; known: {', '.join(known)}")
    try:
        return block(**value)
    except TypeError as error:  # a required field is missing
        raise _fail(source, f"{key}: {error}") from None


def _names(block: type) -> list[str]:
    return [item.name for item in dataclasses.fields(block)]


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_count(value: Any, minimum: int = 0) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def _check_sources(recipe: Recipe, key: str) -> None:
    specs = getattr(recipe, key)
    if specs == PAIRS:
        return
    where = recipe.source
    if not isinstance(specs, list) or not specs:
        raise _fail(
            where,
            f"{key} must be {PAIRS!r} or a list of [dataset, split, {{kwargs}}?], got {specs!r}",
        )
    for spec in specs:
        if (
            not isinstance(spec, list)
            or len(spec) not in (2, 3)
            or not all(isinstance(part, str) for part in spec[:2])
            or (len(spec) == 3 and not isinstance(spec[2], Mapping))
        ):
            raise _fail(
                where,
                f"each {key} source is [dataset, split] or [dataset, split, {{kwargs}}], got {spec!r}",
            )


def _validate(recipe: Recipe) -> None:
    where = recipe.source
    checks: list[tuple[str, bool, str]] = [
        ("model", isinstance(recipe.model, str) and bool(recipe.model), "a model name"),
        ("epochs", _is_count(recipe.epochs, 1), "a positive integer"),
        ("batch_size", _is_count(recipe.batch_size, 1), "a positive integer"),
        (
            "learning_rate",
            _is_number(recipe.learning_rate) and recipe.learning_rate > 0,
            "a positive number",
        ),
        (
            "weight_decay",
            _is_number(recipe.weight_decay) and recipe.weight_decay >= 0,
            "a number >= 0",
        ),
        (
            "warmup_epochs",
            _is_number(recipe.warmup_epochs) and recipe.warmup_epochs >= 0,
            "a number >= 0",
        ),
        (
            "label_smoothing",
            _is_number(recipe.label_smoothing) and 0 <= recipe.label_smoothing < 1,
            "a number in [0, 1)",
        ),
        ("augment", isinstance(recipe.augment, bool), "true or false"),
        ("bucket_by_length", isinstance(recipe.bucket_by_length, bool), "true or false"),
        ("compose_encoders", isinstance(recipe.compose_encoders, bool), "true or false"),
        ("lora_rank", _is_count(recipe.lora_rank), "an integer >= 0"),
        ("frozen_blocks", _is_count(recipe.frozen_blocks), "an integer >= 0"),
        ("augmented_copies", _is_count(recipe.augmented_copies), "an integer >= 0"),
        ("repeats", _is_count(recipe.repeats, 1), "a positive integer"),
        (
            "full_probability",
            _is_number(recipe.full_probability) and 0 <= recipe.full_probability <= 1,
            "a number in [0, 1]",
        ),
        ("evaluate", isinstance(recipe.evaluate, dict), "a mapping of report names to test sets"),
        ("train_config", isinstance(recipe.train_config, dict), "a mapping of builder arguments"),
        (
            "encoders",
            isinstance(recipe.encoders, dict)
            and all(isinstance(v, str) for v in recipe.encoders.values()),
            "a mapping {modality: registered model}",
        ),
        (
            "embedding_copies",
            _is_count(recipe.embedding_copies)
            or (
                isinstance(recipe.embedding_copies, dict)
                and all(_is_count(v) for v in recipe.embedding_copies.values())
            ),
            "an integer >= 0 or {modality: integer}",
        ),
        (
            "mixed_precision",
            recipe.mixed_precision is None or recipe.mixed_precision in _HALF_PRECISIONS,
            f"one of {list(_HALF_PRECISIONS)}",
        ),
        ("weights_dtype", recipe.weights_dtype in _WEIGHT_DTYPES, f"one of {list(_WEIGHT_DTYPES)}"),
        (
            "pretrained_backbone",
            recipe.pretrained_backbone is None or isinstance(recipe.pretrained_backbone, str),
            "the name of converted weights",
        ),
        ("trainer", recipe.trainer is None or isinstance(recipe.trainer, str), "a tool's path"),
        ("pairing", recipe.pairing in (None, "real", "pseudo"), "'real' or 'pseudo'"),
    ]
    for key, ok, wanted in checks:
        if not ok:
            raise _fail(where, f"{key} must be {wanted}, got {getattr(recipe, key)!r}")
    for key, kind in _BLOCKS.items():
        value = getattr(recipe, key)
        if value is not None and not isinstance(value, kind):
            raise _fail(where, f"{key} must be a mapping of {_names(kind)}, got {value!r}")
    _check_sources(recipe, "train")
    _check_sources(recipe, "val")
    if (recipe.train == PAIRS) != (recipe.val == PAIRS):
        raise _fail(where, "train and val are both 'pairs' or both lists of sources")
    if recipe.train == PAIRS and not recipe.encoders:
        raise _fail(where, "a recipe trained on 'pairs' names its encoders {modality: model}")
    methods = [
        key
        for key, used in (
            ("frozen_features", recipe.frozen_features is not None),
            ("frozen_blocks", bool(recipe.frozen_blocks)),
            ("distill", recipe.distill is not None),
        )
        if used
    ]
    if len(methods) > 1:
        raise _fail(where, f"a recipe uses one training method, not {' and '.join(methods)}")
    if methods and recipe.train == PAIRS:
        raise _fail(where, f"{methods[0]} trains a unimodal model, not a head on 'pairs'")
    if recipe.alignment is not None and recipe.train != PAIRS:
        raise _fail(where, "alignment is a loss of fused heads trained on 'pairs'")
    frozen = recipe.frozen_features
    if frozen is not None and not (
        isinstance(frozen.layer, str)
        and _is_count(frozen.augmented_copies)
        and _is_number(frozen.babble)
        and 0 <= frozen.babble <= 1
    ):
        raise _fail(
            where, f"frozen_features needs a layer name, copies >= 0, babble in [0, 1]: {frozen}"
        )
    block = recipe.distill
    if block is not None and not (
        all(isinstance(t, str) for t in block.teachers)
        and block.teachers
        and _is_number(block.temperature)
        and block.temperature > 0
        and _is_number(block.alpha)
        and 0 <= block.alpha <= 1
        and _is_count(block.copies)
        and isinstance(block.unlabelled, list)
    ):
        raise _fail(
            where,
            "distill needs teacher (a name or a list), temperature > 0, alpha in [0, 1], "
            f"copies >= 0, unlabelled (a list of folders): {block}",
        )


__all__ = [
    "Alignment",
    "Distillation",
    "FrozenFeatures",
    "RECIPE_KEYS",
    "Recipe",
    "RecipeError",
    "ZOO_CONFIGS_DIR",
    "load_recipe",
    "recipe_keys_table",
    "recipe_path",
]
