"""Worker functions and helpers of lesson 04, multiprocessing.

Everything a process or a pool runs in that lesson lives here, so it works under every start method:
under ``spawn`` and ``forkserver`` a worker finds a function by importing its module, which a notebook
cell does not have. The module imports only the standard library at the top (NumPy is imported where it
is needed), so starting a worker that runs :func:`noop` measures the start method, not NumPy's import.

Groups of functions:

- the first processes: :func:`hello`, :func:`hello_to_queue`, :func:`exit_with`, :func:`noop`;
- pools: :func:`power`, :func:`cpu_with_pid`, :func:`whoami`;
- start methods: :func:`start_seconds`, :func:`fork_with_held_lock`, :func:`default_start_method`;
- pickling: :func:`pickle_report`;
- sending data: :func:`payload`, :func:`nbytes_of`, :func:`sum_array`, :func:`transfer_seconds`;
- shared memory: :class:`SharedSpec`, :class:`SharedBlock`, :func:`shared_array`, :func:`shared_copy`,
  :func:`sum_shared_slice`, :func:`scale_shared_slice`, :func:`split`, :func:`segment_exists`;
- BLAS threads: :func:`blas_task`, :func:`blas_threads`, :func:`set_blas_threads`.
"""

import math
import multiprocessing
import os
import pickle
import re
import statistics
import sys
import threading
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing import shared_memory

from parallel_course import settings, validate

# ---------------------------------------------------------------------------------------------------
# The first processes
# ---------------------------------------------------------------------------------------------------


def hello(num: int) -> None:
    """The worker of the classic first example: print ``Worker: num``.

    The line and its newline go out in one write, flushed at once, so that lines printed by several
    processes at the same moment do not get mixed up (``print(text)`` writes the text and the newline
    separately, and another process's line can land in between).
    """
    print(f"Worker: {num}\n", end="", flush=True)


def hello_to_queue(num: int, queue) -> None:
    """The same greeting, made reliable: send it (with this process's id) to the parent through ``queue``."""
    queue.put(f"Worker: {num} (pid {os.getpid()})")


def exit_with(code: int) -> None:
    """Leave the process with exit status ``code`` (0 means success, anything else a failure)."""
    sys.exit(code)


def fail(message: str = "something went wrong") -> None:
    """Raise an exception in the worker: the process prints a traceback and ends with exit status 1."""
    raise RuntimeError(message)


def noop(*args) -> None:
    """Do nothing (whatever the arguments): what it costs to start a process, or a trip to a pool worker."""


# ---------------------------------------------------------------------------------------------------
# Pools
# ---------------------------------------------------------------------------------------------------


def power(base, exponent):
    """``base ** exponent``: a task with two arguments, for ``Pool.starmap`` and ``functools.partial``."""
    return base**exponent


def whoami(task=None) -> tuple:
    """``(task, pid, process name)``; a pool worker's name tells its start method (``SpawnPoolWorker-3``)."""
    return task, os.getpid(), multiprocessing.current_process().name


def cpu_with_pid(n: int) -> tuple[int, int, int]:
    """``(n, cpu_bound(n), pid)``: the CPU-bound task plus the worker that ran it."""
    from parallel_course.workloads import cpu_bound

    return n, cpu_bound(n), os.getpid()


# ---------------------------------------------------------------------------------------------------
# Start methods
# ---------------------------------------------------------------------------------------------------


def start_seconds(method: str, count: int = 2, repeat: int = 3) -> list[float]:
    """Seconds to start ``count`` processes that do nothing with ``method`` and wait for them, per run.

    The first run of ``spawn`` and ``forkserver`` also starts helper processes (the resource tracker, the
    fork server), so it is usually slower than the runs after it.
    """
    ctx = settings.mp_context(method)
    validate.positive_int(count, "The number of processes")
    validate.positive_int(repeat, "repeat")
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        procs = [ctx.Process(target=noop) for _ in range(count)]
        for proc in procs:
            proc.start()
        for proc in procs:
            proc.join(60)
        times.append(time.perf_counter() - start)
        for proc in procs:
            if proc.is_alive():  # never leave a process behind, even if something went very wrong
                proc.kill()
                proc.join()
            if proc.exitcode != 0:
                raise RuntimeError(f"A {method} process ended with exit status {proc.exitcode}.")
    return times


def _try_lock(lock, timeout: float) -> None:
    """In the child: exit 0 if ``lock`` can be acquired within ``timeout`` seconds, else exit 3."""
    sys.exit(0 if lock.acquire(timeout=timeout) else 3)


def fork_with_held_lock(timeout: float = 0.5) -> bool | None:
    """Fork while another thread holds a lock; return whether the child could take that lock.

    ``fork`` copies only the thread that calls it. A lock held by any other thread is copied *locked*,
    and in the child no thread exists that would ever release it: the child can only time out (here,
    after ``timeout`` seconds; a real program would hang). Returns ``None`` where ``fork`` is missing.
    """
    if "fork" not in multiprocessing.get_all_start_methods():
        return None
    if not isinstance(timeout, int | float) or not 0 < timeout <= 10:
        raise ValueError(f"The timeout must be a number of seconds between 0 and 10, not {timeout!r}.")
    lock, held, done = threading.Lock(), threading.Event(), threading.Event()

    def hold():
        with lock:
            held.set()
            done.wait(30)

    holder = threading.Thread(target=hold, name="lock-holder", daemon=True)
    holder.start()
    held.wait(10)
    try:
        with warnings.catch_warnings():
            # Python 3.12+ warns that forking a multi-threaded process may deadlock: here that is the point.
            warnings.simplefilter("ignore", DeprecationWarning)
            child = multiprocessing.get_context("fork").Process(target=_try_lock, args=(lock, timeout))
            child.start()
        child.join(timeout + 30)
        if child.is_alive():
            child.kill()
            child.join()
        return child.exitcode == 0
    finally:
        done.set()
        holder.join()


def default_start_method(platform: str, version: tuple) -> str:
    """The start method Python ``version`` (3.11 or later) uses by default on ``platform`` (``sys.platform``).

    Windows has only ``spawn``; macOS defaults to ``spawn`` since 3.8 (its system libraries are not
    fork-safe); other POSIX systems default to ``fork`` up to 3.13 and to ``forkserver`` from 3.14.
    """
    if not isinstance(platform, str) or not platform:
        raise TypeError("The platform must be a name like sys.platform ('linux', 'darwin', 'win32'), "
                        f"not {platform!r}.")
    if (not isinstance(version, tuple) or len(version) < 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in version[:2])):
        raise TypeError(f"The version must be a tuple like (3, 14), not {version!r}.")
    if platform.startswith("win") or platform == "darwin":
        return "spawn"
    return "forkserver" if tuple(version[:2]) >= (3, 14) else "fork"


# ---------------------------------------------------------------------------------------------------
# Pickling
# ---------------------------------------------------------------------------------------------------


def pickle_report(obj, dumps=pickle.dumps) -> str:
    """``"ok (N bytes)"`` if ``dumps(obj)`` works, else ``"ErrorType: message"`` (never raises)."""
    try:
        data = dumps(obj)
    except Exception as error:  # noqa: BLE001 - reporting any failure is the point
        text = re.sub(r" at 0x[0-9a-fA-F]+", "", str(error).splitlines()[0] if str(error) else "")
        return f"{type(error).__name__}: {text}"
    return f"ok ({len(data):,} bytes)"


# ---------------------------------------------------------------------------------------------------
# Sending data
# ---------------------------------------------------------------------------------------------------


def payload(nbytes: int):
    """A NumPy array of float64 ones taking ``nbytes`` bytes (rounded down to whole numbers, at least one)."""
    import numpy as np

    validate.positive_int(nbytes, "The payload size in bytes")
    return np.ones(max(1, nbytes // 8))


def nbytes_of(array) -> int:
    """In the worker: the size of the array that arrived (the work is nothing; the cost is the trip)."""
    return int(array.nbytes)


def sum_array(array) -> float:
    """In the worker: the sum of an array sent to it (and therefore copied to it)."""
    return float(array.sum())


def transfer_seconds(pool, nbytes: int, repeat: int = 3) -> float:
    """Median seconds for ``pool`` to send an array of ``nbytes`` to a worker and get a small answer back.

    ``pool`` is a ``multiprocessing`` pool that is already running, so starting it is not counted.
    """
    data = payload(nbytes)
    validate.positive_int(repeat, "repeat")
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        got = pool.apply(nbytes_of, (data,))
        times.append(time.perf_counter() - start)
        if got != data.nbytes:
            raise RuntimeError(f"The worker received {got} bytes instead of {data.nbytes}.")
    return statistics.median(times)


# ---------------------------------------------------------------------------------------------------
# Shared memory
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SharedSpec:
    """Everything a worker needs to find a shared array: a few bytes to send instead of the data."""

    name: str
    shape: tuple
    dtype: str

    @property
    def size(self) -> int:
        """Number of elements."""
        return math.prod(self.shape)


def _attach(name: str) -> shared_memory.SharedMemory:
    """Open an existing shared block without letting this process's resource tracker take charge of it.

    Only the creator should unlink a block. From Python 3.13, ``track=False`` says so. Before 3.13,
    attaching registers the block with the resource tracker: harmless in a worker that shares its
    parent's tracker (the usual case), but a worker forked before its parent had a tracker would start its
    own, and that one would unlink the block when the worker exits. Undo the registration in that case.
    """
    if sys.version_info >= (3, 13):
        return shared_memory.SharedMemory(name=name, track=False)
    from multiprocessing import resource_tracker

    private = getattr(getattr(resource_tracker, "_resource_tracker", None), "_fd", 0) is None
    block = shared_memory.SharedMemory(name=name)
    if private and os.name == "posix":
        resource_tracker.unregister(block._name, "shared_memory")
    return block


def _as_array(block: shared_memory.SharedMemory, spec: SharedSpec):
    """The NumPy array of ``spec`` whose data is ``block``'s memory (no copy).

    ``np.frombuffer`` keeps the block's buffer *exported* while the array (or any view of it) lives, so
    ``block.close()`` refuses with ``BufferError`` instead of unmapping memory under a live array. (An array
    made with ``np.ndarray(shape, dtype, buffer=block.buf)`` does not hold the buffer with NumPy 2: after
    ``close()`` it points at unmapped memory, and touching it crashes the process.)
    """
    import numpy as np

    return np.frombuffer(block.buf, dtype=spec.dtype, count=spec.size).reshape(spec.shape)


# Blocks whose mapping could not be closed yet because a NumPy view of them was still alive.
_STILL_MAPPED: list[shared_memory.SharedMemory] = []


def _close_when_free() -> None:
    """Close the mappings kept open for a view that has meanwhile been deleted."""
    for block in list(_STILL_MAPPED):
        try:
            block.close()
        except BufferError:
            continue
        _STILL_MAPPED.remove(block)


class SharedBlock:
    """A NumPy array that lives in a named shared-memory block (see :func:`shared_array`).

    ``array`` is the array itself (in this process); ``spec`` is what to send to workers, which open the
    same memory with it: nothing is copied. Use ``block.array`` inside the ``with`` block rather than
    keeping a view of it in a variable that outlives the block.
    """

    def __init__(self, block: shared_memory.SharedMemory, spec: SharedSpec):
        self._block, self.spec = block, spec
        self._array = _as_array(block, spec)

    @property
    def array(self):
        if self._array is None:
            raise RuntimeError("This shared block is closed: its memory is gone.")
        return self._array

    @property
    def name(self) -> str:
        return self.spec.name

    def __repr__(self) -> str:
        state = "closed" if self._array is None else "open"
        return f"SharedBlock({self.spec.name!r}, shape={self.spec.shape}, dtype={self.spec.dtype}, {state})"

    def release(self) -> None:
        """Close this process's mapping and unlink the block's name; safe to call twice."""
        if self._array is None:
            return
        self._array = None
        block = self._block
        try:
            block.unlink()  # first: the name disappears whatever happens next, so nothing is left behind
        except FileNotFoundError:
            pass
        try:
            block.close()
        except BufferError:
            # A NumPy view made from block.array is still alive somewhere: its memory cannot be unmapped
            # under it. Keep the mapping until that view goes (it is freed when this process ends anyway).
            _STILL_MAPPED.append(block)
            warnings.warn(f"A NumPy view of shared block {block.name} is still alive (a variable made from "
                          "block.array?), so its mapping stays until that view is deleted. Its name is "
                          "already unlinked: nothing is left behind.", RuntimeWarning, stacklevel=3)


@contextmanager
def _new_block(shape, dtype, zero: bool):
    import numpy as np

    shape = (shape,) if isinstance(shape, int) and not isinstance(shape, bool) else shape
    if (not isinstance(shape, tuple) or not shape
            or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in shape)):
        raise ValueError(f"The shape must be a whole number or a tuple of whole numbers of at least 1, not {shape!r}.")
    try:
        dtype = np.dtype(dtype)
    except TypeError as error:
        raise TypeError(f"{dtype!r} is not a NumPy dtype.") from error
    if dtype.hasobject:
        raise TypeError("An array of Python objects cannot live in shared memory: use numbers.")
    _close_when_free()
    block = shared_memory.SharedMemory(create=True, size=max(1, dtype.itemsize * int(np.prod(shape))))
    try:
        shared = SharedBlock(block, SharedSpec(block.name, tuple(shape), dtype.str))
        if zero:
            shared.array.fill(0)
    except BaseException:
        block.close()
        block.unlink()
        raise
    try:
        yield shared
    finally:
        shared.release()


@contextmanager
def shared_array(shape, dtype="float64"):
    """Create a zero-filled shared NumPy array; yield its :class:`SharedBlock`; always close and unlink it.

    Create the block before the pool that uses it, and send workers ``block.spec``, never the array.
    """
    with _new_block(shape, dtype, zero=True) as shared:
        yield shared


@contextmanager
def shared_copy(array):
    """Copy ``array`` into a new shared block (once); yield the :class:`SharedBlock`; always clean up."""
    import numpy as np

    if not isinstance(array, np.ndarray):
        raise TypeError(f"shared_copy needs a NumPy array, not {type(array).__name__}.")
    if array.size == 0:
        raise ValueError("The array is empty: there is nothing to share.")
    with _new_block(array.shape, array.dtype, zero=False) as shared:
        np.copyto(shared.array, array)
        yield shared


def _check_bounds(spec: SharedSpec, start: int, stop: int) -> None:
    if not isinstance(spec, SharedSpec):
        raise TypeError(f"Send the block's spec (block.spec), not {type(spec).__name__}.")
    if not (isinstance(start, int) and isinstance(stop, int) and 0 <= start <= stop <= spec.shape[0]):
        raise ValueError(f"The slice {start}:{stop} does not fit an array of length {spec.shape[0]}.")


def sum_shared_slice(spec: SharedSpec, start: int, stop: int):
    """In the worker: open the shared array named by ``spec`` and sum rows ``start:stop`` (no copy)."""
    _check_bounds(spec, start, stop)
    block = _attach(spec.name)
    try:
        array = _as_array(block, spec)
        total = array[start:stop].sum()
        del array  # the array must be gone before the block can be closed
    finally:
        block.close()
    return total.item()


def scale_shared_slice(spec: SharedSpec, start: int, stop: int, factor: float) -> int:
    """In the worker: multiply rows ``start:stop`` of the shared array in place; return how many changed.

    The parent sees the change at once, with nothing sent back: both processes map the same memory.
    """
    _check_bounds(spec, start, stop)
    block = _attach(spec.name)
    try:
        array = _as_array(block, spec)
        array[start:stop] *= factor
        del array
    finally:
        block.close()
    return stop - start


def split(length: int, parts: int) -> list[tuple[int, int]]:
    """``parts`` consecutive ``(start, stop)`` ranges covering ``range(length)``, sizes differing by <= 1."""
    validate.positive_int(length, "The length")
    validate.positive_int(parts, "The number of parts")
    parts = min(parts, length)
    size, extra = divmod(length, parts)
    bounds, start = [], 0
    for i in range(parts):
        stop = start + size + (1 if i < extra else 0)
        bounds.append((start, stop))
        start = stop
    return bounds


def segment_exists(name: str) -> bool:
    """Whether a shared-memory block called ``name`` still exists (to check that one was unlinked)."""
    if not isinstance(name, str) or not name:
        raise TypeError(f"The name must be a block's name (block.name), not {name!r}.")
    if os.path.isdir("/dev/shm"):  # Linux: each block is a file there
        return os.path.exists(os.path.join("/dev/shm", name.lstrip("/")))
    try:
        block = _attach(name)
    except FileNotFoundError:
        return False
    block.close()
    return True


def shm_names() -> set[str]:
    """Names of Python's shared-memory blocks in ``/dev/shm`` now (empty where there is no /dev/shm)."""
    try:
        return {n for n in os.listdir("/dev/shm") if n.startswith(("psm_", "wnsm_"))}
    except OSError:
        return set()


# ---------------------------------------------------------------------------------------------------
# BLAS threads inside processes
# ---------------------------------------------------------------------------------------------------

BLAS_N = 256  # matrices of this size: big enough to make BLAS start its threads, small enough to be quick


def blas_task(repeats: int, n: int = BLAS_N) -> float:
    """``repeats`` products of two ``n`` x ``n`` matrices (NumPy calls BLAS); a checksum as the answer."""
    import numpy as np

    validate.positive_int(repeats, "repeats")
    validate.positive_int(n, "The matrix size")
    rng = np.random.default_rng(n)
    a, b = rng.standard_normal((n, n)), rng.standard_normal((n, n))
    total = 0.0
    for _ in range(repeats):
        total += float((a @ b)[0, 0])
    return total


def blas_threads(_=None) -> int:
    """How many threads BLAS may use in this process now (the largest pool threadpoolctl reports)."""
    import numpy  # noqa: F401 - loads the BLAS library, so threadpoolctl can see it
    from threadpoolctl import threadpool_info

    counts = [info["num_threads"] for info in threadpool_info() if info.get("user_api") == "blas"]
    return max(counts, default=1)


def set_blas_threads(count: int) -> None:
    """Worker initializer: let BLAS use ``count`` threads in this process (1 avoids oversubscription)."""
    validate.positive_int(count, "The number of BLAS threads")
    import numpy  # noqa: F401
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=count, user_api="blas")


def pickle_round_trip_figure():
    """A diagram of one task's round trip: pickled in the parent, unpickled and run in a worker, and back.

    matplotlib is imported here, not at the top of the module, so that worker processes importing this module
    for their tasks do not pay for it.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch

    from parallel_course.plots import OKABE_ITO

    fig, ax = plt.subplots(figsize=(9, 3.4))
    ax.set(xlim=(0, 10), ylim=(0, 4.2))
    ax.axis("off")
    for x, label, colour in ((0.2, "parent process\n(your kernel)", OKABE_ITO["blue"]),
                             (6.8, "worker process", OKABE_ITO["orange"])):
        ax.add_patch(FancyBboxPatch((x, 0.3), 3.0, 3.6, boxstyle="round,pad=0.05", facecolor=colour, alpha=0.15,
                                    edgecolor=colour))
        ax.text(x + 1.5, 3.6, label, ha="center", va="center", fontsize=10, weight="bold")
    steps = [  # (x, y, text) for the boxes inside each process
        (1.7, 2.7, "task: fn, args\npickle.dumps"), (8.3, 2.7, "pickle.loads\nimport fn's module"),
        (8.3, 1.0, "run fn(*args)\npickle.dumps(result)"), (1.7, 1.0, "pickle.loads\nresult (or exception)"),
    ]
    for x, y, text in steps:
        ax.text(x, y, text, ha="center", va="center", fontsize=9,
                bbox={"boxstyle": "round", "facecolor": "white", "edgecolor": OKABE_ITO["black"]})
    arrow = {"arrowstyle": "-|>", "color": OKABE_ITO["green"], "lw": 2}
    ax.annotate("", xy=(7.05, 2.7), xytext=(2.95, 2.7), arrowprops=arrow)
    ax.text(5.0, 2.9, "bytes through a pipe", ha="center", fontsize=9, color=OKABE_ITO["green"])
    ax.annotate("", xy=(8.3, 1.45), xytext=(8.3, 2.25), arrowprops={**arrow, "color": OKABE_ITO["black"]})
    ax.annotate("", xy=(2.95, 1.0), xytext=(7.05, 1.0), arrowprops={**arrow, "color": OKABE_ITO["vermillion"]})
    ax.text(5.0, 1.2, "bytes back", ha="center", fontsize=9, color=OKABE_ITO["vermillion"])
    ax.set_title("One task's round trip: everything that crosses is pickled, then unpickled", fontsize=11)
    fig.tight_layout()
    return fig
