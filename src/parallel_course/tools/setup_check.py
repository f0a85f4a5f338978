"""``python -m parallel_course check``: is this machine ready for the course?

Checks the imports and their versions, a 2-rank MPI run, a Cython compile, and reports the cores, memory,
shared memory and whether this is Binder. Prints one table. Each row knows the first lesson that needs
it: a problem with what lessons 00 and 01 need is a hard failure (exit status 1); a problem with what a
later lesson needs is marked "needed from lesson NN", so a learner can start now and fix it later.
"""

import importlib
import importlib.metadata
import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from dataclasses import dataclass
from pathlib import Path

from parallel_course import resources, settings

HARD_UNTIL = 1
"""Problems with what lessons up to this one need stop the learner; later ones are marked "needed from"."""
READY_UNTIL = 5
"""The last lesson that is written. Its packages are imported; those of coming lessons are only looked up
(found, with their version), which keeps the check within a few seconds (importing ray alone takes 2 s)."""

PACKAGES = {  # import name -> (distribution name, for the version; the first lesson that needs it)
    "psutil": ("psutil", 0), "jupyterlab": ("jupyterlab", 0), "numpy": ("numpy", 1),
    "threadpoolctl": ("threadpoolctl", 1), "tqdm": ("tqdm", 1), "matplotlib": ("matplotlib", 1),
    "ipywidgets": ("ipywidgets", 1), "cloudpickle": ("cloudpickle", 4), "joblib": ("joblib", 6),
    "dask": ("dask", 7), "distributed": ("distributed", 7), "ray": ("ray", 8), "mpi4py": ("mpi4py", 9),
    "Cython": ("Cython", 10),
}
NOT_IMPORTED = {"jupyterlab"}  # the server, not the kernel, runs it: finding it is enough (and 1-2 s faster)
MPI_LESSON, CYTHON_LESSON = 9, 10
MPI_HELLO = ("from mpi4py import MPI; c = MPI.COMM_WORLD; r = c.gather(c.Get_rank()); "
             "print('ranks', *r) if c.Get_rank() == 0 else None")


CYTHON_NOGIL = "cdef long k = n\ncdef long s = 0\nwith nogil:\n    s = k * (k - 1) // 2\n"


@dataclass
class Row:
    """One line of the table: what was checked, whether it works, and the first lesson that needs it."""

    item: str
    ok: bool
    detail: str
    lesson: int = 0

    @property
    def blocking(self) -> bool:
        """True for a problem that stops the course now (lessons 00-01 need it)."""
        return not self.ok and self.lesson <= HARD_UNTIL

    @property
    def status(self) -> str:
        """``ok``, ``BAD`` (a blocking problem) or ``later`` (a problem for a later lesson)."""
        return "ok" if self.ok else "BAD" if self.blocking else "later"

    @property
    def text(self) -> str:
        """The detail, with "needed from lesson NN" in front of a problem that can wait."""
        return self.detail if self.ok or self.blocking else f"needed from lesson {self.lesson:02d}: {self.detail}"


def find_mpiexec() -> str | None:
    """``mpiexec`` of this environment (the ``mpich`` wheel puts it next to python), else from PATH."""
    here = Path(sys.prefix) / ("Scripts" if os.name == "nt" else "bin") / "mpiexec"
    return str(here) if here.is_file() else shutil.which("mpiexec")


def check_packages() -> list[Row]:
    rows = []
    for module, (dist, lesson) in PACKAGES.items():
        try:
            if module in NOT_IMPORTED or lesson > READY_UNTIL:
                if importlib.util.find_spec(module) is None:
                    raise ModuleNotFoundError(f"No module named {module!r}")
                how = " (found; the server imports it)" if module in NOT_IMPORTED else " (found; not imported yet)"
            else:
                importlib.import_module(module)
                how = ""
            rows.append(Row(module, True, importlib.metadata.version(dist) + how, lesson))
        except Exception as error:  # noqa: BLE001 - any import failure is a setup problem to report
            rows.append(Row(module, False, f"cannot import: {type(error).__name__}: {error}", lesson))
    return rows


def check_mpi(ranks: int = 2) -> Row:
    mpiexec = find_mpiexec()
    if mpiexec is None:
        return Row("MPI", False, "mpiexec not found: install the 'mpich' package (pip) or an MPI library (conda)",
                   MPI_LESSON)
    command = [mpiexec, "-n", str(ranks), sys.executable, "-m", "mpi4py", "-c", MPI_HELLO]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        return Row("MPI", False, f"a {ranks}-rank run of {mpiexec} did not finish in 60 s", MPI_LESSON)
    expected = "ranks " + " ".join(str(r) for r in range(ranks))
    if done.returncode != 0 or expected not in done.stdout:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return Row("MPI", False, f"a {ranks}-rank run failed: {last}", MPI_LESSON)
    return Row("MPI", True, f"{ranks} ranks answered ({mpiexec})", MPI_LESSON)


def check_cython() -> Row:
    try:
        from Cython.Build.Inline import cython_inline

        with tempfile.TemporaryDirectory() as lib_dir:
            # cython_inline returns the function's locals; the nogil block proves C code can run GIL-free.
            value = cython_inline(CYTHON_NOGIL, n=10, lib_dir=lib_dir, quiet=True)["s"]
    except Exception as error:  # noqa: BLE001 - a compiler problem is a setup problem to report
        last = (str(error).strip().splitlines() or [""])[-1]
        return Row("Cython compile", False, f"{type(error).__name__}: {last}", CYTHON_LESSON)
    if value != 45:
        return Row("Cython compile", False, f"compiled code returned {value}, expected 45", CYTHON_LESSON)
    compiler = sysconfig.get_config_var("CC") or "default"
    return Row("Cython compile", True, f"compiled and ran (compiler: {compiler})", CYTHON_LESSON)


def machine_rows() -> list[Row]:
    machine = resources.machine()
    rows = [Row(name, True, value) for name, value in machine.rows()]
    gil = getattr(sys, "_is_gil_enabled", None)
    rows.insert(0, Row("Python", True, f"{sys.version.split()[0]} "
                       f"({'GIL disabled: free-threaded' if gil and not gil() else 'with the GIL'})"))
    rows.append(Row("start method", True, settings.start_method()))
    rows.append(Row("course size", True, settings.size()))
    if machine.usable_cores < 2:
        rows.append(Row("note", True, "1 usable core: CPU-bound work cannot speed up here (Binder is like this)"))
    return rows


def run_checks() -> list[Row]:
    """All rows of the setup check, in the order the table shows them."""
    return [*machine_rows(), *check_packages(), check_mpi(), check_cython()]


def problems(rows: list[Row]) -> tuple[list[Row], list[Row]]:
    """The rows that fail, split into (blocking now, needed by a later lesson)."""
    failing = [row for row in rows if not row.ok]
    return [row for row in failing if row.blocking], [row for row in failing if not row.blocking]


def format_table(rows: list[Row]) -> str:
    width = max(len(row.item) for row in rows)
    return "\n".join(f"{row.status:<5}  {row.item:<{width}}  {row.text}" for row in rows)


def summary(rows: list[Row]) -> str:
    """What the table means for the learner, in a few lines."""
    blocking, later = problems(rows)
    if not blocking and not later:
        return "Everything the course needs is here."
    lines = []
    if blocking:
        lines.append(f"{len(blocking)} problem(s) to fix before you go on:")
        lines += [f"  - {row.item}: {row.detail}" for row in blocking]
    else:
        lines.append(f"Everything lessons 00-{HARD_UNTIL:02d} need is here: you can start.")
    if later:
        lines.append(f"{len(later)} thing(s) to fix before a later lesson:")
        lines += [f"  - {row.item}, needed from lesson {row.lesson:02d}: {row.detail}"
                  for row in sorted(later, key=lambda row: row.lesson)]
    return "\n".join(lines)


def main() -> int:
    print("Parallel Python: setup check\n")
    rows = run_checks()
    print(format_table(rows))
    print("\n" + summary(rows))
    return 1 if problems(rows)[0] else 0
