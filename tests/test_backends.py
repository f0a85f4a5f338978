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


@pytest.mark.parametrize("backend", ["serial", "threads", "processes"])
def test_kept_pool_maps_many_times_and_records_its_startup(backend):
    with backends.open_pool(backend, 2, warm=workloads.cpu_bound) as pool:
        assert pool.startup_seconds > 0
        assert pool.map(workloads.cpu_bound, ITEMS) == EXPECTED
        assert pool.map(workloads.cpu_bound, ITEMS[::-1]) == EXPECTED[::-1]
    if backend != "serial":
        with pytest.raises(RuntimeError, match="closed"):
            pool.map(workloads.cpu_bound, ITEMS)


def test_kept_process_pool_keeps_its_workers(start_method):
    with backends.open_pool("processes", 2) as pool:
        first = pool.worker_pids()
        assert len(first) == 2 and first == pool.pids
        pool.map(workloads.cpu_bound, ITEMS)
        assert pool.worker_pids() == first  # the same processes: nothing restarted between maps


def test_blas_limit_travels_as_environment_variables():
    import os

    with backends.open_pool("processes", 1) as pool:
        assert pool.map(os.getenv, ["OMP_NUM_THREADS"]) == ["1"]
    assert backends.BLAS_ENV  # the parent's own environment is restored
