"""Execute every notebook under notebooks/ top to bottom; any cell error fails the test."""
from __future__ import annotations

from pathlib import Path

import pytest

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path: Path) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")

    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        kernel_name="python3",  # the venv's kernel: `python -m ipykernel install --sys-prefix`
        timeout=300,
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},  # cwd of the kernel
        allow_errors=False,
    )
    client.execute()  # raises CellExecutionError naming the cell and the traceback


def test_notebooks_have_no_stored_outputs() -> None:
    nbformat = pytest.importorskip("nbformat")
    assert NOTEBOOKS, f"no notebooks found in {NOTEBOOK_DIR}"
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        for i, cell in enumerate(nb.cells):
            if cell.cell_type == "code":
                assert not cell.outputs, f"{path.name} cell {i} has stored outputs"
                assert cell.execution_count is None, f"{path.name} cell {i} has an exec count"
