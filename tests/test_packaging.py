"""What a fresh install needs is declared and shipped."""

from __future__ import annotations

import configparser
import json
from importlib import resources
from pathlib import Path

import pytest

import emozoo
from emozoo.paths import ASSETS_DIR, PROJECT_ROOT, data_dir
from emozoo.registry import get_entry

SETUP_CFG = PROJECT_ROOT / "setup.cfg"


def _declared_packages() -> set[str]:
    from setuptools import find_packages

    config = configparser.ConfigParser()
    config.read(SETUP_CFG)
    assert config["options"]["packages"].strip() == "find:"
    include = config["options.packages.find"]["include"].replace(",", " ").split()
    return set(find_packages(str(PROJECT_ROOT), include=include))


def test_every_subpackage_is_declared():
    found = set()
    for init in (PROJECT_ROOT / "emozoo").rglob("__init__.py"):
        found.add(".".join(init.parent.relative_to(PROJECT_ROOT).parts))
    assert found == _declared_packages()
    config = configparser.ConfigParser()
    config.read(SETUP_CFG)
    assert "models/*/*.json" in config["options.package_data"]["emozoo"]


def test_model_cards_are_installed_and_valid():
    models = resources.files("emozoo") / "models"
    files = [card for family in models.iterdir() if family.is_dir() for card in family.iterdir()]
    files = [p for p in files if p.name.endswith(".json")]
    assert {p.name.removesuffix(".json") for p in files} == set(emozoo.list_models())
    for path in files:
        data = json.loads(path.read_text())
        assert data["labels"] == list(emozoo.EMOTIONS), path.name
        assert get_entry(data["name"]).architecture == data["architecture"]


def test_vocabulary_is_shipped():
    vocabulary = ASSETS_DIR / "wordpiece_vocab.txt"
    tokens = vocabulary.read_text(encoding="utf-8").splitlines()
    assert tokens[:5] == ["[PAD]", "[CLS]", "[SEP]", "[UNK]", "[MASK]"]
    assert len(tokens) == len(set(tokens)) > 5000


def test_data_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("EMOZOO_DATA_DIR", str(tmp_path))
    assert data_dir() == tmp_path.resolve()
    monkeypatch.delenv("EMOZOO_DATA_DIR")
    assert data_dir() == (PROJECT_ROOT.parent / "shared" / "data").resolve()


def test_models_layer_imports_no_upper_layer():
    for module in (PROJECT_ROOT / "emozoo" / "models").rglob("*.py"):
        source = module.read_text()
        for layer in (
            "emozoo.registry",
            "emozoo.training",
            "emozoo.export",
            "emozoo.inference",
            "emozoo.data",
        ):
            assert layer not in source, f"{module.name} imports {layer}"


def test_readme_explains_tensorflow_io_absence():
    readme = Path(PROJECT_ROOT / "README.md").read_text()
    assert "tensorflow-io" in readme


def _evaluate_tool():
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "evaluate_tool", PROJECT_ROOT / "tools" / "evaluate.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_model_table_is_the_cards_summary():
    """The README's table (the default model and the recommended encoders, one line each)
    is what the cards say now; tests/docs checks every generated part of the docs."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "build_docs", PROJECT_ROOT / "tools" / "build_docs.py"
    )
    build_docs = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build_docs)
    names = build_docs.readme_models()
    assert "cnn_lstm_fusion" in names and set(emozoo.recommended_encoders().values()) <= set(names)
    table = _evaluate_tool().summary_table(names)
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert table in readme, "rerun python tools/build_docs.py"


def test_metrics_report_is_the_cards_metrics():
    names = emozoo.list_models(pretrained=True)
    table = _evaluate_tool().markdown_table({n: get_entry(n).weights.metrics for n in names})
    report = (PROJECT_ROOT / "reports" / "model_metrics.md").read_text(encoding="utf-8")
    assert table in report, (
        "rerun python tools/evaluate.py pretrained --cards-only --report reports/model_metrics.md"
    )


def test_evaluate_report_without_cards_only_is_refused(tmp_path, capsys):
    """--report would otherwise be ignored while a full evaluation runs."""
    with pytest.raises(SystemExit) as exit_info:
        _evaluate_tool().main(["face_cnn", "--report", str(tmp_path / "m.md")])
    assert exit_info.value.code == 2
    assert "--cards-only" in capsys.readouterr().err
    assert not (tmp_path / "m.md").exists()
