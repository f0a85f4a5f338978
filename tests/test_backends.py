import pytest

from parallel_course import backends, workloads

ITEMS = [1000, 2000, 3000, 4000]
EXPECTED = [workloads.cpu_bound_expected(n) for n in ITEMS]


@pytest.mark.parametrize("backend", ["serial", "threads", "processes"])
def test_every_backend_returns_results_in_order(backend):
    ticks = []
    assert backends.run(backend, workloads.cpu_bound, ITEMS, 2, on_result=lambda: ticks.append(1)) == EXPECTED
    assert len(ticks) == len(ITEMS)


def test_processes_work_under_every_start_method(start_method):
    assert backends.run("processes", workloads.cpu_bound, ITEMS, 2) == EXPECTED


@pytest.mark.parametrize(("workers", "error", "message"), [
    (0, ValueError, "at least 1, not 0"),
    (-3, ValueError, "at least 1, not -3"),
    (2.5, TypeError, "whole number"),
    (True, TypeError, "whole number"),
    ("4", TypeError, "whole number"),
])
def test_bad_worker_counts(workers, error, message):
    with pytest.raises(error, match=message):
        backends.run("threads", workloads.square, [1, 2], workers)


def test_bad_tasks_and_backend():
    with pytest.raises(ValueError, match="task list is empty"):
        backends.run("processes", workloads.square, [], 2)
    with pytest.raises(TypeError, match="must be a list"):
        backends.run("threads", workloads.square, 5, 2)
    with pytest.raises(ValueError, match="backend must be one of serial, threads, processes"):
        backends.run("gpu", workloads.square, [1], 1)
    with pytest.raises(TypeError, match="task must be a function"):
        backends.run("serial", 42, [1], 1)
