"""Exercise checkers: a wrong answer gets a hint, not a traceback.

One module per lesson (``checks.lesson01`` ...) holds that lesson's ``check_...`` functions; this module
holds what they share.

Each ``check_...`` calls the learner's function on a few cases, prints ✅ or ❌ with a hint, and returns
a :class:`Verdict`, true or false like a bool. A ``NotImplementedError`` (the stub of an unsolved
exercise) passes through, so the learner sees the stub's own hint. With ``PARALLEL_COURSE_STRICT=1`` (set
by the test suite) a wrong answer raises ``AssertionError``, so a broken solution notebook fails CI.

Speed is reported, never asserted: timings on a shared machine are too noisy to mark an answer wrong.
A check judges structure instead: which processes ran the tasks, with what pool, holding which lock
(``checks.probes`` watches a learner's process pools). Learner code that runs a pool is called with a
timeout (:meth:`Check.call_within`), so a pool that waits for ever cannot hang the kernel.
"""

import threading

from parallel_course import settings
from parallel_course.checks.probes import NotebookWorker

POOL_TIMEOUT = 60.0  # seconds a checker waits for a learner's pool code before calling it stuck


class Check:
    """Collects the verdict of one exercise check."""

    def __init__(self, name: str):
        self.name = name

    def call(self, fn, *args):
        """Call the learner's ``fn``; turn an error (other than the stub's) into a hint."""
        try:
            return fn(*args)
        except NotImplementedError:
            raise
        except Exception as error:  # noqa: BLE001 - any error of the learner's code becomes a hint
            self.fail(f"your function raised {type(error).__name__}: {error}")

    def within(self, seconds: float, fn, *args):
        """Call ``fn(*args)`` in a helper thread; return its result or raise its error here. A call still
        running after ``seconds`` raises :class:`StuckPool`: a pool whose workers keep dying waits for ever,
        and the kernel would wait with it."""
        outcome = {}

        def target():
            try:
                outcome["value"] = fn(*args)
            except BaseException as error:  # noqa: BLE001 - raised again in the checker's thread
                outcome["error"] = error

        thread = threading.Thread(target=target, name=f"check: {self.name}", daemon=True)
        thread.start()
        thread.join(seconds)
        if thread.is_alive():
            raise StuckPool(f"your function had not finished after {seconds:g} s, so the check stopped waiting "
                            "(its pool may still be running: restart the kernel). Hint: a pool waits for ever "
                            "when its workers cannot import the task; send a function that lives in a module.")
        if "error" in outcome:
            raise outcome["error"]
        return outcome["value"]

    def call_within(self, seconds: float, fn, *args):
        """Like :meth:`call`, under :meth:`within`'s timeout, for learner code that runs a pool. A function
        refused by a :class:`~parallel_course.checks.probes.PoolProbe` becomes its hint."""
        try:
            return self.within(seconds, fn, *args)
        except NotImplementedError:
            raise
        except (NotebookWorker, StuckPool) as error:
            self.fail(str(error))
        except Exception as error:  # noqa: BLE001 - any error of the learner's code becomes a hint
            self.fail(f"your function raised {type(error).__name__}: {error}")

    def fail(self, hint: str):
        message = f"❌ {self.name}: {hint}"
        print(message)
        if settings.strict_checks():
            raise AssertionError(message)
        raise _Failed

    def passed(self, detail: str = "") -> bool:
        print(f"✅ {self.name}: correct." + (f" {detail}" if detail else ""))
        return True


class StuckPool(RuntimeError):
    """Raised by :meth:`Check.within` when the learner's code did not return in time."""


class _Failed(Exception):
    """Internal: stops a check after the hint was printed."""


class Verdict:
    """What a check returns: true when the answer was right. A notebook shows nothing for it (no stray
    ``True`` under the ✅ line), since the check has already printed its verdict."""

    def __init__(self, passed: bool):
        self.passed = bool(passed)

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        return f"Verdict(passed={self.passed})"

    def _ipython_display_(self) -> None:
        """Display nothing: the verdict was printed already."""


def run(name: str, body) -> Verdict:
    """Run ``body(check)``; a failed check returns a false Verdict after printing its hint."""
    check = Check(name)
    try:
        return Verdict(body(check))
    except _Failed:
        return Verdict(False)
