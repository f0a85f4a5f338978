"""Checkers for the exercises of lesson 04, multiprocessing."""

import concurrent.futures as cf
import functools
import math
import multiprocessing
import os
import pickle
import time

import numpy as np

from parallel_course import resources, settings
from parallel_course.checks import POOL_TIMEOUT, probes, run
from parallel_course.lessons import processes


def _pool_workers() -> int:
    return min(2, resources.worker_cap())


def _watched_call(check, fn, *args, rendezvous: int = 1):
    """Call the learner's pool code under a :class:`probes.PoolProbe`, with a timeout; return (result, probe)."""
    with probes.PoolProbe(rendezvous=rendezvous) as probe:
        got = check.call_within(POOL_TIMEOUT, fn, *args)
    if probe.refused:
        check.fail(probe.refused[0])
    return got, probe


def check_chunked_squares(chunksize_for, squares_in_parallel) -> bool:
    """Exercise: pick a chunksize, then square many numbers with a process pool that uses it."""

    def body(check):
        for n_items, workers in [(100_000, 4), (10, 2), (1, 8), (1_000, 1), (5_000, 3)]:
            size = check.call(chunksize_for, n_items, workers)
            if isinstance(size, bool) or not isinstance(size, int) or size < 1:
                check.fail(f"chunksize_for({n_items}, {workers}) returned {size!r}; a chunksize is a whole "
                           "number of at least 1 (a pool refuses 0). Hint: round up, or use max(1, ...).")
            chunks = math.ceil(n_items / size)
            if chunks < min(n_items, workers):
                check.fail(f"chunksize_for({n_items}, {workers}) = {size} makes only {chunks} chunk(s) for "
                           f"{workers} workers, so some workers get nothing to do. Hint: give each worker a "
                           "few chunks, not one big one.")
            if chunks > 16 * workers:
                check.fail(f"chunksize_for({n_items}, {workers}) = {size} makes {chunks:,} chunks: each trip to "
                           "a worker carries too little work to pay for itself. Hint: aim for a few chunks per "
                           "worker, and round up.")
        numbers = list(range(settings.sized(20_000, small=5_000, large=50_000)))
        workers = _pool_workers()
        start = time.perf_counter()
        got, probe = _watched_call(check, squares_in_parallel, list(numbers), workers, rendezvous=2)
        seconds = time.perf_counter() - start
        if not isinstance(got, list) or len(got) != len(numbers):
            length = f" of length {len(got)}" if hasattr(got, "__len__") else ""
            check.fail(f"return a list of {len(numbers):,} squares, one per number, not {type(got).__name__}"
                       f"{length}. Hint: pool.map already returns a list.")
        wrong = next((i for i, (a, b) in enumerate(zip(got, numbers, strict=True)) if a != b * b), None)
        if wrong is not None:
            check.fail(f"item {wrong} is {got[wrong]!r}, expected {numbers[wrong] ** 2}. Hint: map "
                       "workloads.square over the numbers; pool.map keeps the input order.")
        maps = [use for use in probe.uses if use.method in ("map", "map_async", "imap", "imap_unordered")]
        if not maps:
            check.fail("the squares are right, but no multiprocessing pool mapped them: they were computed in "
                       "this process. Hint: open a pool from settings.mp_context() and use its map.")
        use = maps[-1]
        want = check.call(chunksize_for, len(numbers), workers)
        if use.chunksize != want:
            check.fail(f"your pool's map was called with chunksize={use.chunksize!r}, but chunksize_for"
                       f"({len(numbers):,}, {workers}) is {want}. Hint: pass chunksize=... to pool.map, or the "
                       "pool picks its own.")
        if use.workers != workers:
            check.fail(f"your pool had {use.workers} worker processes, but workers was {workers}.")
        pids = probe.pids() - {os.getpid()}
        if len(pids) < min(2, workers):
            check.fail(f"only {len(pids)} worker process(es) squared numbers, although the pool had {workers}.")
        with probes.PoolProbe() as small:
            short = check.call_within(POOL_TIMEOUT, squares_in_parallel, [3], 2)
        if short != [9] or small.refused:
            check.fail("squares_in_parallel([3], 2) should be [9]: does a list shorter than the workers work?")
        chunks = math.ceil(len(numbers) / want)
        return check.passed(f"{len(pids)} workers squared {len(numbers):,} numbers in {chunks} chunks of "
                            f"{want:,} in {seconds:.2f} s (pool start included).")

    return run("Chunked squares", body)


class _NoPickleArray(np.ndarray):
    """An array that refuses to be pickled: the check passes it in, so a copy sent to a worker shows."""

    def __reduce_ex__(self, protocol):
        raise TypeError("the array itself (or a slice of it) was pickled to be sent to a worker, which copies "
                        "it; copy it into shared memory once and send only what a worker needs to find it")

    def __reduce__(self):
        return self.__reduce_ex__(2)


def check_shared_total(shared_total) -> bool:
    """Exercise: ``shared_total(array, workers)`` sums a big array in worker processes via shared memory."""

    def body(check):
        n = settings.sized(1_000_003, small=200_003, large=4_000_003)
        workers = _pool_workers()
        cases = [(np.arange(n) % 1000).astype(np.float64), (np.arange(n // 10 + 1) % 7).astype(np.int32)]
        seconds = []
        for data in cases:
            want = data.sum().item()
            guarded = data.view(_NoPickleArray)
            start = time.perf_counter()
            got, probe = _watched_call(check, shared_total, guarded, workers, rendezvous=2)
            seconds.append(time.perf_counter() - start)
            if not isinstance(got, int | float | np.number) or isinstance(got, bool):
                check.fail(f"return the total as a number, not {type(got).__name__} {got!r}.")
            if not math.isclose(float(got), float(want), rel_tol=1e-9):
                check.fail(f"for {data.size:,} numbers of dtype {data.dtype} the total is {want}, you returned "
                           f"{got!r}. Hint: split(len(array), workers) gives slices that cover every element "
                           "once; make the shared block with the array's own dtype (shared_copy does).")
            # Only the blocks this call created are looked at: other programs may use shared memory too.
            if left := probe.created & processes.shm_names():
                check.fail(f"shared block(s) {sorted(left)} still exist after your function returned. Hint: "
                           "create the block in a `with` statement, which closes and unlinks it whatever "
                           "happens.")
            if not probe.created:
                check.fail("the total is right, but no shared-memory block was created: the array was summed "
                           "without sharing it. Hint: copy the array into a shared block once "
                           "(processes.shared_copy) and let the workers open it.")
            attached = probe.attached(probe.created)
            if not attached:
                check.fail("a shared block was created, but no worker process opened it: the sum was not "
                           "computed from shared memory. Hint: send each worker the block's spec and a slice "
                           "to sum (processes.sum_shared_slice opens the block).")
            if len(attached) < min(2, workers):
                check.fail(f"only one worker process opened the shared block, although workers was {workers}. "
                           "Hint: give each worker its own slice.")
        return check.passed(f"{cases[0].size:,} float64 numbers ({cases[0].nbytes / 2**20:.0f} MiB) summed by "
                            f"{workers} workers that each opened the shared block, in {seconds[0]:.2f} s; the "
                            "array itself was never sent.")

    return run("Shared total", body)


def _underlying(fn):
    while isinstance(fn, functools.partial):
        fn = fn.func
    return fn


def check_picklable_power(picklable_power) -> bool:
    """Exercise: ``picklable_power(exponent)`` returns a task that raises numbers to ``exponent`` under spawn."""

    def body(check):
        for exponent in (0, 1, 2, 3, 5):
            task = check.call(picklable_power, exponent)
            if not callable(task):
                check.fail(f"picklable_power({exponent}) returned {task!r}, which is not callable. Hint: return "
                           "a task (something a pool can call with one number), not a number.")
            for x in (0, 2, 7, -3):
                got = check.call(task, x)
                if got != x**exponent:
                    check.fail(f"picklable_power({exponent})({x}) returned {got!r}, expected {x**exponent}.")
        task = check.call(picklable_power, 3)
        try:
            pickle.dumps(task)
        except Exception as error:  # noqa: BLE001 - any pickling failure becomes the hint
            check.fail(f"the task cannot be pickled ({type(error).__name__}: {error}), so no pool can send it. "
                       "Hint: lambdas and functions defined inside functions cannot be pickled; "
                       "functools.partial of a package function can.")
        module = getattr(_underlying(task), "__module__", None)
        if module == "__main__":
            check.fail("the task's function is defined in this notebook (module __main__): a spawn or forkserver "
                       "worker cannot import it. Hint: wrap processes.power, which lives in the package, "
                       "with functools.partial.")
        numbers = list(range(10))
        spawn = multiprocessing.get_context("spawn")
        try:
            with cf.ProcessPoolExecutor(max_workers=1, mp_context=spawn) as pool:
                got = list(pool.map(task, numbers, timeout=60))
        except cf.process.BrokenProcessPool:
            check.fail("a spawn worker could not run your task: it could not import the function. Hint: use "
                       "a function from the package, such as processes.power, with functools.partial.")
        except Exception as error:  # noqa: BLE001
            check.fail(f"a spawn worker raised {type(error).__name__}: {error}.")
        if got != [x**3 for x in numbers]:
            check.fail(f"a spawn worker computed {got!r}, expected {[x**3 for x in numbers]!r}.")
        return check.passed(f"A spawn worker ran it; the task pickles to {len(pickle.dumps(task))} bytes.")

    return run("Picklable power", body)


def check_default_start_method(default_start_method) -> bool:
    """Exercise: ``default_start_method(platform, version)`` names Python's default start method there."""

    def body(check):
        cases = [("linux", (3, 11)), ("linux", (3, 13)), ("linux", (3, 14)), ("linux", (3, 15)),
                 ("darwin", (3, 11)), ("darwin", (3, 14)), ("win32", (3, 12)), ("win32", (3, 14)),
                 ("freebsd14", (3, 13)), ("freebsd14", (3, 14))]
        for platform, version in cases:
            got = check.call(default_start_method, platform, version)
            want = processes.default_start_method(platform, version)
            if got != want:
                hints = {"spawn": "Windows has only spawn, and macOS defaults to spawn since Python 3.8.",
                         "fork": "Linux and other POSIX systems kept fork as the default up to Python 3.13.",
                         "forkserver": "Python 3.14 changed the default on Linux (and other POSIX systems "
                                       "except macOS) to forkserver."}
                check.fail(f"for {platform} with Python {version[0]}.{version[1]} you said {got!r}, but it is "
                           f"{want!r}. Hint: {hints[want]} Compare versions as tuples: (3, 14) <= version.")
        return check.passed("Code that must run everywhere should work under spawn: it is the default "
                            "somewhere.")

    return run("Default start method", body)
