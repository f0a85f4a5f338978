import psutil
import pytest

from parallel_course import workloads
from parallel_course.clusters import dask_cluster, ray_session


def listening_addresses(pids: set[int]) -> set[str]:
    return {c.laddr.ip for c in psutil.net_connections("inet")
            if c.status == psutil.CONN_LISTEN and c.pid in pids}


def test_dask_cluster_binds_loopback_and_closes():
    with dask_cluster(workers=2) as client:
        assert client.submit(workloads.square, 7).result(timeout=60) == 49
        assert client.scheduler.address.startswith("tcp://127.0.0.1:")
        assert client.dashboard_link.startswith("http://127.0.0.1:")
        me = psutil.Process()
        pids = {me.pid, *(p.pid for p in me.children(recursive=True))}
        assert listening_addresses(pids) <= {"127.0.0.1"}
    assert client.status == "closed"


def test_dask_cluster_survives_a_rerun_after_an_interrupt():
    first = dask_cluster(workers=1)
    client = first.__enter__()  # as if the cell was interrupted before its `with` block ended
    with dask_cluster(workers=1) as second:
        assert client.status == "closed"  # the leftover was closed before the new one started
        assert second.submit(workloads.square, 3).result(timeout=60) == 9


def test_bad_cluster_arguments():
    with pytest.raises(ValueError, match="at least 1"), dask_cluster(workers=0):
        pass
    with pytest.raises(ValueError, match="object_store_mb must be"), ray_session(cpus=1, object_store_mb=0):
        pass


def test_ray_session_is_private_and_shut_down():
    with ray_session(cpus=1) as ray:
        square = ray.remote(workloads.square)
        assert ray.get(square.remote(6), timeout=60) == 36
        assert ray.is_initialized()
    assert not ray.is_initialized()


def test_a_failed_start_is_retried_once_cleanly():
    from parallel_course.clusters import start_with_one_retry

    attempts, cleanups = [], []

    def flaky():
        attempts.append(1)
        if len(attempts) == 1:
            raise TimeoutError("node timed out during startup")
        return "started"

    assert start_with_one_retry("X", flaky, lambda: cleanups.append(1)) == "started"
    assert (len(attempts), len(cleanups)) == (2, 1)


def test_two_failed_starts_name_both_reasons():
    from parallel_course.clusters import start_with_one_retry

    reasons = iter(["first reason", "second reason"])

    def broken():
        raise TimeoutError(next(reasons))

    with pytest.raises(RuntimeError, match="X failed to start twice: first TimeoutError: first reason; then "
                                           "TimeoutError: second reason"):
        start_with_one_retry("X", broken, lambda: None)
