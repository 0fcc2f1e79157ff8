"""The README and the docs site: generated parts equal their generator's output, the
hand-written parts hold no measured figures, and the site builds with --strict."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from emozoo.paths import PROJECT_ROOT

#: What a measured figure looks like in prose: a share, a duration in ms, a rate, a
#: real-time factor or a size in MB. Hand-written pages describe; figures are generated.
MEASURED = re.compile(
    r"\d+(?:\.\d+)?\s?%"
    r"|\d+(?:\.\d+)?\s?ms\b"
    r"|\d(?:\.\d+)?\s?(?:samples|requests|items|texts|images|clips|frames|req)/s\b"
    r"|real-time factor (?:of )?\d"
    r"|\d+(?:\.\d+)?\s?(?:MB|GB|MiB|GiB)\b"
)


@pytest.fixture(scope="module")
def build_docs():
    spec = importlib.util.spec_from_file_location(
        "build_docs", PROJECT_ROOT / "tools" / "build_docs.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def expected(build_docs) -> dict[Path, str]:
    return build_docs.generate()


def test_committed_generated_files_equal_the_generator_output(build_docs, expected):
    changed = [str(p.relative_to(PROJECT_ROOT)) for p in build_docs.differences(expected)]
    assert not changed, f"out of date (run python tools/build_docs.py): {changed}"


def test_every_shipped_model_has_a_page_and_a_nav_entry(build_docs, expected):
    nav = (PROJECT_ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    for name in build_docs.shipped_models():
        page = build_docs.MODELS_DIR / f"{name}.md"
        assert page in expected and f"# `{name}`" in expected[page]
        assert f"models/{name}.md" in nav


def test_readme_is_at_most_8_kb():
    assert (PROJECT_ROOT / "README.md").stat().st_size <= 8 * 1024


def test_readme_test_command_is_the_line_ci_runs():
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Tests", 1)[1]
    command = re.search(r"```bash\n(.+?)\n```", section, re.S).group(1).strip()
    ci_lines = (PROJECT_ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert any(line.startswith(command) for line in ci_lines), command


def _hand_written_lines(build_docs, path: Path):
    inside = None
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if build_docs._START.match(line):
            inside = True
        elif build_docs._END.match(line):
            inside = None
        elif not inside:
            yield number, line


def test_hand_written_docs_hold_no_measured_figures(build_docs, expected):
    whole = {p for p in expected if p.parent == build_docs.MODELS_DIR}
    whole.add(build_docs.DOCS / "benchmarks.md")
    pages = [PROJECT_ROOT / "README.md", *sorted(build_docs.DOCS.rglob("*.md"))]
    found = [
        f"{path.relative_to(PROJECT_ROOT)}:{number}: {match.group(0)!r}"
        for path in pages
        if path not in whole
        for number, line in _hand_written_lines(build_docs, path)
        for match in MEASURED.finditer(line)
    ]
    assert not found, "measured figures belong in a generated block: " + "; ".join(found)


def test_measured_figure_pattern():
    for text in ("reached 86.1% on", "in 4.09 ms", "18.3 samples/s", "real-time factor 0.37"):
        assert MEASURED.search(text), text
    for text in ("TensorFlow 2.21", "3 s windows", "a 48x48 crop", "`--max-batch 32`"):
        assert not MEASURED.search(text), text


def test_blocks_are_filled_and_checked(build_docs):
    generators = {"one": lambda: "filled"}
    text = "a\n<!-- generated: one -->\nstale\n<!-- end generated: one -->\nb\n"
    filled = build_docs.fill_blocks(text, generators, {}, "x.md")
    assert filled == "a\n<!-- generated: one -->\nfilled\n<!-- end generated: one -->\nb\n"
    yaml = "  # generated: one\n  old\n  # end generated: one\n"
    assert build_docs.fill_blocks(yaml, generators, {}, "x.yml").splitlines()[1] == "filled"
    with pytest.raises(ValueError, match="unknown generated block"):
        build_docs.fill_blocks("<!-- generated: two -->\n", generators, {}, "x.md")
    with pytest.raises(ValueError, match="no end marker"):
        build_docs.fill_blocks("<!-- generated: one -->\nx\n", generators, {}, "x.md")


def test_check_mode_names_a_file_that_differs(build_docs, expected, monkeypatch, capsys):
    page = build_docs.MODELS_DIR / "index.md"
    monkeypatch.setattr(build_docs, "generate", lambda: {**expected, page: "changed\n"})
    assert build_docs.main(["--check"]) == 1
    assert "docs/models/index.md" in capsys.readouterr().out


@pytest.mark.slow
def test_site_builds_strict_and_offline(tmp_path):
    mkdocs = shutil.which("mkdocs", path=str(Path(sys.executable).parent)) or "mkdocs"
    site = tmp_path / "site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    run = subprocess.run(
        [mkdocs, "build", "--strict", "--site-dir", str(site)],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-4000:]
    assert (site / "models" / "cnn_lstm_fusion" / "index.html").is_file()
    assert "EmotionRecognizer" in (site / "reference" / "recognizer" / "index.html").read_text()
    external = re.compile(r"<(?:script|link)[^>]+(?:src|href)=\"(?:https?:)?//", re.I)
    for page in site.rglob("*.html"):
        assert not external.search(page.read_text(encoding="utf-8")), page
