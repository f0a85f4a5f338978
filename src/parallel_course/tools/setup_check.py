"""``python -m parallel_course check``: is this machine ready for the course?

Checks the imports and their versions, a 2-rank MPI run, a Cython compile, and reports the cores, memory,
shared memory and whether this is Binder. Prints one table; exits non-zero with the list of problems.
"""

import importlib
import importlib.metadata
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from dataclasses import dataclass
from pathlib import Path

from parallel_course import resources, settings

PACKAGES = {  # import name -> distribution name (for the version)
    "numpy": "numpy", "psutil": "psutil", "threadpoolctl": "threadpoolctl", "tqdm": "tqdm",
    "matplotlib": "matplotlib", "ipywidgets": "ipywidgets", "jupyterlab": "jupyterlab", "joblib": "joblib",
    "dask": "dask", "distributed": "distributed", "ray": "ray", "mpi4py": "mpi4py", "Cython": "Cython",
}
MPI_HELLO = ("from mpi4py import MPI; c = MPI.COMM_WORLD; r = c.gather(c.Get_rank()); "
             "print('ranks', *r) if c.Get_rank() == 0 else None")


CYTHON_NOGIL = "cdef long k = n\ncdef long s = 0\nwith nogil:\n    s = k * (k - 1) // 2\n"


@dataclass
class Row:
    item: str
    ok: bool
    detail: str


def find_mpiexec() -> str | None:
    """``mpiexec`` of this environment (the ``mpich`` wheel puts it next to python), else from PATH."""
    here = Path(sys.prefix) / ("Scripts" if os.name == "nt" else "bin") / "mpiexec"
    return str(here) if here.is_file() else shutil.which("mpiexec")


def check_packages() -> list[Row]:
    rows = []
    for module, dist in PACKAGES.items():
        try:
            importlib.import_module(module)
            rows.append(Row(module, True, importlib.metadata.version(dist)))
        except Exception as error:  # noqa: BLE001 - any import failure is a setup problem to report
            rows.append(Row(module, False, f"cannot import: {type(error).__name__}: {error}"))
    return rows


def check_mpi(ranks: int = 2) -> Row:
    mpiexec = find_mpiexec()
    if mpiexec is None:
        return Row("MPI", False, "mpiexec not found: install the 'mpich' package (pip) or an MPI library (conda)")
    command = [mpiexec, "-n", str(ranks), sys.executable, "-m", "mpi4py", "-c", MPI_HELLO]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        return Row("MPI", False, f"a {ranks}-rank run of {mpiexec} did not finish in 60 s")
    expected = "ranks " + " ".join(str(r) for r in range(ranks))
    if done.returncode != 0 or expected not in done.stdout:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return Row("MPI", False, f"a {ranks}-rank run failed: {last}")
    return Row("MPI", True, f"{ranks} ranks answered ({mpiexec})")


def check_cython() -> Row:
    try:
        from Cython.Build.Inline import cython_inline

        with tempfile.TemporaryDirectory() as lib_dir:
            # cython_inline returns the function's locals; the nogil block proves C code can run GIL-free.
            value = cython_inline(CYTHON_NOGIL, n=10, lib_dir=lib_dir, quiet=True)["s"]
    except Exception as error:  # noqa: BLE001 - a compiler problem is a setup problem to report
        return Row("Cython compile", False, f"{type(error).__name__}: {str(error).strip().splitlines()[-1:]}")
    if value != 45:
        return Row("Cython compile", False, f"compiled code returned {value}, expected 45")
    return Row("Cython compile", True, f"compiled and ran (compiler: {sysconfig.get_config_var('CC') or 'default'})")


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


def format_table(rows: list[Row]) -> str:
    width = max(len(row.item) for row in rows)
    return "\n".join(f"{'ok ' if row.ok else 'BAD'}  {row.item:<{width}}  {row.detail}" for row in rows)


def main() -> int:
    print("Parallel Python: setup check\n")
    rows = run_checks()
    print(format_table(rows))
    problems = [row for row in rows if not row.ok]
    if problems:
        print(f"\n{len(problems)} problem(s) to fix before the course:")
        for row in problems:
            print(f"  - {row.item}: {row.detail}")
        return 1
    print("\nEverything the course needs is here.")
    return 0
