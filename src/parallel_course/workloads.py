"""Deterministic tasks with known answers, each sized by one knob.

- :func:`cpu_bound`: pure Python arithmetic. Holds the GIL the whole time, so only processes speed it up.
- :func:`numpy_bound`: NumPy on a large array. NumPy's loops release the GIL, so threads can overlap.
- :func:`io_bound`: sleeps to simulate waiting for a disk or a server; the GIL is free while it waits.

Every function here is importable by worker processes under fork, spawn and forkserver: that is why
they live in this package and not in a notebook cell.
"""

import time

from parallel_course import settings, validate


def cpu_bound(n: int) -> int:
    """Sum of the squares ``0**2 + 1**2 + ... + (n-1)**2``, computed the slow way, in pure Python."""
    total = 0
    for i in range(n):
        total += i * i
    return total


def cpu_bound_expected(n: int) -> int:
    """The answer of :func:`cpu_bound` by formula, to check any parallel version against."""
    return (n - 1) * n * (2 * n - 1) // 6


def numpy_bound(n: int) -> float:
    """``sum(sin(x)**2 + cos(x)**2)`` over ``n`` numbers: NumPy releases the GIL and the answer is ``n``.

    NumPy is imported here, not at the top of the module, so that workers running only the pure-Python
    tasks do not pay for importing it (about 0.1 s per worker under spawn or forkserver).
    """
    import numpy as np

    x = np.linspace(0.0, 1000.0, n)
    return float(np.sum(np.sin(x) ** 2 + np.cos(x) ** 2))


def io_bound(seconds: float) -> float:
    """Wait ``seconds`` as a network or disk request would, using almost no CPU; returns ``seconds``."""
    time.sleep(seconds)
    return seconds


def square(x):
    """``x * x``, the classic first example of a parallel map. The smallest possible task, to show per-task overhead."""
    return x * x


# One knob per workload: the size of one task at each course size (~0.1 s of work at "default").
TASK_SIZES = {
    "cpu": {"small": 500_000, "default": 3_000_000, "large": 8_000_000},
    "numpy": {"small": 1_000_000, "default": 4_000_000, "large": 8_000_000},
    "io": {"small": 0.05, "default": 0.1, "large": 0.1},
}
WORKLOADS = {"cpu": cpu_bound, "numpy": numpy_bound, "io": io_bound}


def task_size(kind: str):
    """The size of one task of ``kind`` (``cpu``, ``numpy`` or ``io``) at the current course size."""
    if kind not in TASK_SIZES:
        raise ValueError(f"The workload must be one of {', '.join(TASK_SIZES)}, not {kind!r}.")
    return TASK_SIZES[kind][settings.size()]


def tasks(kind: str, count: int = 8, size=None) -> list:
    """``count`` inputs for the ``kind`` workload, each of ``size`` (default: :func:`task_size`)."""
    validate.positive_int(count, "The number of tasks")
    return [task_size(kind) if size is None else size] * count


def panel_tasks(kind: str, per_worker: int = 4, work: float = 3.0, cap: int | None = None) -> list:
    """Inputs for a scaling experiment: ``per_worker`` tasks per worker at the worker cap, ``work`` tasks' worth.

    With ``k * n`` equal tasks on ``n`` workers every worker gets the same number, so the ``ceil(tasks / n)``
    staircase does not pose as overhead; the whole batch stays about ``work`` default-size tasks of work
    (a few seconds at most), whatever the cap, by making each task smaller.
    """
    from parallel_course import resources

    cap = resources.worker_cap() if cap is None else validate.positive_int(cap, "The worker cap")
    count = validate.positive_int(per_worker, "The tasks per worker") * cap
    size = task_size(kind) * work / count
    return tasks(kind, count, size if kind == "io" else max(1, int(size)))


def function(kind: str):
    """The worker function of the ``kind`` workload."""
    task_size(kind)  # validates the name
    return WORKLOADS[kind]
