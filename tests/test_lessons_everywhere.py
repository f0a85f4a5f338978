"""The lessons beyond the default run: process-based notebooks under spawn and forkserver (the defaults of
macOS and Windows, and of Linux from Python 3.14), and every lesson as on a one-core machine (Binder).

nbval runs each notebook once under this platform's default start method; this file re-runs them here.
"""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
PROCESS_MARKERS = ('"processes"', "ProcessPoolExecutor", "multiprocessing", "mp_context")


def code(path: Path) -> str:
    return "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")


PROCESS_NOTEBOOKS = [p for d in ("notebooks", "solutions") for p in sorted((ROOT / d).glob("*.ipynb"))
                     if any(marker in code(p) for marker in PROCESS_MARKERS)]
CPU_LESSONS = [p for p in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")) if p.name[:2] != "00"]


def execute(path: Path) -> str:
    """Run a notebook top to bottom (cells tagged raises-exception may fail); return its text output."""
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    texts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            texts.append(output.get("text", ""))
            texts.extend(str(output.get("data", {}).get(kind, "")) for kind in ("text/plain", "text/markdown"))
    return "\n".join(texts)


def test_process_lessons_are_found():
    names = {p.name for p in PROCESS_NOTEBOOKS}
    assert {"01_why_parallel.ipynb", "04_multiprocessing.ipynb", "05_concurrent_futures.ipynb"} <= names


@pytest.mark.parametrize("method", ["spawn", "forkserver"])
@pytest.mark.parametrize("path", PROCESS_NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_process_lessons_run_under_other_start_methods(path, method, monkeypatch):
    monkeypatch.setenv("PARALLEL_COURSE_START_METHOD", method)
    execute(path)


@pytest.mark.parametrize("path", CPU_LESSONS, ids=lambda p: p.name)
def test_lessons_explain_why_one_core_shows_no_speedup(path, monkeypatch):
    monkeypatch.setenv("PARALLEL_COURSE_CORES", "1")
    output = execute(path)
    assert "1 usable core" in output, f"{path.name} never tells a one-core learner why no speedup appears"
