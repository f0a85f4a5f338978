"""One ``map``-style interface per tool: the course's Rosetta stone.

Two shapes, which every later tool (joblib, Dask, Ray, MPI, ...) implements the same way:

- ``run(backend, fn, items, workers)``: a **one-off** run. The pool is created and closed inside the call,
  so the time includes starting the workers: what a script that parallelises one loop pays.
- ``open_pool(backend, workers)``: a **kept** pool, a context manager with ``.map(fn, items)`` and
  ``.close()``, and ``.startup_seconds``, the measured time to start it. A program that maps many batches
  pays the start-up once; time ``.map`` alone to see its steady state.

Worker processes cost only what the workload needs: the BLAS thread limits travel as environment variables
(no NumPy or threadpoolctl import in a worker that runs pure Python), and under ``forkserver`` the server
preloads :mod:`parallel_course.workloads` once, so its workers inherit it instead of importing it.
"""

import concurrent.futures as cf
import os
import sys
import time
from contextlib import contextmanager

from parallel_course import settings, validate

BLAS_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
PRELOAD = ["parallel_course.workloads"]


def limit_blas_threads() -> None:
    """Worker initializer: one BLAS/OpenMP thread per worker process, so N workers use N cores, not N*N.

    It sets the environment variables (read by a BLAS library when it loads) and, only if NumPy is
    already imported (under fork), limits the loaded library with threadpoolctl.
    """
    for name in BLAS_ENV:
        os.environ[name] = "1"
    if "numpy" in sys.modules:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=1)


@contextmanager
def _blas_env_for_children():
    """Set the BLAS variables to 1 while workers start, so they inherit them; restore them afterwards."""
    saved = {name: os.environ.get(name) for name in BLAS_ENV}
    os.environ.update({name: "1" for name in BLAS_ENV})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def worker_pid(_=None) -> int:
    """The process id of the worker that runs this: a no-op task that shows which worker answered."""
    return os.getpid()


def _collect(results, on_result):
    """Gather results in order, calling ``on_result()`` after each (to move a progress bar)."""
    collected = []
    for value in results:
        collected.append(value)
        if on_result is not None:
            on_result()
    return collected


class Pool:
    """A kept pool of ``workers`` workers of one ``backend``; ``map`` as often as you like, then ``close``.

    ``startup_seconds`` is the measured time from asking for the pool until every worker had answered a
    no-op task; ``pids`` are the worker process ids seen then (one per worker for processes). Pass the
    task function as ``warm`` to count importing its module in the start-up (the no-op receives it).
    """

    def __init__(self, backend: str, workers: int, warm=None):
        if backend not in ADAPTERS:
            raise ValueError(f"The backend must be one of {', '.join(ADAPTERS)}, not {backend!r}.")
        self.backend, self.workers = backend, validate.workers(workers)
        self._executor = None
        start = time.perf_counter()
        if backend == "threads":
            self._executor = cf.ThreadPoolExecutor(max_workers=self.workers)
        elif backend == "processes":
            context = settings.mp_context()
            if context.get_start_method() == "forkserver":
                context.set_forkserver_preload(PRELOAD)
            with _blas_env_for_children():
                self._executor = cf.ProcessPoolExecutor(max_workers=self.workers, mp_context=context,
                                                        initializer=limit_blas_threads)
                # Submitting one no-op per worker, all at once, makes the pool start every worker now.
                answered = {f.result() for f in [self._executor.submit(worker_pid, warm)
                                                  for _ in range(self.workers)]}
                self.pids = sorted(getattr(self._executor, "_processes", None) or answered)
        if backend != "processes":
            self.pids = [os.getpid()]
            if self._executor is not None:
                list(self._executor.map(worker_pid, range(self.workers)))
        self.startup_seconds = time.perf_counter() - start

    def map(self, fn, items, on_result=None) -> list:
        """Run ``fn`` over ``items`` on the kept workers; results keep the input order."""
        if not callable(fn):
            raise TypeError(f"The task must be a function, not {type(fn).__name__}.")
        items = validate.items(items)
        if self._executor is None:
            if self.backend != "serial":
                raise RuntimeError("This pool is closed; open a new one.")
            return _collect(map(fn, items), on_result)
        return _collect(self._executor.map(fn, items), on_result)

    def worker_pids(self) -> list[int]:
        """The process ids of the running workers now: the same as ``pids`` while the pool stays warm."""
        if self._executor is None or self.backend != "processes":
            return [os.getpid()]
        return sorted(getattr(self._executor, "_processes", None) or self.pids)

    def close(self) -> None:
        """Stop the workers and wait for them (safe to call twice)."""
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return f"Pool({self.backend!r}, workers={self.workers}, startup {self.startup_seconds:.3f} s)"


def open_pool(backend: str, workers: int = 1, warm=None) -> Pool:
    """Start a kept pool of ``workers`` workers of ``backend`` (use it as a ``with`` block, or ``close()``)."""
    return Pool(backend, workers, warm)


def serial(fn, items, workers=1, on_result=None):
    """The baseline: a plain loop in this process (``workers`` is ignored)."""
    return _collect(map(fn, items), on_result)


def threads(fn, items, workers, on_result=None):
    """A ``ThreadPoolExecutor``: threads share one interpreter, so the GIL decides what overlaps."""
    with cf.ThreadPoolExecutor(max_workers=workers) as pool:
        return _collect(pool.map(fn, items), on_result)


def processes(fn, items, workers, on_result=None):
    """A ``ProcessPoolExecutor`` with the course's start method: one interpreter (and GIL) per worker."""
    context = settings.mp_context()
    if context.get_start_method() == "forkserver":
        context.set_forkserver_preload(PRELOAD)
    with _blas_env_for_children(), cf.ProcessPoolExecutor(max_workers=workers, mp_context=context,
                                                         initializer=limit_blas_threads) as pool:
        return _collect(pool.map(fn, items), on_result)


ADAPTERS = {"serial": serial, "threads": threads, "processes": processes}


def run(backend: str, fn, items, workers: int = 1, on_result=None) -> list:
    """Run ``fn`` over ``items`` with ``workers`` workers of ``backend`` in a one-off pool; results keep order.

    ``on_result``, if given, is called with no argument after each result arrives (for progress bars).
    """
    if backend not in ADAPTERS:
        raise ValueError(f"The backend must be one of {', '.join(ADAPTERS)}, not {backend!r}.")
    if not callable(fn):
        raise TypeError(f"The task must be a function, not {type(fn).__name__}.")
    return ADAPTERS[backend](fn, validate.items(items), validate.workers(workers), on_result=on_result)
