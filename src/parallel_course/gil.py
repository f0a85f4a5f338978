"""The global interpreter lock (GIL): which Python is this, and small tasks that hold or release the GIL.

- :func:`free_threaded_build` and :func:`gil_enabled` answer the two separate questions "can this
  Python run without the GIL?" and "is the GIL off right now?" (a free-threaded build turns it back on
  when an extension module needs it, or with ``PYTHON_GIL=1``).
- :func:`wake_up_lateness` measures how late a sleeping thread gets back to work while another thread
  computes: about one switch interval (``sys.getswitchinterval()``) when the GIL is there.
- :data:`THREAD_TASKS` lists everyday tasks, each with the function that runs it, and whether two
  threads finish two of them sooner than one thread (on a standard build with 2 or more cores).

Every task function lives here, so thread and process pools can run it under any start method.
"""

import functools
import hashlib
import json
import random
import sys
import sysconfig
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from parallel_course import settings, validate, workloads


def free_threaded_build() -> bool:
    """True when this Python was built to run without the GIL (3.13t, 3.14t: ``Py_GIL_DISABLED``)."""
    return bool(sysconfig.get_config_var("Py_GIL_DISABLED"))


def gil_enabled() -> bool:
    """True when the GIL is on right now. Before 3.13 there is no ``sys._is_gil_enabled``: the GIL is always on."""
    check = getattr(sys, "_is_gil_enabled", None)
    return True if check is None else bool(check())


def describe() -> str:
    """One sentence on this interpreter and its GIL."""
    version = ".".join(map(str, sys.version_info[:3]))
    if not free_threaded_build():
        return (f"Python {version}, a standard build with the GIL: one thread at a time runs Python code "
                "in this process.")
    if gil_enabled():
        return (f"Python {version}, a free-threaded build, but the GIL is enabled right now (PYTHON_GIL=1, "
                "-X gil=1, or an imported extension module that needs it): threads take turns as with a "
                "standard build.")
    return f"Python {version}, a free-threaded build with the GIL disabled: threads run Python code in parallel."


def _spin(stop: threading.Event, started: threading.Event) -> int:
    """Pure-Python busy loop until ``stop`` is set; returns how many rounds it did."""
    started.set()
    rounds = 0
    while not stop.is_set():
        workloads.cpu_bound(1000)
        rounds += 1
    return rounds


def wake_up_lateness(naps: int = 10, nap: float = 0.002, busy: bool = True) -> list[float]:
    """Sleep ``naps`` times for ``nap`` seconds; return how late (s) this thread resumed after each nap.

    With ``busy=True`` another thread runs pure Python meanwhile. With the GIL, a thread that wakes up
    must wait for it: the busy thread is asked to let go after one switch interval, so each nap ends
    about that much late. Without a busy thread (or without a GIL) the lateness is the operating
    system's, a fraction of a millisecond. The busy thread is always stopped before this returns.
    """
    validate.positive_int(naps, "The number of naps")
    if isinstance(nap, bool) or not isinstance(nap, int | float) or not 0 < nap <= 1:
        raise ValueError(f"A nap must last more than 0 and at most 1 second, not {nap!r}.")
    stop, started = threading.Event(), threading.Event()
    spinner = threading.Thread(target=_spin, args=(stop, started), name="busy spinner", daemon=True)
    lateness = []
    try:
        if busy:
            spinner.start()
            started.wait(timeout=5)
        for _ in range(naps):
            before = time.perf_counter()
            time.sleep(nap)
            lateness.append(time.perf_counter() - before - nap)
    finally:
        stop.set()
        if busy:
            spinner.join(timeout=10)
    return lateness


@functools.lru_cache(maxsize=4)
def _payload(megabytes: int) -> bytes:
    """Deterministic, incompressible bytes (the same every call)."""
    return random.Random(megabytes).randbytes(megabytes * 2**20)


def sha256_digest(megabytes: int) -> str:
    """SHA-256 of ``megabytes`` MiB of data, fed in 1 MiB updates (hashlib releases the GIL for each)."""
    validate.positive_int(megabytes, "The size in MiB")
    data = memoryview(_payload(1))
    digest = hashlib.sha256()
    for _ in range(megabytes):
        digest.update(data)
    return digest.hexdigest()


def zlib_compress(megabytes: int) -> int:
    """Compress ``megabytes`` MiB of random bytes with zlib (which releases the GIL); returns the size."""
    validate.positive_int(megabytes, "The size in MiB")
    return len(zlib.compress(_payload(megabytes), 6))


def json_roundtrip(n: int) -> int:
    """Encode ``n`` small records as JSON text and decode them again: works on Python objects, holds the GIL."""
    validate.positive_int(n, "The number of records")
    records = [{"id": i, "name": f"item {i}", "price": i * 0.25} for i in range(n)]
    return len(json.loads(json.dumps(records)))


def sort_numbers(n: int) -> float:
    """Sort ``n`` shuffled floats with ``sorted``: compares Python objects, holds the GIL. Returns the median."""
    validate.positive_int(n, "The number of values")
    values = [((i * 7919) % n) / n for i in range(n)]
    return sorted(values)[n // 2]


@dataclass(frozen=True)
class ThreadTask:
    """An everyday task, the function and input that run it, and whether threads make two of them faster."""

    description: str
    fn: Callable
    size: object
    threads_help: bool
    why: str

    def __call__(self, _ignored=None):
        return self.fn(self.size)


def thread_tasks() -> dict[str, ThreadTask]:
    """The tasks of the classification exercise, sized for the current course size."""
    return {
        "python_loop": ThreadTask(
            "add up i*i for i < n in a Python for-loop", workloads.cpu_bound, workloads.task_size("cpu") // 2,
            False, "every step is Python bytecode, which needs the GIL: the threads take turns."),
        "sleep": ThreadTask(
            "wait for a slow server (time.sleep)", workloads.io_bound, workloads.task_size("io") / 2,
            True, "a waiting thread releases the GIL, so the waits overlap."),
        "numpy_math": ThreadTask(
            "sin and cos over a big NumPy array", workloads.numpy_bound, workloads.task_size("numpy") // 2,
            True, "NumPy's loops run in C with the GIL released."),
        "sha256": ThreadTask(
            "SHA-256 of 1 MiB blocks with hashlib", sha256_digest, settings.sized(64, small=16, large=128),
            True, "hashlib releases the GIL while it hashes data over 2 KiB, as its documentation says."),
        "zlib": ThreadTask(
            "compress bytes with zlib", zlib_compress, settings.sized(2, small=1, large=4),
            True, "zlib compresses in C with the GIL released."),
        "json": ThreadTask(
            "encode and decode records as JSON", json_roundtrip, settings.sized(40_000, small=10_000, large=80_000),
            False, "json builds and reads Python objects, which needs the GIL the whole time."),
        "sorting": ThreadTask(
            "sort a list of floats with sorted()", sort_numbers, settings.sized(400_000, small=100_000,
                                                                                large=800_000),
            False, "sorting compares Python objects one pair at a time, holding the GIL."),
    }

