"""The global interpreter lock (GIL): which Python is this, and small tasks that hold or release the GIL.

- :func:`free_threaded_build` and :func:`gil_enabled` answer the two separate questions "can this
  Python run without the GIL?" and "is the GIL off right now?" (a free-threaded build turns it back on
  when an extension module needs it, or with ``PYTHON_GIL=1``).
- :func:`wake_up_lateness` measures how late a sleeping thread gets back to work while another thread
  computes: about one switch interval (``sys.getswitchinterval()``) when the GIL is there.
- :func:`describe_threads` reads a 1-thread and a 2-thread recording of the same tasks (speedup and
  overlap), knowing what the GIL allows for that kind of work, on this kernel and this machine.
- :func:`c_nap` and :func:`c_nap_holding_gil` call the C library's ``usleep`` through :mod:`ctypes`:
  loaded with ``ctypes.CDLL`` the call releases the GIL, loaded with ``ctypes.PyDLL`` it keeps it. No
  compiler is needed; :func:`ctypes_available` says whether this platform has such a C library.
- :func:`thread_tasks` lists everyday tasks, each with the function that runs it, and whether two
  threads finish two of them sooner than one thread (on a standard build with 2 or more cores).

Every task function lives here, so thread and process pools can run it under any start method.
"""

import ctypes
import ctypes.util
import functools
import hashlib
import json
import os
import random
import sys
import sysconfig
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from parallel_course import resources, settings, timeline, validate, workloads


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


WORK_KINDS = {
    "python": "pure Python, which holds the GIL",
    "wait": "waiting, which releases the GIL",
    "c": "C code that releases the GIL (NumPy, hashlib, zlib)",
}


def describe_threads(one: timeline.Recording, two: timeline.Recording, work: str) -> str:
    """Read a 1-thread and a 2-thread recording of the same tasks: the speedup, the overlap, and why.

    ``work`` names what the tasks do (a key of :data:`WORK_KINDS`). The reading knows what to expect
    from this kernel (GIL or not) and this machine (usable cores), and says so when a number cannot
    come from the threads themselves, which on a machine shared with other programs happens often.
    """
    if work not in WORK_KINDS:
        raise ValueError(f"The kind of work must be one of {', '.join(WORK_KINDS)}, not {work!r}.")
    for name, rec in (("one", one), ("two", two)):
        if not isinstance(rec, timeline.Recording):
            raise TypeError(f"{name} must be a timeline.Recording (from timeline.run), not {type(rec).__name__}.")
    speedup, overlap = one.wall / two.wall, timeline.overlap_fraction(two.spans)
    cores, forced = resources.usable_cores(), resources.forced_cores()
    lines = [f"2 threads ran {speedup:.2f}× as fast as 1, and overlapped {overlap:.0%} of the busy time."]
    if work == "python" and gil_enabled():
        if speedup > 1.2:
            lines.append("More than 1×, yet with the GIL the threads took turns: the second thread cannot have "
                         "sped anything up. The 1-thread run was slowed down instead, most likely by other "
                         "programs (look for gaps in its row). Run the cell again.")
        elif speedup < 0.8:
            lines.append("Well below 1×, more than handing the GIL over costs: other programs probably took a "
                         "core during the 2-thread run. Run the cell again.")
        else:
            lines.append("About 1×, as the GIL predicts: the same work, done by one thread at a time.")
    elif work == "wait":
        if speedup >= 1.6:
            lines.append("Close to 2×: the waits overlapped, and waiting needs no core.")
        else:
            lines.append("Less than the 2× that overlapping waits allow: starting the threads, or other "
                         "programs delaying them after each wait, took a share. Run the cell again.")
    elif cores < 2:
        lines.append("This machine has 1 usable core, so two computing threads can only take turns on it: no "
                     "speedup can appear here, whatever the code does.")
        if forced is not None:
            lines.append("(PARALLEL_COURSE_CORES only pretends: the threads could still use every core of this "
                         "machine, so a speedup may show anyway. On a real one-core machine, such as Binder, "
                         "it cannot.)")
    elif speedup > 2.3:
        lines.append("More than 2×: the 1-thread run was slowed down by something else, most likely another "
                     "program. Run the cell again.")
    elif speedup >= 1.6:
        lines.append("Close to 2×: each thread computed on a core of its own.")
    elif overlap >= 0.5 and speedup >= 1.1:
        lines.append("A gain, but less than 2×: the threads did run side by side, yet each slower than alone "
                     "(the Python steps between C calls, memory shared by the cores, or other programs).")
    elif overlap >= 0.5:
        lines.append("The threads did run side by side, but each so much slower than alone that nothing was "
                     "gained: most likely other programs shared the cores. Run the cell again.")
    else:
        lines.append("The threads rarely ran at the same time: they did not get two cores at once, most "
                     "likely because other programs were using them. Run the cell again.")
    load = resources.load_average()
    if load is not None and load > cores + 0.5:
        usable = f"{cores} usable core{'s' if cores != 1 else ''}"
        lines.append(f"The machine is busy (load average {load:.1f} on {usable}, these threads included), so these "
                     "numbers are noisier than usual.")
    return " ".join(lines)


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


@functools.lru_cache(maxsize=2)
def _libc(holding_gil: bool):
    """The C library through ctypes (``PyDLL`` when ``holding_gil``, else ``CDLL``), or None without one."""
    name = ctypes.util.find_library("c")
    if name is None and os.name != "posix":
        return None  # Windows: no C library with usleep
    # On POSIX a name of None loads the symbols already in this process (dlopen(NULL)), the C library's too.
    loader = ctypes.PyDLL if holding_gil else ctypes.CDLL
    try:
        library = loader(name)
        usleep = library.usleep
    except (OSError, AttributeError):
        return None
    usleep.argtypes, usleep.restype = [ctypes.c_uint], ctypes.c_int
    return library


def ctypes_available() -> bool:
    """True when this platform's C library, with its ``usleep``, can be called through ctypes."""
    return _libc(False) is not None and _libc(True) is not None


def _c_usleep(seconds: float, holding_gil: bool) -> float:
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not 0 < seconds < 1:
        raise ValueError(f"A nap must last more than 0 and less than 1 second, not {seconds!r}.")
    library = _libc(holding_gil)
    if library is None:
        raise RuntimeError("This platform has no C library with usleep for ctypes to call (Windows has none).")
    library.usleep(round(seconds * 1_000_000))
    return seconds


def c_nap(seconds: float) -> float:
    """Sleep in C (``usleep`` through ``ctypes.CDLL``, which releases the GIL around the call); returns ``seconds``."""
    return _c_usleep(seconds, holding_gil=False)


def c_nap_holding_gil(seconds: float) -> float:
    """Sleep in C through ``ctypes.PyDLL``, which keeps the GIL during the call; returns ``seconds``."""
    return _c_usleep(seconds, holding_gil=True)


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

