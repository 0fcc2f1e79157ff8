"""The registry of named models.

Built-in entries come from the model cards in the family folders
(``emozoo/models/<family>/<name>.json``); users add their own with :func:`register_model`,
which also writes the entry to ``$EMOZOO_HOME/models/<name>.json`` (default
``~/.emozoo``) so that later sessions, the ``emozoo`` command and the export tools
see it.
Reading the registry never imports Keras, so listing models is instant.
"""

from __future__ import annotations

import difflib
import fnmatch
import json
import os
import re
import warnings
from collections.abc import Callable, Sequence
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path
from typing import Any

from emozoo.paths import ZOO_CONFIGS_DIR, emozoo_home
from emozoo.registry.entry import ModelEntry, inherit_encoders
from emozoo.registry.weights import WeightsInfo, sha256_file

_PACKAGE = "emozoo"
_registry: dict[str, ModelEntry] = {}
_builtin_files: dict[str, Traversable] = {}
_builtins_loaded = False
#: name -> JSON file of the user models read from (or written to) the user folder.
_persisted: dict[str, Path] = {}
_user_folder_loaded: Path | None = None
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
#: ``name@version``: an earlier version of a built-in model's weights, kept loadable.
VERSION_SEPARATOR = "@"
#: ``"name@version"`` -> entry, of the versions a card keeps besides its default one.
_versions: dict[str, ModelEntry] = {}


class UnknownModelError(LookupError):
    """No model is registered under the requested name."""


def _builtin_cards() -> dict[str, Traversable]:
    """``{name: card file}`` of the cards in the family folders ``emozoo/models/*/``.

    Read as files, without importing the families: listing models needs no Keras."""
    cards: dict[str, Traversable] = {}
    models = resources.files(_PACKAGE) / "models"
    for family in sorted(models.iterdir(), key=lambda p: p.name):
        if not family.is_dir() or family.name.startswith(("_", ".")):
            continue
        for item in sorted(family.iterdir(), key=lambda p: p.name):
            if item.name.endswith(".json"):
                name = item.name.removesuffix(".json")
                if name in cards:
                    raise ValueError(f"Two cards register {name!r}: {cards[name]} and {item}")
                cards[name] = item
    return cards


def _resolve_cards(
    cards: dict[str, tuple[dict[str, Any], str]],
    known: Callable[[str], ModelEntry | None],
    make: Callable[[dict[str, Any], str], ModelEntry],
) -> dict[str, ModelEntry | ValueError]:
    """Entries of raw cards (``{name: (data, where)}``), fused cards after the cards of
    the encoders they name (:func:`~emozoo.registry.entry.inherit_encoders`): among
    ``cards`` first, then ``known(name)``. A card that cannot be read maps to its error."""
    built: dict[str, ModelEntry | ValueError] = {}

    def entry_of(name: str, chain: tuple[str, ...] = ()) -> ModelEntry:
        if name not in cards:
            entry = known(name)
            if entry is None:
                raise ValueError(f"no registered model {name!r}")
            return entry
        if name in chain:
            raise ValueError(f"encoders name each other in a loop: {' -> '.join((*chain, name))}")
        if name not in built:
            data, where = cards[name]
            try:
                data = inherit_encoders(data, lambda encoder: entry_of(encoder, (*chain, name)))
                entry = make(data, where)
                if entry.name != name:
                    raise ValueError(f"it registers {entry.name!r}; name and file must agree")
                built[name] = entry
            except (ValueError, TypeError) as error:
                built[name] = ValueError(f"{where}: {error}")
        result = built[name]
        if isinstance(result, ValueError):
            raise result
        return result

    for name in cards:
        try:
            entry_of(name)
        except ValueError as error:
            built.setdefault(name, error)
    return built


def _load_builtins() -> None:
    global _builtins_loaded, _builtin_files
    if _builtins_loaded:
        return
    _builtin_files = _builtin_cards()
    cards = {}
    for card, item in _builtin_files.items():
        where = f"emozoo/models/{Path(str(item)).parent.name}/{item.name}"
        try:
            data = json.loads(item.read_text(encoding="utf-8"))
            cards[card] = (data, where)
            cards.update(_version_cards(data, where))
        except ValueError as error:
            raise ValueError(f"Invalid model card {where}: {error}") from error
    entries = _resolve_cards(
        cards, lambda name: None, lambda data, where: _CardEntry.from_dict(data, source=where)
    )
    for card, entry in entries.items():
        if isinstance(entry, ValueError):
            raise ValueError(f"Invalid model card {entry}") from entry
        if VERSION_SEPARATOR in card:
            _versions.setdefault(card, entry)
        else:
            _registry.setdefault(card, entry)
    _builtins_loaded = True


def _version_cards(data: dict[str, Any], where: str) -> dict[str, tuple[dict[str, Any], str]]:
    """``{"name@version": (card, where)}`` of the earlier versions a card keeps under
    ``versions`` (removed from ``data``): each is the card with that version's fields
    (its weights, encoders, headline, ...) in place of the default's."""
    versions = data.pop("versions", None) or {}
    if not isinstance(versions, dict):
        raise ValueError("versions must map a version's name to the fields it changes")
    if versions and not data.get("version"):
        raise ValueError("a card that keeps other versions names its own: version")
    cards = {}
    for version, fields in versions.items():
        if not isinstance(fields, dict) or not _NAME.match(str(version)):
            raise ValueError(f"version {version!r}: expected a name and a mapping of fields")
        if version == data["version"]:
            raise ValueError(f"version {version!r} is the card's own (default) version")
        name = f"{data['name']}{VERSION_SEPARATOR}{version}"
        cards[name] = ({**data, **fields, "name": name, "version": version}, where)
    return cards


def split_version(name: str) -> tuple[str, str | None]:
    """``("cnn_lstm_fusion", "v1")`` of ``"cnn_lstm_fusion@v1"``; ``(name, None)`` without one."""
    base, separator, version = name.partition(VERSION_SEPARATOR)
    return (base, version) if separator else (name, None)


def model_versions(name: str) -> dict[str, str]:
    """``{version: name to load}`` of a model's kept weights versions, the default first;
    ``{}`` for a model with one version only.

    >>> model_versions("face_cnn")
    {}
    """
    base, _ = split_version(name)
    entry = get_entry(base)
    if not entry.version:
        return {}
    prefix = f"{base}{VERSION_SEPARATOR}"
    kept = sorted(
        (n for n in _versions if n.startswith(prefix)),
        key=lambda n: [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", n)],
    )
    return {entry.version: base, **{split_version(n)[1] or "": n for n in kept}}


class _CardEntry(ModelEntry):
    """A built-in card's entry. Its ``recipe`` (how the weights were trained) is not in
    the card: it is read from ``zoo_configs/<name>.yaml`` when first asked for, so
    reading the registry parses no YAML."""

    _recipe: dict[str, Any] | None

    @property
    def recipe(self) -> dict[str, Any]:
        if self._recipe is None:
            self._recipe = _zoo_config(self.name)
        return self._recipe

    @recipe.setter
    def recipe(self, value: dict[str, Any]) -> None:
        self._recipe = value or None


def _zoo_config(name: str) -> dict[str, Any]:
    """The training recipe of built-in model ``name``, ``zoo_configs/<name>.yaml`` (plain
    data, ``yaml.safe_load``), or ``{}`` where there is none (an installed package).
    ``emozoo.training.recipe.Recipe`` checks it."""
    path = ZOO_CONFIGS_DIR / f"{name}.yaml"
    if not path.is_file():
        return {}
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or data.get("model", name) != name:
        raise ValueError(f"{path} is not the recipe of {name!r} (a mapping with model: {name})")
    return data


def user_models_dir() -> Path:
    """Folder of the persisted user registrations: ``$EMOZOO_HOME/models``."""
    return emozoo_home() / "models"


def _load_user_models() -> None:
    """Read ``$EMOZOO_HOME/models/*.json`` (again when ``$EMOZOO_HOME`` has changed).

    A file that cannot be read is skipped with a warning naming it, so one bad file
    never hides the other models.
    """
    global _user_folder_loaded
    folder = user_models_dir()
    if folder == _user_folder_loaded:
        return
    for name in list(_persisted):  # entries of a previous $EMOZOO_HOME
        if _registry.get(name) is not None and _registry[name].source == "user":
            del _registry[name]
        del _persisted[name]
    _user_folder_loaded = folder
    if not folder.is_dir():
        return
    cards = {}
    for path in sorted(folder.glob("*.json")):
        if not _NAME.match(path.stem):  # e.g. name@v1: kept versions are built-in only
            warnings.warn(f"Ignoring user model file {path}: not a valid model name", stacklevel=3)
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise ValueError("expected a JSON object")
        except (ValueError, OSError) as error:
            warnings.warn(f"Ignoring user model file {path}: {error}", stacklevel=3)
            continue
        cards[path.stem] = (data, str(path))
    builtin = {n: e for n, e in _registry.items() if e.source != "user"}
    entries = _resolve_cards(
        cards, builtin.get, lambda data, where: ModelEntry.from_dict(data, source="user")
    )
    for name, entry in entries.items():
        path = Path(cards[name][1])
        if isinstance(entry, ValueError):
            warnings.warn(f"Ignoring user model file {entry}", stacklevel=3)
            continue
        if name in builtin:
            warnings.warn(
                f"Ignoring user model file {path}: {name!r} is a built-in model", stacklevel=3
            )
            continue
        _registry[name] = entry
        _persisted[name] = path


def _ensure_loaded() -> None:
    _load_builtins()
    _load_user_models()


def builtin_config_path(name: str) -> Path:
    """Path of the card of built-in model ``name`` in its family folder (what tools
    rewrite); a kept version (``name@v1``) lives in its model's card."""
    _load_builtins()
    base, _ = split_version(name)
    if base not in _builtin_files:
        raise UnknownModelError(f"{name!r} is not a built-in model")
    return Path(str(_builtin_files[base]))


def _write_card_field(name: str, key: str, value: Any) -> Path:
    """Set ``key`` of built-in ``name``'s card (of its entry under ``versions`` for a
    kept version) and write the card back."""
    path = builtin_config_path(name)
    data = json.loads(path.read_text(encoding="utf-8"))
    _, version = split_version(name)
    if version is not None and version != data.get("version"):
        data["versions"][version][key] = value
    else:
        data[key] = value
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return path


def pinned_name(name: str) -> str:
    """``name`` with the version it means now where the model keeps several
    (``"cnn_lstm_fusion"`` -> ``"cnn_lstm_fusion@v3"``), else ``name``: a record that must
    keep meaning these weights after a later version becomes the default.

    >>> pinned_name("face_cnn")
    'face_cnn'

    Raises:
        UnknownModelError: no such model, or no such version of it.
    """
    entry = get_entry(name)
    base, _ = split_version(name)
    return f"{base}{VERSION_SEPARATOR}{entry.version}" if entry.version else base


def weights_stem(name: str) -> str:
    """The file name stem under which tools write ``name``'s weights and LiteRT files:
    the name, with its version where the model keeps several (``cnn_lstm_fusion.v2``), so
    that training one version never overwrites another's files."""
    base, version = split_version(name)
    version = version or get_entry(base).version
    return f"{base}.{version}" if version else base


def get_entry(name: str) -> ModelEntry:
    """The registered entry called ``name``.

    Raises:
        UnknownModelError: with the closest registered names as suggestions.
    """
    _ensure_loaded()
    if not isinstance(name, str):
        raise TypeError(f"A model name must be a string, got {type(name).__name__}")
    try:
        return _registry[name]
    except KeyError:
        pass
    if name in _versions:
        return _versions[name]
    base, version = split_version(name)
    if version is not None and base in _registry:
        entry = _registry[base]
        if version == entry.version:
            return entry
        kept = model_versions(base)
        raise UnknownModelError(
            f"{base!r} has no version {version!r}; "
            + (f"its versions: {', '.join(kept)}" if kept else "it has one version only")
        )
    close = difflib.get_close_matches(name, list(_registry), n=3, cutoff=0.5)
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    raise UnknownModelError(
        f"Unknown model {name!r}.{hint} Registered models: {', '.join(sorted(_registry))}"
    )


def list_models(
    pattern: str | None = None, pretrained: bool | None = None, versions: bool = False
) -> list[str]:
    """Names of the registered models, sorted.

    Args:
        pattern: shell-style filter such as ``"*fusion"``.
        pretrained: ``True`` keeps models with pretrained weights, ``False`` those without.
        versions: also name the earlier weights versions each model keeps
            (``cnn_lstm_fusion@v1``), each after its model.

    >>> "cnn_lstm_fusion" in list_models("*fusion")
    True
    """
    _ensure_loaded()
    names = sorted(_registry)
    if versions:
        names = [v for n in names for v in [n, *list(model_versions(n).values())[1:]]]
    if pattern is not None:
        names = [n for n in names if fnmatch.fnmatchcase(n, pattern)]
    if pretrained is not None:
        names = [n for n in names if get_entry(n).pretrained == pretrained]
    return names


def recommended_encoders() -> dict[str, str]:
    """``{modality: model name}``: the encoder recommended for each modality.

    A built-in unimodal card names the recommended encoder of its modality in
    ``headline["recommended"]``; the recommended one names itself. Fused cards name one
    per modality (a dict). Read from the cards, without Keras.

    >>> sorted(recommended_encoders())
    ['audio', 'face', 'face_au', 'text']
    """
    _ensure_loaded()
    chosen: dict[str, str] = {}
    for name, entry in _registry.items():
        if entry.source == "user" or len(entry.modalities) != 1:
            continue
        if entry.headline.get("recommended") == name:
            modality = entry.modalities[0]
            if modality in chosen:
                raise ValueError(
                    f"Two cards recommend themselves for {modality}: {chosen[modality]} and {name}"
                )
            chosen[modality] = name
    return chosen


def register_model(
    name: str,
    architecture: str | None = None,
    *,
    base: str | None = None,
    weights: str | Path | None = None,
    labels: Sequence[str] | None = None,
    config: dict[str, Any] | None = None,
    preprocessing: dict[str, dict[str, Any]] | None = None,
    modalities: Sequence[str] | None = None,
    description: str = "",
    training_data: str | None = None,
    metrics: dict[str, Any] | None = None,
    recipe: str | None = None,
    encoders: dict[str, str] | None = None,
    overwrite: bool = False,
    persist: bool = True,
) -> ModelEntry:
    """Register a model under ``name``, for this session and (``persist``) later ones.

    Either start from a registered model (``base="cnn_lstm_fusion"``: its architecture,
    config and preprocessing are kept unless overridden) or name an ``architecture``.
    ``weights`` is a ``.weights.h5`` or ``.keras`` file; its sha256 is recorded now and
    checked at every :func:`emozoo.load`. With ``persist`` (default) the entry is also
    written to ``$EMOZOO_HOME/models/<name>.json`` (``~/.emozoo`` by default), which
    every later ``import emozoo`` reads; the weights file stays where it is. For a fused
    model, ``encoders`` (``{modality: registered model}``) says that ``weights`` holds
    the fusion head alone and each encoder is that model: its config, preprocessing and
    weights. A model registered by ``architecture`` starts from its family's
    preprocessing (``FamilySpec.preprocessing``).

    >>> entry = register_model("my_face", base="face_cnn", labels=["happy", "sad"],
    ...                        overwrite=True, persist=False)
    >>> entry.labels
    ('happy', 'sad')
    """
    _ensure_loaded()
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(
            f"Invalid model name {name!r}: use letters, digits, '_', '-' and '.', "
            "starting with a letter or digit"
        )
    if name in _registry and not overwrite:
        raise ValueError(f"A model named {name!r} is already registered; pass overwrite=True")
    if persist and name in _registry and _registry[name].source != "user":
        raise ValueError(
            f"{name!r} is a built-in model; a persisted user model needs another name "
            "(or pass persist=False to shadow it for this session only)"
        )
    if base is not None:
        parent = get_entry(base).to_dict()
        parent.pop("weights", None)
        parent.pop("lite", None)  # built from the base's weights, not these
        parent.pop("headline", None)
        parent.pop("recipe", None)  # how the base's weights were trained (model: <base>)
        parent.pop("version", None)  # the base's weights' version, not the new model's
    elif architecture is not None:
        parent = {"architecture": architecture, "config": {}, "preprocessing": {}}
    else:
        raise ValueError("register_model needs an architecture or a base model name")
    if architecture is not None:
        parent["architecture"] = architecture

    from emozoo.models import architecture_modalities, get_family  # validates the name too

    arch_modalities = architecture_modalities(parent["architecture"])
    if base is None:
        # A new model of a family starts from the family's preprocessing.
        try:
            family = get_family(parent["architecture"]).preprocessing
        except KeyError:  # an architecture registered without a family spec
            family = {}
        parent["preprocessing"] = {m: dict(p) for m, p in family.items()}
    for modality, encoder in (encoders or {}).items():
        if parent.get("encoders", {}).get(modality) != encoder:
            # Another encoder model: its config and preprocessing come from its card.
            parent.get("config", {}).get("encoders", {}).pop(modality, None)
            parent.get("preprocessing", {}).pop(modality, None)
    data = {
        **parent,
        "name": name,
        "modalities": list(
            modalities if modalities is not None else parent.get("modalities", arch_modalities)
        ),
        "description": description or parent.get("description", ""),
    }
    if labels is not None:
        data["labels"] = list(labels)
    if config is not None:
        data["config"] = {**data.get("config", {}), **config}
    if preprocessing is not None:
        merged = dict(data.get("preprocessing", {}))
        for modality, params in preprocessing.items():
            merged[modality] = {**merged.get(modality, {}), **params}
        data["preprocessing"] = merged
    if weights is not None:
        path = Path(weights).expanduser().resolve()
        if not path.is_file():
            raise FileNotFoundError(f"Weights file {path} does not exist")
        data["weights"] = WeightsInfo(
            file=str(path),
            sha256=sha256_file(path),
            size_bytes=path.stat().st_size,
            training_data=training_data,
            recipe=recipe,
            metrics=dict(metrics or {}),
            encoders=dict(encoders or {}),
        ).to_dict()
    elif encoders:
        raise ValueError("encoders names where the encoders' weights come from: give weights too")
    if encoders:
        data["encoders"] = {**data.get("encoders", {}), **encoders}
    entry = ModelEntry.from_dict(inherit_encoders(data, get_entry), source="user")
    if persist:
        _persisted[name] = _write_user_entry(entry)
    _registry[name] = entry
    return entry


def _write_user_entry(entry: ModelEntry) -> Path:
    """Write ``entry`` to ``$EMOZOO_HOME/models/<name>.json`` (atomically)."""
    folder = user_models_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{entry.name}.json"
    temporary = path.with_suffix(f".json.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(entry.to_dict(), indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, path)
    return path


def unregister_model(name: str) -> None:
    """Remove a model registered with :func:`register_model` (built-ins stay).

    A persisted entry's JSON file is deleted too; its weights file is left alone.
    """
    entry = get_entry(name)
    if entry.source != "user":
        raise ValueError(f"{name!r} is a built-in model ({entry.source}) and cannot be removed")
    del _registry[name]
    path = _persisted.pop(name, None)
    if path is not None:
        path.unlink(missing_ok=True)


def write_weights_card(name: str, weights: WeightsInfo) -> Path:
    """Record ``weights`` as built-in model ``name``'s card in its zoo config file.

    Used by ``tools/pretrain.py`` and ``tools/evaluate.py``; figures come from runs,
    never from hand edits. Returns the config path.
    """
    entry = get_entry(name)
    if entry.source == "user":
        raise ValueError(f"{name!r} is a user model; only built-in zoo configs are written")
    path = _write_card_field(name, "weights", weights.to_dict())
    entry.weights = weights
    return path


def write_lite_card(name: str, lite: dict[str, Any]) -> Path:
    """Record ``lite`` (a LiteRT build of the shipped weights) in built-in model ``name``'s
    card. Used by ``tools/build_lite.py``. Returns the card path."""
    entry = get_entry(name)
    if entry.source == "user":
        raise ValueError(f"{name!r} is a user model; only built-in cards are written")
    path = _write_card_field(name, "lite", dict(lite))
    entry.lite = dict(lite)
    return path
