"""Checkers for the exercises of lesson 02, the GIL."""

import contextlib
import math
import sys
import sysconfig
import time

from parallel_course import backends, resources, timeline
from parallel_course.checks import run
from parallel_course.lessons import gil

QUESTION = ("Ask of each task: does it spend its time running Python bytecode (needs the GIL), waiting "
            "(releases it), or inside C code that releases the GIL?")


def _two_ways(task, repeat: int = 2) -> tuple[float, float]:
    """Seconds for two runs of ``task``, one after the other on one thread and then on two (best of ``repeat``).

    Both use a thread pool, so that only the number of threads changes.
    """
    serial, threaded = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        backends.run("threads", task, [0, 1], 1)
        serial.append(time.perf_counter() - start)
        start = time.perf_counter()
        backends.run("threads", task, [0, 1], 2)
        threaded.append(time.perf_counter() - start)
    return min(serial), min(threaded)


def check_predictions(predict) -> bool:
    """Exercise: ``predict()`` returns ``{task name: True if two threads finish two such tasks sooner}``."""

    def body(check):
        tasks = gil.thread_tasks()
        got = check.call(predict)
        if not isinstance(got, dict) or set(got) != set(tasks):
            keys = sorted(got) if isinstance(got, dict) else got
            check.fail(f"return a dict with exactly the keys {sorted(tasks)}, not {keys!r}.")
        not_bool = [name for name in tasks if not isinstance(got[name], bool)]
        if not_bool:
            check.fail(f"each value must be True or False; look at {', '.join(not_bool)}.")
        wrong = [name for name, task in tasks.items() if got[name] != task.threads_help]
        if wrong:
            check.fail(f"{len(wrong)} of {len(tasks)} predictions are off (which ones is for you to find). "
                       f"{QUESTION}")
        lines = ["Measured here, 2 tasks on 2 threads against one after the other (best of 2; noisy, for "
                 "reading only):"]
        no_gain = []
        for name, task in tasks.items():
            serial, threaded = _two_ways(task)
            verdict = "yes" if task.threads_help else "no "
            lines.append(f"  {name:<12} {serial / threaded:4.2f}×  threads help: {verdict} ({task.why})")
            if task.threads_help and name != "sleep" and serial / threaded < 1.2:
                no_gain.append(name)
        cores, load = resources.usable_cores(), resources.load_average()
        if no_gain and cores >= 2:
            lines.append(f"Little or no gain here for {', '.join(no_gain)}, although the GIL is released: the "
                         "threads did not have two cores to themselves, most likely because other programs were "
                         "running. Run the cell again to see how much these numbers vary.")
        if load is not None and load > cores + 0.5:
            lines.append(f"The machine is busy (load average {load:.1f} on {cores} usable cores): other programs "
                         "compete for the cores, so these numbers are noisier than usual.")
        if cores < 2:
            lines.append("With 1 usable core only the sleep can overlap: C code that releases the GIL still "
                         "needs a second core to run at the same time.")
        if not gil.gil_enabled():
            lines.append("This kernel runs without the GIL, so the pure-Python tasks can overlap too: the "
                         "predictions above are for a standard build.")
        return check.passed("Each prediction matches how the task uses the GIL.\n" + "\n".join(lines))

    return run("Which tasks do threads speed up?", body)


def _spans(*pairs) -> list[timeline.Span]:
    return [timeline.Span(f"worker {i}", float(a), float(b), f"task {i}") for i, (a, b) in enumerate(pairs)]


OVERLAP_CASES = [
    ("a single span", _spans((0, 1)), 0.0),
    ("two spans one after the other", _spans((0, 1), (2, 3)), 0.0),
    ("two spans that only touch", _spans((0, 1), (1, 2)), 0.0),
    ("two identical spans", _spans((0, 2), (0, 2)), 1.0),
    ("two spans overlapping by a third", _spans((0, 2), (1, 3)), 1 / 3),
    ("a short span inside a long one", _spans((0, 4), (1, 2)), 0.25),
    ("three spans, given out of order", _spans((1, 4), (0, 3), (1, 2)), 0.5),
    ("an idle gap between busy stretches", _spans((0, 1), (0, 1), (5, 6)), 0.5),
]


def check_overlap_fraction(overlap_fraction) -> bool:
    """Exercise: ``overlap_fraction(spans)`` = time with 2+ spans running / time with 1+ running."""

    def body(check):
        for name, spans, want in OVERLAP_CASES:
            got = check.call(overlap_fraction, list(spans))
            if isinstance(got, bool) or not isinstance(got, int | float) or not math.isclose(got, want, abs_tol=1e-9):
                intervals = ", ".join(f"[{s.start:g}, {s.end:g}]" for s in spans)
                check.fail(f"for {name} ({intervals}) you returned {got!r}, expected {want:.4f}. Hint: walk "
                           "through the start and end times in order, counting how many spans are running; "
                           "time with nothing running counts for neither part.")
        recording = timeline.run("threads", timeline.Chunked(time.sleep, pieces=3), [0.002] * 4, 2)
        want = timeline.overlap_fraction(recording.spans)
        got = check.call(overlap_fraction, list(recording.spans))
        if not isinstance(got, int | float) or not math.isclose(got, want, abs_tol=1e-9):
            check.fail(f"on a real recording (4 short waits on 2 threads) you returned {got!r}, expected {want:.4f}.")
        return check.passed(f"On that real recording the two threads overlapped {want:.0%} of the busy time.")

    return run("Overlap fraction", body)


@contextlib.contextmanager
def _pretend(gil_attribute, py_gil_disabled):
    """Make ``sys._is_gil_enabled``, ``sysconfig.get_config_var('Py_GIL_DISABLED')``, ``sys.version`` and
    ``sys.abiflags`` look like another Python, so each documented way of telling the build gives its answer."""
    missing = object()
    saved_attribute = getattr(sys, "_is_gil_enabled", missing)
    saved_get = sysconfig.get_config_var
    saved_version = sys.version
    saved_abiflags = getattr(sys, "abiflags", None)  # POSIX only; "t" marks a free-threaded build
    number, _, rest = saved_version.replace("experimental free-threading build ", "").replace(
        "free-threading build ", "").partition(" ")

    def get_config_var(name):
        return py_gil_disabled if name == "Py_GIL_DISABLED" else saved_get(name)

    try:
        if gil_attribute is None:
            if saved_attribute is not missing:
                del sys._is_gil_enabled
        else:
            sys._is_gil_enabled = lambda: gil_attribute
        sysconfig.get_config_var = get_config_var
        # sys.version names a free-threaded build too ("3.14.0 free-threading build (main, ...)").
        sys.version = f"{number} free-threading build {rest}" if py_gil_disabled else f"{number} {rest}"
        if saved_abiflags is not None:
            sys.abiflags = saved_abiflags.replace("t", "") + ("t" if py_gil_disabled else "")
        yield
    finally:
        sys.version = saved_version
        if saved_abiflags is not None:
            sys.abiflags = saved_abiflags
        sysconfig.get_config_var = saved_get
        if saved_attribute is missing:
            if hasattr(sys, "_is_gil_enabled"):
                del sys._is_gil_enabled
        else:
            sys._is_gil_enabled = saved_attribute


GIL_CASES = [  # (what it imitates, sys._is_gil_enabled() or None if absent, Py_GIL_DISABLED, expected)
    ("Python 3.12 (no sys._is_gil_enabled)", None, None, (False, True)),
    ("Python 3.13, standard build", True, 0, (False, True)),
    ("Python 3.14t, free-threaded", False, 1, (True, False)),
    ("Python 3.14t with PYTHON_GIL=1", True, 1, (True, True)),
]


def check_gil_status(gil_status) -> bool:
    """Exercise: ``gil_status()`` returns ``(free_threaded_build, gil_enabled_now)`` on any Python version."""

    def body(check):
        for name, attribute, config, want in GIL_CASES:
            with _pretend(attribute, config):
                got = check.call(gil_status)
            if not isinstance(got, tuple | list) or len(got) != 2:
                check.fail(f"return a pair (free_threaded_build, gil_enabled), not {got!r}.")
            if not all(isinstance(v, bool) for v in got):
                check.fail(f"imitating {name} you returned {tuple(got)!r}: each of the two must be True or "
                           "False, not None or a number. Hint: bool(...) turns a config value into True or "
                           "False; decide what a missing function means before you return.")
            if tuple(got) != want:
                check.fail(f"imitating {name} you returned {tuple(got)!r}, expected {want}. Hint: as the "
                           "exercise says, ask sysconfig about the build and sys._is_gil_enabled() about now, "
                           "only where it exists, and inside your function (not once, outside it).")
        real = check.call(gil_status)
        want = (gil.free_threaded_build(), gil.gil_enabled())
        if tuple(bool(v) for v in real) != want:
            check.fail(f"on this very kernel you returned {tuple(real)!r}, expected {want}.")
        return check.passed(f"Here: free-threaded build {want[0]}, GIL enabled {want[1]}.")

    return run("Free-threaded or not?", body)


def check_switch_interval(switch_interval) -> bool:
    """Exercise: ``with switch_interval(s):`` sets ``sys.setswitchinterval(s)`` and always restores the old value."""

    def body(check):
        # Start from an unusual interval, so that an answer that "restores" a hard-coded default shows.
        saved = sys.getswitchinterval()
        sys.setswitchinterval(0.0037)
        original = sys.getswitchinterval()  # read back: Python keeps it in whole microseconds
        try:
            manager = check.call(switch_interval, 0.002)
            if not (hasattr(manager, "__enter__") and hasattr(manager, "__exit__")):
                check.fail("switch_interval(0.002) must return a context manager, usable in a with statement. "
                           "Hint: decorate a generator function with @contextlib.contextmanager.")
            try:
                with manager:
                    inside = sys.getswitchinterval()
            except NotImplementedError:
                raise
            except Exception as error:  # noqa: BLE001 - the learner's code becomes a hint
                check.fail(f"using it in a with block raised {type(error).__name__}: {error}")
            if not math.isclose(inside, 0.002, abs_tol=1e-6):
                check.fail(f"inside the with block the interval was {inside} s, expected 0.002 s.")
            if not math.isclose(sys.getswitchinterval(), original, abs_tol=1e-6):
                check.fail(f"after the with block the interval is {sys.getswitchinterval()} s, not the "
                           f"original {original} s. Hint: remember the old value before changing it.")
            raised, other = False, None
            manager = check.call(switch_interval, 0.02)
            try:
                with manager:
                    raise KeyError("boom")
            except KeyError:
                raised = True
            except Exception as error:  # noqa: BLE001 - the learner's code becomes a hint
                other = error
            if other is not None:
                check.fail(f"an error inside the with block came out as {type(other).__name__}: {other}")
            if not raised:
                check.fail("an error raised inside the with block disappeared: let it propagate.")
            if not math.isclose(sys.getswitchinterval(), original, abs_tol=1e-6):
                check.fail("after an error inside the with block the interval was not restored. Hint: restore it "
                           "in a finally clause.")
        finally:
            sys.setswitchinterval(saved)
        return check.passed(f"The interval went back to the {original * 1000:g} ms it was before, even after an "
                            "error.")

    return run("Switch interval, restored", body)
