"""The package's architecture, read from its source: layers, import cycles and where
modality names are tested.

- ``emozoo.models`` imports nothing above it (no data, training, export, inference,
  registry or evaluation code).
- No import cycle among the modules of ``emozoo.export`` (imports anywhere in a module,
  lazy ones included).
- At most four modules outside ``emozoo/models/`` compare against a modality name
  (``"face"``, ``"text"``, ``"audio"`` or the ``FACE``/``TEXT``/``AUDIO`` constants): the
  rest ask a model family's spec or a modality's preprocessor.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "emozoo"
MODALITY_STRINGS = {"face", "text", "audio", "face_au"}
MODALITY_CONSTANTS = {"FACE", "TEXT", "AUDIO", "FACE_AU"}
#: The modules allowed to know modality names, and why.
MODALITY_AWARE = {
    "emozoo/preprocessing/preprocessor.py": "the face=/text=/audio= keyword API",
    "emozoo/inference/recognizer.py": "the image=/text=/audio=/face_au= keyword API",
    "emozoo/data/custom.py": "user folders and manifests name their columns",
    "emozoo/data/pairs.py": "a pseudo-pair is one face, one text and one voice",
}


def modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"))


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(tree: ast.AST, current: str) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            base = node.module
            if node.level:
                base = ".".join(current.split(".")[: -node.level] + [node.module])
            found.add(base)
            found |= {f"{base}.{a.name}" for a in node.names}
    return {name for name in found if name.startswith("emozoo")}


def test_models_import_nothing_above_them():
    above = ("data", "training", "export", "inference", "registry", "evaluation", "cli")
    offenders = {}
    for path, tree in modules():
        name = module_name(path)
        if not name.startswith("emozoo.models"):
            continue
        bad = sorted(
            i for i in imported(tree, name) if i.split(".")[1:2] and i.split(".")[1] in above
        )
        if bad:
            offenders[name] = bad
    assert not offenders


def test_no_import_cycle_in_export():
    graph = {}
    for path, tree in modules():
        name = module_name(path)
        if name.startswith("emozoo.export.") or name == "emozoo.export":
            graph[name] = {i for i in imported(tree, name) if i.startswith("emozoo.export.")}
    known = set(graph)
    graph = {k: {i for i in v if i in known and i != k} for k, v in graph.items()}
    visiting, done, cycles = set(), set(), []

    def visit(node, trail):
        visiting.add(node)
        for nxt in graph[node]:
            if nxt in visiting:
                cycles.append(trail[trail.index(nxt) :] + [nxt])
            elif nxt not in done:
                visit(nxt, trail + [nxt])
        visiting.discard(node)
        done.add(node)

    for node in sorted(graph):
        if node not in done:
            visit(node, [node])
    assert not cycles


def _tests_a_modality(node: ast.Compare) -> bool:
    parts = [node.left, *node.comparators]
    for part in parts:
        if isinstance(part, ast.Constant) and part.value in MODALITY_STRINGS:
            return True
        if isinstance(part, ast.Name) and part.id in MODALITY_CONSTANTS:
            return True
        if isinstance(part, (ast.Tuple, ast.List, ast.Set)) and any(
            isinstance(e, ast.Constant) and e.value in MODALITY_STRINGS for e in part.elts
        ):
            return True
    return False


def modality_testing_modules() -> dict[str, int]:
    counts = {}
    for path, tree in modules():
        rel = path.relative_to(PACKAGE.parent).as_posix()
        if rel.startswith("emozoo/models/"):
            continue
        hits = sum(
            1
            for node in ast.walk(tree)
            if isinstance(node, ast.Compare) and _tests_a_modality(node)
        )
        if hits:
            counts[rel] = hits
    return counts


def test_at_most_four_modules_outside_models_test_a_modality_name():
    counts = modality_testing_modules()
    assert len(counts) <= 4, counts
    assert set(counts) <= set(MODALITY_AWARE), counts


@pytest.mark.parametrize(
    "source,expected",
    [
        ("x == 'face'", True),
        ("'audio' in m", True),
        ("m in ('text', 'x')", True),
        ("m == FACE", True),
        ("m == 'other'", False),
        ("m.face is None", False),
    ],
)
def test_the_modality_test_detector(source, expected):
    (node,) = [n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Compare)]
    assert _tests_a_modality(node) is expected


#: Layers, lowest first: a module may import its own layer and those below it only.
LAYERS = (
    ("registry", "models", "preprocessing", "labels", "paths"),
    ("data",),
    ("training", "export", "evaluation", "convert"),
    ("inference",),
    ("serving", "batch", "streaming"),
    ("cli",),
)


def _layer_of(module: str) -> int | None:
    part = module.split(".")[1] if module.count(".") else None
    for index, names in enumerate(LAYERS):
        if part in names:
            return index
    return None


@pytest.mark.parametrize("upper", ["serving", "batch", "streaming", "cli"])
def test_lower_layers_never_import_the_serving_batch_streaming_or_cli_layers(upper):
    offenders = {}
    for path, tree in modules():
        name = module_name(path)
        own = _layer_of(name)
        if own is None or name.split(".")[1:2] == [upper]:
            continue
        if own >= _layer_of(f"emozoo.{upper}"):
            continue
        bad = sorted(i for i in imported(tree, name) if i.split(".")[1:2] == [upper])
        if bad:
            offenders[name] = bad
    assert not offenders


def test_training_takes_no_command_line():
    """emozoo.training is called with recipes and configs: it imports neither the CLI nor
    argparse (``pretrain`` takes a Recipe, not an argparse namespace)."""
    offenders = {}
    for path, tree in modules():
        name = module_name(path)
        if not name.startswith("emozoo.training"):
            continue
        found = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        found |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        bad = sorted(
            i
            for i in found | imported(tree, name)
            if i.split(".")[:2] == ["emozoo", "cli"] or i == "argparse"
        )
        if bad:
            offenders[name] = bad
    assert not offenders
