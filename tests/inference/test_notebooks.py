"""Every notebook in notebooks/ runs top to bottom (nbclient), on small data.

New notebooks are picked up automatically. Kernels get ``EMOZOO_NOTEBOOK_SMOKE=1``:
notebooks that train or export should use it to shrink their data and epochs. A notebook
whose metadata has ``"emozoo": {"needs_data": true}`` builds its examples from the shared
datasets and is skipped, with the reason, where they are absent.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from emozoo.paths import PROJECT_ROOT

NOTEBOOKS = sorted((PROJECT_ROOT / "notebooks").glob("*.ipynb"))
#: A cell that converts a model to LiteRT takes about 250 s on 2 busy cores; a hung
#: kernel still fails.
CELL_TIMEOUT_S = 600


def test_notebooks_are_found():
    assert {"quickstart.ipynb", "finetune.ipynb", "export.ipynb"} <= {p.name for p in NOTEBOOKS}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_committed_without_outputs(path: Path):
    nbformat = pytest.importorskip("nbformat")
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, (
                f"{path.name}: clear outputs before committing"
            )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path: Path, tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    monkeypatch.setenv("EMOZOO_NOTEBOOK_SMOKE", "1")
    # A kernel is a user's own session: models it saves must not reach this test run's
    # registry (other tests compare the CLI's list with it).
    monkeypatch.setenv("EMOZOO_HOME", str(tmp_path / "emozoo_home"))
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "3")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    notebook = nbformat.read(path, as_version=4)
    if notebook.metadata.get("emozoo", {}).get("needs_data"):
        from emozoo.paths import data_dir

        if not data_dir().is_dir():
            pytest.skip(f"{path.name} builds its data from {data_dir()}, which is absent")
    client = nbclient.NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},  # files it writes land here
    )
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as error:
        pytest.fail(f"{path.name} failed:\n{str(error)[-3000:]}")
