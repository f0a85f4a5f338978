"""For course authors: generate ``exercises/`` from ``solutions/`` and keep notebooks clean.

In a solution notebook, an answer sits between two marker lines inside a code cell::

    def amdahl_speedup(p, n):
        ### BEGIN SOLUTION: The serial part stays; the parallel part is divided by n.
        return 1 / ((1 - p) + p / n)
        ### END SOLUTION

    check_amdahl(amdahl_speedup)

The exercise gets, in place of the region, ``raise NotImplementedError("<the hint>")`` at the region's
indentation; the cell is tagged ``raises-exception`` so nbval accepts the error. Keep the ``check_...``
call in the same cell, and let no later cell need the answer.
"""

import copy
import re
from pathlib import Path

import nbformat

BEGIN = re.compile(r"^(?P<indent>\s*)### BEGIN SOLUTION:?\s*(?P<hint>.*)$")
END = re.compile(r"^\s*### END SOLUTION\s*$")
DEFAULT_HINT = "Write your solution here."
BANNER = (
    "> **Exercise notebook.** Replace each `raise NotImplementedError(...)` with your own code, then run the "
    "cell: the check at its end tells you whether your answer is right. Worked answers are in "
    "`solutions/{name}`. (This file is generated from that one by `make exercises`: edit the solution, "
    "not this file.)"
)


class AuthoringError(ValueError):
    """A solution notebook whose markers do not pair up."""


def stub_source(source: str, where: str = "cell") -> tuple[str, int]:
    """Replace every solution region in ``source``; return the new source and how many were replaced."""
    out, count, region = [], 0, None
    for line in source.splitlines():
        if (match := BEGIN.match(line)) is not None:
            if region is not None:
                raise AuthoringError(f"{where}: '### BEGIN SOLUTION' inside another solution region.")
            region = match
            continue
        if END.match(line):
            if region is None:
                raise AuthoringError(f"{where}: '### END SOLUTION' without a BEGIN before it.")
            hint = region["hint"].strip() or DEFAULT_HINT
            out.append(f"{region['indent']}raise NotImplementedError({hint!r})")
            count, region = count + 1, None
            continue
        if region is None:
            out.append(line)
    if region is not None:
        raise AuthoringError(f"{where}: '### BEGIN SOLUTION' without an END after it.")
    return "\n".join(out), count


def make_exercise(solution: nbformat.NotebookNode, name: str) -> nbformat.NotebookNode:
    """The exercise notebook for the solution notebook ``solution`` (file name ``name``)."""
    exercise = copy.deepcopy(solution)
    total = 0
    for index, cell in enumerate(exercise.cells):
        if cell.cell_type != "code":
            continue
        cell.outputs, cell.execution_count = [], None
        cell.source, count = stub_source(cell.source, f"{name}, cell {index}")
        if count:
            total += count
            tags = cell.metadata.setdefault("tags", [])
            if "raises-exception" not in tags:
                tags.append("raises-exception")
    if total == 0:
        raise AuthoringError(f"{name} has no '### BEGIN SOLUTION' region: it is not a solution notebook.")
    banner = nbformat.v4.new_markdown_cell(BANNER.format(name=name))
    banner.id = "exercise-banner"
    exercise.cells.insert(1, banner)
    return exercise


def exercise_text(solution_path: Path) -> str:
    """The exact file contents ``exercises/`` should hold for ``solution_path``."""
    solution = nbformat.read(solution_path, as_version=4)
    return nbformat.writes(make_exercise(solution, solution_path.name)) + "\n"


def write_exercises(solutions: Path, exercises: Path) -> list[Path]:
    """(Re)write every exercise from its solution; remove exercises whose solution is gone."""
    exercises.mkdir(exist_ok=True)
    written = []
    for path in sorted(solutions.glob("*.ipynb")):
        target = exercises / path.name
        target.write_text(exercise_text(path), encoding="utf-8")
        written.append(target)
    for orphan in set(exercises.glob("*.ipynb")) - set(written):
        orphan.unlink()
    return written


def out_of_date(solutions: Path, exercises: Path) -> list[str]:
    """Names of exercises that differ from what their solutions generate (or are missing or orphaned)."""
    stale = []
    for path in sorted(solutions.glob("*.ipynb")):
        target = exercises / path.name
        if not target.is_file() or target.read_text(encoding="utf-8") != exercise_text(path):
            stale.append(path.name)
    stale += sorted(p.name for p in exercises.glob("*.ipynb") if not (solutions / p.name).is_file())
    return stale


def strip_outputs(path: Path) -> bool:
    """Remove outputs and execution counts from a notebook; return True if the file changed."""
    notebook = nbformat.read(path, as_version=4)
    before = nbformat.writes(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        cell.metadata.pop("execution", None)
    after = nbformat.writes(notebook)
    if after != before:
        path.write_text(after + "\n", encoding="utf-8")
    return after != before
