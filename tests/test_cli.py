import subprocess
import sys

import pytest

from parallel_course import __main__ as cli
from parallel_course.tools import setup_check


def test_setup_check_passes_here():
    done = subprocess.run([sys.executable, "-m", "parallel_course", "check"], capture_output=True, text=True,
                          timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    for item in ("usable cores", "physical cores", "/dev/shm free", "Binder", "MPI", "Cython compile", "ray"):
        assert item in done.stdout
    assert "Everything the course needs is here." in done.stdout


def test_setup_check_marks_a_later_lesson_instead_of_failing(monkeypatch, capsys):
    monkeypatch.setattr(setup_check, "find_mpiexec", lambda: None)
    monkeypatch.setattr(setup_check, "check_cython", lambda: setup_check.Row("Cython compile", True, "skipped"))
    assert cli.main(["check"]) == 0
    out = capsys.readouterr().out
    assert "later  MPI" in out and "needed from lesson 09: mpiexec not found" in out
    assert "Everything lessons 00-01 need is here" in out
    assert "1 thing(s) to fix before a later lesson:\n  - MPI, needed from lesson 09: mpiexec not found" in out


def test_setup_check_fails_clearly_without_what_lesson_01_needs(monkeypatch, capsys):
    real_import = setup_check.importlib.import_module

    def no_numpy(name, *args):
        if name == "numpy":
            raise ModuleNotFoundError("No module named 'numpy'")
        return real_import(name, *args)

    monkeypatch.setattr(setup_check.importlib, "import_module", no_numpy)
    monkeypatch.setattr(setup_check, "check_mpi", lambda: setup_check.Row("MPI", True, "skipped", 9))
    monkeypatch.setattr(setup_check, "check_cython", lambda: setup_check.Row("Cython compile", True, "skipped", 10))
    assert cli.main(["check"]) == 1
    out = capsys.readouterr().out
    assert "BAD    numpy" in out
    assert "1 problem(s) to fix before you go on:\n  - numpy: cannot import: ModuleNotFoundError" in out


@pytest.mark.parametrize("lesson, ok, status, blocking", [
    (0, True, "ok", False), (1, False, "BAD", True), (0, False, "BAD", True), (2, False, "later", False),
    (10, False, "later", False), (10, True, "ok", False)])
def test_setup_rows_block_only_for_lessons_00_and_01(lesson, ok, status, blocking):
    row = setup_check.Row("thing", ok, "detail", lesson)
    assert (row.status, row.blocking) == (status, blocking)
    assert row.text == ("detail" if ok or blocking else f"needed from lesson {lesson:02d}: detail")


def test_every_package_names_a_lesson_of_the_course():
    for module, (dist, lesson) in setup_check.PACKAGES.items():
        assert isinstance(dist, str) and 0 <= lesson <= 12, module
    assert setup_check.PACKAGES["numpy"][1] <= setup_check.HARD_UNTIL < setup_check.PACKAGES["ray"][1]


def test_setup_check_reports_a_failing_mpi_run(monkeypatch, tmp_path):
    fake = tmp_path / "mpiexec"
    fake.write_text("#!/bin/sh\necho 'cannot start ranks' >&2\nexit 3\n")
    fake.chmod(0o755)
    monkeypatch.setattr(setup_check, "find_mpiexec", lambda: str(fake))
    row = setup_check.check_mpi()
    assert not row.ok and "cannot start ranks" in row.detail


def test_bench_prints_both_tables(monkeypatch, capsys):
    monkeypatch.setenv("PARALLEL_COURSE_SIZE", "small")
    assert cli.main(["bench", "--backend", "threads", "--workload", "io", "--max-workers", "2"]) == 0
    out = capsys.readouterr().out
    assert "plain serial loop" in out and "absolute" in out and "relative" in out
    assert "start-up" in out and "ms per task" in out and "Amdahl" in out
    assert "median of 3" in out  # repeated, serial baseline measured


@pytest.mark.parametrize("argv", [["bench", "--max-workers", "0"], ["bench", "--max-workers", "-2"]])
def test_bench_refuses_bad_worker_counts(argv, capsys):
    assert cli.main(argv) == 2
    assert "error: The number of workers must be at least 1" in capsys.readouterr().err


def test_unknown_command_is_a_usage_error():
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["teleport"])
    assert exit_info.value.code == 2


def test_setup_check_looks_up_coming_lessons_packages_without_importing_them(monkeypatch):
    imported, real_import, real_find = [], setup_check.importlib.import_module, setup_check.importlib.util.find_spec

    def recording_import(name, *args):
        imported.append(name)
        return real_import(name, *args)

    monkeypatch.setattr(setup_check.importlib, "import_module", recording_import)
    monkeypatch.setattr(setup_check.importlib.util, "find_spec",
                        lambda name, *args: None if name == "ray" else real_find(name, *args))
    rows = {row.item: row for row in setup_check.check_packages()}
    assert "numpy" in imported and "ray" not in imported and "jupyterlab" not in imported
    assert rows["ray"].status == "later" and rows["ray"].text.startswith("needed from lesson 08: cannot import")
    assert rows["dask"].ok and "not imported yet" in rows["dask"].detail
    blocking, later = setup_check.problems(list(rows.values()))
    assert not blocking and [row.item for row in later] == ["ray"]
