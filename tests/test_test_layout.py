"""The tests mirror the package: ``tests/<name>/`` tests ``emozoo/<name>`` (a subpackage or
a module), and ``tests/`` itself keeps only the project-level test files."""

from __future__ import annotations

from pathlib import Path

TESTS = Path(__file__).resolve().parent
PACKAGE = TESTS.parent / "emozoo"
#: Folders under tests/ that mirror no part of the package, and why.
NOT_MIRRORS = {
    "fixtures": "reference figures read by the convert tests and their tools",
    "docs": "the docs site (docs/ and tools/build_docs.py), not a subpackage",
}
#: Test files that stay at tests/ because they test the project as a whole.
PROJECT_LEVEL = {
    "test_layering.py": "the layers of the whole package, read from its source",
    "test_packaging.py": "setup.cfg, package data and the README",
    "test_pretrained.py": "every pretrained card's figures, re-measured",
    "test_test_layout.py": "this file",
}
#: Files still at tests/ while their owners rework them, and where they go (none now).
TO_MOVE: dict[str, str] = {}


def test_every_test_folder_names_a_part_of_the_package():
    folders = [
        p.name
        for p in TESTS.iterdir()
        if p.is_dir() and not p.name.startswith((".", "__")) and p.name not in NOT_MIRRORS
    ]
    assert folders
    orphans = [
        name
        for name in folders
        if not (PACKAGE / name / "__init__.py").is_file() and not (PACKAGE / f"{name}.py").is_file()
    ]
    assert not orphans, f"tests/{orphans} name no emozoo subpackage or module"
    no_init = [name for name in folders if not (TESTS / name / "__init__.py").is_file()]
    assert not no_init, f"tests/{no_init} lack the __init__.py the other test folders have"


def test_only_project_level_tests_stay_at_the_root():
    stray = sorted(
        p.name for p in TESTS.glob("test_*.py") if p.name not in {*PROJECT_LEVEL, *TO_MOVE}
    )
    assert not stray, f"{stray} belong under tests/<subpackage>/"
