"""Start Dask and Ray safely for a lesson: loopback only, small memory, always shut down.

Both helpers are context managers::

    with dask_cluster(workers=2) as client:
        client.submit(...)

    with ray_session(cpus=2) as ray:
        ray.get(task.remote(), timeout=30)

Re-running a notebook cell is safe: a cluster still open from an earlier run (say, after an interrupt)
is closed before a new one starts, so nothing leaks and no port stays taken.
"""

import contextlib

from parallel_course import validate

START_TIMEOUT_S = 60  # a loaded 2-core machine can take several times the idle start-up time (0.4-7 s)
_open_dask = []  # clusters this kernel started and has not closed yet


def start_with_one_retry(what: str, start, clean_up):
    """Call ``start()``; if it fails (a loaded machine can miss a start-up deadline), ``clean_up()`` and retry once.

    A second failure raises ``RuntimeError`` that names both reasons, so the learner sees why, not a bare timeout.
    """
    try:
        return start()
    except Exception as first:  # noqa: BLE001 - any start-up failure earns exactly one clean retry
        clean_up()
        try:
            return start()
        except Exception as second:
            clean_up()
            raise RuntimeError(f"{what} failed to start twice: first {type(first).__name__}: {first}; then "
                               f"{type(second).__name__}: {second}. Is the machine very busy or short of "
                               f"memory? Close other notebooks and run the cell again.") from second


def _close_leftover_dask() -> None:
    while _open_dask:
        client, cluster = _open_dask.pop()
        with contextlib.suppress(Exception):
            if client is not None:
                client.close()
        with contextlib.suppress(Exception):
            cluster.close()


@contextlib.contextmanager
def dask_cluster(workers: int = 2, threads_per_worker: int = 1, memory_limit: str = "1GiB",
                 processes: bool = True):
    """A ``LocalCluster`` and its ``Client`` bound to 127.0.0.1 (dashboard on a free loopback port).

    Dask's dashboard listens on every interface unless told otherwise; on a shared JupyterHub that
    would show your work to anyone on the network, so the address is always given here.
    """
    validate.workers(workers)
    validate.positive_int(threads_per_worker, "threads_per_worker")
    import dask
    from dask.distributed import Client, LocalCluster

    def start():
        with dask.config.set({"distributed.comm.timeouts.connect": f"{START_TIMEOUT_S}s"}):
            cluster = LocalCluster(n_workers=workers, threads_per_worker=threads_per_worker, processes=processes,
                                   memory_limit=memory_limit, host="127.0.0.1", dashboard_address="127.0.0.1:0")
            _open_dask.append((None, cluster))
            client = Client(cluster, timeout=START_TIMEOUT_S)
            _open_dask[-1] = (client, cluster)
        return client

    _close_leftover_dask()
    client = start_with_one_retry("The Dask cluster", start, _close_leftover_dask)
    try:
        yield client
    finally:
        _close_leftover_dask()


@contextlib.contextmanager
def ray_session(cpus: int = 2, object_store_mb: int = 100):
    """A private local Ray instance (``address="local"``, no dashboard), shut down on exit.

    ``address="local"`` means a lesson never attaches to somebody else's cluster. Token authentication
    stays on (Ray's default since ShadowRay, CVE-2023-48022, showed what an open Ray port allows).
    """
    validate.workers(cpus)
    validate.positive_int(object_store_mb, "object_store_mb")
    import ray

    def start():
        # Ray's own start-up deadline is a fixed 30 s, which a loaded machine can miss: hence one clean retry.
        ray.init(address="local", num_cpus=cpus, include_dashboard=False,
                 object_store_memory=object_store_mb * 2**20, logging_level="ERROR", log_to_driver=False)

    if ray.is_initialized():
        ray.shutdown()
    start_with_one_retry("The Ray session", start, ray.shutdown)
    try:
        yield ray
    finally:
        ray.shutdown()
