"""One ``map``-style adapter per tool: the course's Rosetta stone.

Every adapter has the same shape, ``adapter(fn, items, workers) -> list of results in order``, so a
lesson (or the capstone) can run one workload through each tool and compare like with like. The pool is
created and closed inside the call: the measured time includes starting the workers, which is what a
program really pays.
"""

import concurrent.futures as cf
import os

from parallel_course import settings, validate

BLAS_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def limit_blas_threads() -> None:
    """Worker initializer: one BLAS/OpenMP thread per worker process, so N workers use N cores, not N*N."""
    for name in BLAS_ENV:
        os.environ[name] = "1"
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1)


def _collect(results, on_result):
    """Gather results in order, calling ``on_result()`` after each (to move a progress bar)."""
    collected = []
    for value in results:
        collected.append(value)
        if on_result is not None:
            on_result()
    return collected


def serial(fn, items, workers=1, on_result=None):
    """The baseline: a plain loop in this process (``workers`` is ignored)."""
    return _collect(map(fn, items), on_result)


def threads(fn, items, workers, on_result=None):
    """A ``ThreadPoolExecutor``: threads share one interpreter, so the GIL decides what overlaps."""
    with cf.ThreadPoolExecutor(max_workers=workers) as pool:
        return _collect(pool.map(fn, items), on_result)


def processes(fn, items, workers, on_result=None):
    """A ``ProcessPoolExecutor`` with the course's start method: one interpreter (and GIL) per worker."""
    with cf.ProcessPoolExecutor(max_workers=workers, mp_context=settings.mp_context(),
                                initializer=limit_blas_threads) as pool:
        return _collect(pool.map(fn, items), on_result)


ADAPTERS = {"serial": serial, "threads": threads, "processes": processes}


def run(backend: str, fn, items, workers: int = 1, on_result=None) -> list:
    """Run ``fn`` over ``items`` with ``workers`` workers of ``backend``; results keep the input order.

    ``on_result``, if given, is called with no argument after each result arrives (for progress bars).
    """
    if backend not in ADAPTERS:
        raise ValueError(f"The backend must be one of {', '.join(ADAPTERS)}, not {backend!r}.")
    if not callable(fn):
        raise TypeError(f"The task must be a function, not {type(fn).__name__}.")
    return ADAPTERS[backend](fn, validate.items(items), validate.workers(workers), on_result=on_result)
