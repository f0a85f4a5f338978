"""Tasks for lesson 05 (``concurrent.futures``): slow tasks, failing tasks, and tasks that kill their worker.

Every function here is what an executor runs, so it lives in an importable module (a function defined in
a notebook cannot be pickled by reference under the ``spawn`` and ``forkserver`` start methods). The
module imports only the standard library: Python 3.14's ``InterpreterPoolExecutor`` runs tasks in
subinterpreters, and not every extension module (NumPy among them) can be loaded in one.

- :func:`sleepy_task`: waits, then returns its id; tasks of different lengths finish out of order.
- :func:`who_ran_me`: reports which process and thread ran a task.
- :func:`inverse`: ``1 / x``, raising ``ValueError`` for ``x == 0`` (exceptions travel back).
- :func:`raise_two_part_error`: raises an exception that pickles but cannot be unpickled (breaks the pool).
- :func:`raise_fixed_two_part_error`: the same exception written so that it travels back intact.
- :func:`square_or_die`: kills its own worker process for one input (a ``BrokenProcessPool``).
- :func:`square_or_die_at_first`: the same, but only the first time(s): a worker lost to a passing accident.
- :func:`sum_of_squares`: pure-Python CPU work, safe to run in a subinterpreter.
- :class:`FlakyService`: a pretend network service that fails the first few calls for some inputs.
"""

import os
import threading
import time
from collections import Counter
from pathlib import Path


def _seconds(value, name: str = "seconds") -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ValueError(f"{name} must be a number of seconds of at least 0, not {value!r}.")
    return float(value)


def sleepy_task(task_id, seconds: float = 0.1):
    """Wait ``seconds`` (as a request to a slow server would), then return ``task_id``."""
    time.sleep(_seconds(seconds))
    return task_id


def who_ran_me(task_id, seconds: float = 0.0) -> tuple:
    """Wait ``seconds``, then return ``(task_id, process id, thread name)`` of the worker that ran it."""
    time.sleep(_seconds(seconds))
    return task_id, os.getpid(), threading.current_thread().name


def _require_nonzero(x) -> None:
    if x == 0:
        raise ValueError("cannot invert 0")


def inverse(x, seconds: float = 0.0) -> float:
    """``1 / x`` after ``seconds`` of pretend work; raises ``ValueError('cannot invert 0')`` for 0.

    The error comes from a helper two calls deep, so the traceback that travels back has some depth.
    """
    if isinstance(x, bool) or not isinstance(x, int | float):
        raise TypeError(f"inverse needs a number, not {type(x).__name__} {x!r}.")
    time.sleep(_seconds(seconds))
    _require_nonzero(x)
    return 1 / x


class TwoPartError(Exception):
    """A custom exception whose ``__init__`` takes two arguments but passes one message to ``Exception``.

    Pickle rebuilds an exception as ``TwoPartError(*self.args)``, that is with the one message, so
    unpickling it in the parent fails with a ``TypeError``.
    """

    def __init__(self, numerator, denominator):
        super().__init__(f"{numerator}/{denominator}")


class FixedTwoPartError(Exception):
    """The same exception, written so that pickle can rebuild it: every argument goes to ``Exception``."""

    def __init__(self, numerator, denominator):
        super().__init__(numerator, denominator)
        self.numerator, self.denominator = numerator, denominator

    def __str__(self) -> str:
        return f"{self.numerator}/{self.denominator}"


def raise_two_part_error(x) -> None:
    """Raise :class:`TwoPartError` for ``x``; in a process pool, the parent cannot unpickle it."""
    raise TwoPartError(x, 0)


def raise_fixed_two_part_error(x) -> None:
    """Raise :class:`FixedTwoPartError` for ``x``; it travels back from a process pool intact."""
    raise FixedTwoPartError(x, 0)


def _refuse_in_main_process(name: str) -> None:
    # os._exit() in the notebook's own process would kill the kernel: only pool workers may die.
    import multiprocessing  # here, not at the top: a subinterpreter importing this module never needs it

    if multiprocessing.parent_process() is None:
        raise RuntimeError(f"{name} only kills worker processes; here it would end this very process "
                           "(the kernel). Run it in a ProcessPoolExecutor.")


def square_or_die(x: int, poison: int, seconds: float = 0.0) -> int:
    """Return ``x * x`` after ``seconds`` of pretend work; for ``x == poison`` the worker process exits
    at once instead, as if it had been killed from outside.

    Use it only in a ``ProcessPoolExecutor``: the pool notices the dead worker and breaks
    (``BrokenProcessPool``). In the main process it refuses with ``RuntimeError`` instead of exiting.
    """
    if x == poison:
        _refuse_in_main_process("square_or_die")
        os._exit(13)
    time.sleep(_seconds(seconds))
    return x * x


def square_or_die_at_first(x: int, poison: int, marker_dir, deaths: int = 1, seconds: float = 0.0) -> int:
    """Like :func:`square_or_die`, but only the first ``deaths`` times ``poison`` is met: a passing accident.

    Each death leaves a marker file in ``marker_dir`` (created atomically, so two workers at once cannot
    claim the same one); once ``deaths`` markers exist, the poison input is computed like any other.
    With ``deaths=1`` this is a worker killed once, say by the out-of-memory killer, that works on a retry.
    """
    directory = Path(marker_dir)
    if not directory.is_dir():
        raise ValueError(f"marker_dir must be an existing folder, not {str(marker_dir)!r}.")
    if isinstance(deaths, bool) or not isinstance(deaths, int) or deaths < 0:
        raise ValueError(f"deaths must be a whole number of at least 0, not {deaths!r}.")
    if x == poison:
        _refuse_in_main_process("square_or_die_at_first")
        for k in range(1, deaths + 1):
            try:
                fd = os.open(directory / f"died-on-{poison}-{k}", os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                continue  # that death happened already
            os.close(fd)
            os._exit(13)
    time.sleep(_seconds(seconds))
    return x * x


def deaths_so_far(marker_dir) -> int:
    """How many workers :func:`square_or_die_at_first` has killed with this ``marker_dir``."""
    return len(list(Path(marker_dir).glob("died-on-*")))


def sum_of_squares(n: int) -> int:
    """``0**2 + 1**2 + ... + (n-1)**2`` in pure Python, like ``workloads.cpu_bound`` but NumPy-free."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"n must be a whole number of at least 0, not {n!r}.")
    total = 0
    for i in range(n):
        total += i * i
    return total


class FlakyService:
    """A pretend network service: ``fetch(x)`` returns ``x * x`` after a short wait, but fails at first.

    ``failures`` maps an input to how many of its first calls raise ``ConnectionError``; other inputs
    always work. ``attempts`` counts the calls per input. The counts live in this process, so use the
    service from threads (a ``ThreadPoolExecutor``), as you would for network calls.
    """

    def __init__(self, failures: dict | None = None, latency: float = 0.01):
        failures = {} if failures is None else failures
        if not isinstance(failures, dict) or not all(
                isinstance(k, int) and not isinstance(v, bool) and isinstance(v, int) and v >= 0
                for k, v in failures.items()):
            raise TypeError("failures must be a dict from input to a number of failures (0 or more), "
                            f"not {failures!r}.")
        self.failures = dict(failures)
        self.latency = _seconds(latency, "latency")
        self.attempts: Counter = Counter()
        self._lock = threading.Lock()

    def fetch(self, x: int) -> int:
        """Return ``x * x``, or raise ``ConnectionError`` while ``x`` still has failures left."""
        with self._lock:
            self.attempts[x] += 1
            attempt = self.attempts[x]
        time.sleep(self.latency)
        if attempt <= self.failures.get(x, 0):
            raise ConnectionError(f"fetch({x}) failed (attempt {attempt}): the service did not answer")
        return x * x
