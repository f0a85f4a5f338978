import math

import pytest

from parallel_course import settings, workloads


@pytest.mark.parametrize("n", [0, 1, 2, 10, 12345])
def test_cpu_bound_matches_formula(n):
    assert workloads.cpu_bound(n) == workloads.cpu_bound_expected(n)


def test_numpy_bound_is_n():
    assert math.isclose(workloads.numpy_bound(10_000), 10_000, rel_tol=1e-9)


def test_io_bound_returns_its_argument():
    assert workloads.io_bound(0.01) == 0.01


def test_sizes_follow_the_course_size(monkeypatch):
    monkeypatch.setenv("PARALLEL_COURSE_SIZE", "small")
    small = workloads.task_size("cpu")
    monkeypatch.setenv("PARALLEL_COURSE_SIZE", "default")
    assert workloads.task_size("cpu") > small
    assert workloads.tasks("io", 3) == [workloads.task_size("io")] * 3


def test_bad_inputs_give_one_clear_sentence(monkeypatch):
    with pytest.raises(ValueError, match="workload must be one of cpu, numpy, io"):
        workloads.task_size("gpu")
    with pytest.raises(ValueError, match="number of tasks must be a whole number"):
        workloads.tasks("cpu", 0)
    monkeypatch.setenv("PARALLEL_COURSE_SIZE", "huge")
    with pytest.raises(ValueError, match="PARALLEL_COURSE_SIZE must be one of"):
        settings.size()


def test_start_method_setting(monkeypatch):
    monkeypatch.setenv("PARALLEL_COURSE_START_METHOD", "spawn")
    assert settings.start_method() == "spawn"
    monkeypatch.setenv("PARALLEL_COURSE_START_METHOD", "teleport")
    with pytest.raises(ValueError, match="PARALLEL_COURSE_START_METHOD must be one of"):
        settings.start_method()
    monkeypatch.delenv("PARALLEL_COURSE_START_METHOD")
    assert settings.start_method() in ("fork", "spawn", "forkserver")


def test_workloads_do_not_import_numpy():
    import subprocess
    import sys

    code = "import sys, parallel_course.workloads, parallel_course.backends; print('numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_panel_tasks_give_every_worker_the_same_number():
    items = workloads.panel_tasks("cpu", per_worker=4, cap=3)
    assert len(items) == 12 and len(set(items)) == 1
    assert workloads.panel_tasks("io", cap=2, work=1.0) == [workloads.task_size("io") / 8] * 8
