"""docs/example.ipynb runs in a real notebook client (nbclient and an ipykernel) and shows what it promises.

The kernel is this interpreter (`sys.executable`) with this checkout first on its path, through a kernelspec
written to a temporary folder, so nothing is installed into the user's Jupyter set-up and the installed
`python3` kernel (whichever `python` is first on PATH) is not relied on.
"""

from __future__ import annotations

import base64
import json
import re
import sys
from pathlib import Path

import pytest

nbclient = pytest.importorskip("nbclient")  # in the test extra, so CI runs it
nbformat = pytest.importorskip("nbformat")

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "docs" / "example.ipynb"
KERNEL = "optviz-test"
DATA_URI = re.compile(r'(?:src)="data:(image/gif|video/mp4);base64,([A-Za-z0-9+/=]+)"')


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    kernels = tmp_path_factory.mktemp("kernels")
    (kernels / KERNEL).mkdir()
    spec = {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "optviz test", "language": "python",
            "env": {"PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}}
    (kernels / KERNEL / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    manager = KernelManager(kernel_name=KERNEL, kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernels)]))
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    workdir = tmp_path_factory.mktemp("run")
    client = nbclient.NotebookClient(notebook, km=manager, timeout=120, resources={"metadata": {"path": str(workdir)}})
    client.execute()
    return notebook, workdir


def code_cells(notebook):
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def html_of(cell) -> str:
    (html,) = [output["data"]["text/html"] for output in cell.outputs if "text/html" in output.get("data", {})]
    return html


def test_the_notebook_is_saved_without_outputs():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    for cell in code_cells(notebook):
        assert cell.outputs == [] and cell.execution_count is None


def test_no_cell_raised(executed):
    notebook, _ = executed
    for cell in code_cells(notebook):
        assert [output for output in cell.outputs if output.output_type == "error"] == [], cell.source


@pytest.mark.parametrize("index", [0, 1], ids=["race as last value", "show dark 640x360"])
def test_display_cells_show_an_embedded_animation_and_the_results_table(executed, index):
    notebook, _ = executed
    html = html_of(code_cells(notebook)[index])
    (found,) = DATA_URI.findall(html)
    mime, payload = found
    data = base64.b64decode(payload)
    assert data[:6] == b"GIF89a" if mime == "image/gif" else b"ftyp" in data[:16]
    assert "<table" in html and html.count("<tr>") == 3  # the header and one row per run
    for label in ("adam", "sgd"):
        assert label in html
    assert "http://" not in html and "https://" not in html


def test_display_cells_carry_a_one_line_text_form(executed):
    notebook, _ = executed
    for cell in code_cells(notebook)[:2]:
        (text,) = [output["data"]["text/plain"] for output in cell.outputs if "text/plain" in output.get("data", {})]
        assert "\n" not in text and "optviz.Race rosenbrock: adam, sgd; 300 steps" in text


def test_show_takes_its_render_options(executed):
    notebook, _ = executed
    default, dark = html_of(code_cells(notebook)[0]), html_of(code_cells(notebook)[1])
    assert 'width="960" height="540"' in default
    assert 'width="640" height="360"' in dark
    assert DATA_URI.findall(default)[0][1] != DATA_URI.findall(dark)[0][1]


def test_stats_cell_prints_a_row_per_run(executed):
    notebook, _ = executed
    (stream,) = [output for output in code_cells(notebook)[2].outputs if output.output_type == "stream"]
    lines = stream["text"].strip().splitlines()
    assert lines[0].split() == ["run", "lr", "source", "final", "loss", "distance"]
    assert [line.split()[0] for line in lines[1:]] == ["adam", "sgd"]


def test_one_dimensional_cell_prints_one_coordinate_per_run(executed):
    notebook, _ = executed
    (stream,) = [output for output in code_cells(notebook)[3].outputs if output.output_type == "stream"]
    lines = stream["text"].strip().splitlines()
    assert lines[0] == "positions (101, 2, 1, 1)"
    minimum = float(lines[1].split("=")[1])
    assert [line.split()[0] for line in lines[2:]] == ["adam", "sgd"]
    assert all(float(line.split("=")[1]) < 2.0 for line in lines[2:])  # both went downhill from x = 2
    assert minimum == pytest.approx(-1.3008, abs=1e-3)


def test_the_notebook_leaves_no_file_behind(executed):
    _, workdir = executed
    assert list(workdir.iterdir()) == []
