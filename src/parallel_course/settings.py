"""The course's knobs, read from environment variables (one place, so every lesson agrees).

- ``PARALLEL_COURSE_SIZE``: ``small`` (CI and Binder), ``default`` or ``large`` (workshop machines).
- ``PARALLEL_COURSE_START_METHOD``: ``fork``, ``spawn`` or ``forkserver`` for every process pool the
  package starts; unset means Python's own default for this platform and version.
- ``PARALLEL_COURSE_CORES``: pretend the machine has this many usable cores (try ``1`` to see Binder).
- ``PARALLEL_COURSE_STRICT``: when set to ``1``, exercise checkers raise on a wrong answer (the test suite
  sets it), instead of only printing a hint.
"""

import multiprocessing
import os

SIZES = ("small", "default", "large")
START_METHODS = ("fork", "spawn", "forkserver")


def size() -> str:
    """The problem size every lesson uses: ``small``, ``default`` or ``large``."""
    value = os.environ.get("PARALLEL_COURSE_SIZE", "default").strip().lower() or "default"
    if value not in SIZES:
        raise ValueError(f"PARALLEL_COURSE_SIZE must be one of {', '.join(SIZES)}, not {value!r}.")
    return value


def sized(default, *, small=None, large=None):
    """Pick the value for the current size; ``small`` and ``large`` fall back to ``default``."""
    chosen = {"small": small, "large": large}.get(size())
    return default if chosen is None else chosen


def start_method() -> str:
    """The start method for the package's process pools (the platform default when unset)."""
    value = os.environ.get("PARALLEL_COURSE_START_METHOD", "").strip().lower()
    if not value:
        # The first of get_all_start_methods() is the platform default; unlike get_start_method(),
        # asking this way does not freeze the default, so a learner can still call set_start_method().
        return multiprocessing.get_start_method(allow_none=True) or multiprocessing.get_all_start_methods()[0]
    if value not in multiprocessing.get_all_start_methods():
        allowed = ", ".join(multiprocessing.get_all_start_methods())
        raise ValueError(f"PARALLEL_COURSE_START_METHOD must be one of {allowed} here, not {value!r}.")
    return value


def mp_context(method: str | None = None):
    """A ``multiprocessing`` context for ``method``, or for the course's :func:`start_method` when None."""
    if method is None:
        return multiprocessing.get_context(start_method())
    allowed = multiprocessing.get_all_start_methods()
    if method not in allowed:
        raise ValueError(f"The start method must be one of {', '.join(allowed)} here, not {method!r}.")
    return multiprocessing.get_context(method)


def strict_checks() -> bool:
    """True when exercise checkers should raise instead of only printing a hint."""
    return os.environ.get("PARALLEL_COURSE_STRICT", "") == "1"
