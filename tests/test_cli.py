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


def test_setup_check_fails_clearly_without_mpiexec(monkeypatch, capsys):
    monkeypatch.setattr(setup_check, "find_mpiexec", lambda: None)
    monkeypatch.setattr(setup_check, "check_cython", lambda: setup_check.Row("Cython compile", True, "skipped"))
    assert cli.main(["check"]) == 1
    out = capsys.readouterr().out
    assert "BAD  MPI" in out
    assert "1 problem(s) to fix before the course:\n  - MPI: mpiexec not found" in out


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
