"""Rules every notebook keeps: the lesson skeleton, no stored outputs, exercises in sync, no cell workers."""

import ast
import json
import re
from pathlib import Path

import nbformat
import pytest

from parallel_course.tools import authoring

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
ALL_NOTEBOOKS = sorted(p for d in ("notebooks", "solutions", "exercises") for p in (ROOT / d).glob("*.ipynb"))
SKELETON = ["Objectives", "Time", "Prerequisites", "Pitfalls", "Key points", "Further reading"]
# Calls that send a function to other workers: the function must come from the package.
DISPATCH = {"map", "imap", "imap_unordered", "starmap", "submit", "apply_async", "map_async", "run",
            "WorkerPanel", "delayed", "remote", "Process"}


def headings(path: Path) -> list[str]:
    cells = nbformat.read(path, as_version=4).cells
    return [m.group(1).strip() for c in cells if c.cell_type == "markdown"
            for m in re.finditer(r"^#{1,4}\s+(.+)$", c.source, re.M)]


def test_the_course_has_its_first_lessons():
    names = [p.name for p in LESSONS]
    assert names[:2] == ["00_welcome_and_setup.ipynb", "01_why_parallel.ipynb"]


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_lesson_follows_the_skeleton(path):
    found = headings(path)
    assert found and found[0].startswith(path.name[:2]), f"{path.name} must start with a '# NN · Title' heading"
    missing = [h for h in SKELETON if not any(f == h or f.startswith(h + " ") for f in found)]
    assert not missing, f"{path.name} lacks the headings {missing}"
    order = [next(i for i, f in enumerate(found) if f == h or f.startswith(h + " ")) for h in SKELETON]
    assert order == sorted(order), f"{path.name}: the skeleton headings are out of order"


@pytest.mark.parametrize("path", [p for p in LESSONS if p.name[:2] != "00"], ids=lambda p: p.name)
def test_lesson_has_a_live_worker_count_experiment(path):
    assert "WorkerPanel(" in path.read_text(encoding="utf-8"), f"{path.name} has no worker-count panel"


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_outputs_are_stripped(path):
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] == "code":
            assert not cell["outputs"] and cell["execution_count"] is None, f"{path.name} stores outputs"


def test_exercises_are_generated_from_solutions():
    stale = authoring.out_of_date(ROOT / "solutions", ROOT / "exercises")
    assert not stale, f"exercises/ is out of date for {stale}: run `make exercises`"


@pytest.mark.parametrize("path", sorted((ROOT / "solutions").glob("*.ipynb")), ids=lambda p: p.name)
def test_each_solution_has_three_checked_exercises(path):
    cells = nbformat.read(path, as_version=4).cells
    checked = [c for c in cells if c.cell_type == "code" and "### BEGIN SOLUTION" in c.source
               and re.search(r"^check_\w+\(", c.source, re.M)]
    assert len(checked) >= 3, f"{path.name} has {len(checked)} auto-checked exercises, fewer than 3"


def cell_defined_workers(source: str) -> list[str]:
    """Names of functions defined in ``source`` and handed to a pool, executor or thread in it."""
    tree = ast.parse(source)
    defined = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
    defined |= {t.id for n in ast.walk(tree) if isinstance(n, ast.Assign) and isinstance(n.value, ast.Lambda)
                for t in n.targets if isinstance(t, ast.Name)}
    sent = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if name not in DISPATCH:
            continue
        args = [*node.args, *(k.value for k in node.keywords if k.arg in ("target", "fn", "func"))]
        sent += [a.id for a in args if isinstance(a, ast.Name) and a.id in defined]
        sent += ["lambda" for a in args if isinstance(a, ast.Lambda) and name not in ("Thread",)]
    return sent


def notebook_code(path: Path) -> str:
    """The notebook's code cells as one module; IPython magics and cells that may fail are left out."""
    cells = nbformat.read(path, as_version=4).cells
    keep = [c.source for c in cells if c.cell_type == "code" and "raises-exception" not in c.metadata.get("tags", [])]
    return "\n".join(line for src in keep for line in src.splitlines() if not line.lstrip().startswith(("%", "!")))


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_worker_function_is_defined_in_a_notebook(path):
    sent = cell_defined_workers(notebook_code(path))
    assert not sent, f"{path.name} hands cell-defined functions {sent} to workers: move them into the package"


def test_the_worker_scan_catches_a_cell_defined_worker():
    assert cell_defined_workers("def f(x):\n    return x\nwith P() as p:\n    p.map(f, [1])\n") == ["f"]
    assert cell_defined_workers("from parallel_course.workloads import square\np.map(square, [1])\n") == []
