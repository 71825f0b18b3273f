"""Every notebook executes (on the committed sample, or on data it generates where it
needs errors to show: match_quality, review), and is stored without outputs.

The notebooks run in a kernel of this very Python (a kernelspec made for the test),
so they see the installed ``linkage`` whatever kernels the machine has. Skipped
where nbclient, ipykernel or matplotlib are missing, except in CI (``CI`` set),
where a missing package is a failure: CI must run them.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
PATHS = sorted(NOTEBOOKS.glob("*.ipynb"))
CELL_TIMEOUT = 300  # seconds; the slowest cell (live timing at 20,000 enterprises) takes ~5


def _need(module: str):
    if os.environ.get("CI"):
        return importlib.import_module(module)
    return pytest.importorskip(module)


def test_the_three_notebooks_are_there() -> None:
    assert {p.name for p in PATHS} >= {
        "match_quality.ipynb",
        "data_quality.ipynb",
        "performance.ipynb",
    }


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_stored_without_outputs(path: Path) -> None:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    code = [c for c in cells if c["cell_type"] == "code"]
    assert code, f"{path.name} has no code cells"
    dirty = [k for k, c in enumerate(code) if c.get("outputs") or c.get("execution_count")]
    assert not dirty, f"{path.name}: code cells {dirty} hold outputs; clear them before committing"


@pytest.fixture(scope="module")
def kernel_manager_factory(tmp_path_factory):
    """KernelManagers whose kernel is ``sys.executable -m ipykernel_launcher``."""
    _need("ipykernel")
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    kernels = tmp_path_factory.mktemp("kernels")
    spec_dir = kernels / "linkage-test"
    spec_dir.mkdir()
    (spec_dir / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "linkage tests",
                "language": "python",
                # Figures render to PNG without a display; never open a window.
                "env": {"MPLBACKEND": "module://matplotlib_inline.backend_inline"},
            }
        )
    )
    specs = KernelSpecManager(kernel_dirs=[str(kernels)])

    def make() -> KernelManager:
        return KernelManager(kernel_name="linkage-test", kernel_spec_manager=specs)

    return make


@pytest.mark.slow
@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_notebook_executes(path: Path, kernel_manager_factory) -> None:
    nbformat = _need("nbformat")
    nbclient = _need("nbclient")
    _need("matplotlib")
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        km=kernel_manager_factory(),
        timeout=CELL_TIMEOUT,
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    client.execute()  # raises CellExecutionError, naming the cell, on any error
    code = [c for c in notebook.cells if c.cell_type == "code"]
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors
    images = [o for c in code for o in c.outputs if "image/png" in o.get("data", {})]
    assert images, f"{path.name} drew no figure"
