"""Checkers for the exercises of lesson 05, concurrent.futures.

Each checker hands the learner's function an executor (or asks it to make its own), a task whose timing
it controls, and then looks at what happened: which tasks ran, when results were reported, how many
attempts and how many pools it took.
"""

import concurrent.futures as cf
import functools
import tempfile
import threading
import time

from parallel_course import settings
from parallel_course.checks import POOL_TIMEOUT, StuckPool, probes, run
from parallel_course.checks.probes import NotebookWorker
from parallel_course.lessons import futures_demo


def _require_function(check, fn) -> None:
    if not callable(fn):
        check.fail(f"pass your function itself (its name, without calling it), not {type(fn).__name__} {fn!r}.")


class _TimedTask:
    """A task for thread pools: sleeps ``delays[item]``, returns ``item * 10``, records start and end times."""

    def __init__(self, delays: dict):
        self.delays = dict(delays)
        self.started: dict = {}
        self.finished: dict = {}
        self._lock = threading.Lock()

    def __call__(self, item):
        with self._lock:
            self.started[item] = time.perf_counter()
        time.sleep(self.delays[item])
        with self._lock:
            self.finished[item] = time.perf_counter()
        return item * 10


def check_ordered_results(ordered_results) -> bool:
    """Exercise: ``ordered_results(executor, fn, items, report)`` reports each result as soon as it is
    ready (``report(item, result)``) and returns all results in the order of ``items``."""

    def body(check):
        _require_function(check, ordered_results)
        delays = {0: 0.45, 1: 0.3, 2: 0.15, 3: 0.02}  # the first item is the slowest
        task = _TimedTask(delays)
        reports = []

        def report(item, result):
            reports.append((item, result, time.perf_counter()))

        with cf.ThreadPoolExecutor(max_workers=len(delays)) as executor:
            got = check.call(ordered_results, executor, task, list(delays), report)
        want = [item * 10 for item in delays]
        if got != want:
            check.fail(f"expected the results {want} (in the order of the items), got {got!r}. Hint: keep a "
                       "dict from each future to its position, and fill a list as the futures complete.")
        reported = sorted((item, result) for item, result, _ in reports)
        if reported != [(item, item * 10) for item in delays]:
            check.fail(f"report(item, result) should be called once per item; the calls were "
                       f"{[(i, r) for i, r, _ in reports]}.")
        first_item, _, first_time = reports[0]
        if first_time > task.finished[0]:
            check.fail(f"the first report (item {first_item}) came only after the slowest task had finished. "
                       "Hint: loop over as_completed(...) and report each result the moment its future is done.")
        order = [item for item, _, _ in reports]
        return check.passed(f"Reported in the order {order} (fastest first), returned in the order {list(delays)}.")

    return run("Report as completed, return in order", body)


def check_with_retries(with_retries) -> bool:
    """Exercise: ``with_retries(executor, fn, items, retries)`` resubmits failed tasks up to ``retries``
    more times each, returns the results in order, and raises the last error of a task that never works."""

    def body(check):
        _require_function(check, with_retries)
        items = list(range(6))
        service = futures_demo.FlakyService({1: 1, 3: 2}, latency=0.01)
        callers = set()

        def fetch(x):
            callers.add(threading.get_ident())
            return service.fetch(x)

        with cf.ThreadPoolExecutor(max_workers=4) as executor:
            try:
                got = with_retries(executor, fetch, items, 2)
            except NotImplementedError:
                raise
            except ConnectionError as error:
                check.fail(f"your function let a passing failure through ({error}). Hint: a failed task must be "
                           "submitted again, up to `retries` more times, before you give up on it.")
            except Exception as error:  # noqa: BLE001 - any error of the learner's code becomes a hint
                check.fail(f"your function raised {type(error).__name__}: {error}")
        want = [x * x for x in items]
        if got != want:
            check.fail(f"expected {want}, got {got!r}. Hint: when future.exception() is not None, submit "
                       "the same item again, at most `retries` more times.")
        if threading.get_ident() in callers or not callers:
            check.fail("some calls of fn ran in your own thread instead of the executor's threads. Hint: "
                       "every call, first tries and retries alike, goes through executor.submit.")
        expected_attempts = {0: 1, 1: 2, 2: 1, 3: 3, 4: 1, 5: 1}
        if dict(service.attempts) != expected_attempts:
            check.fail(f"the calls per item were {dict(service.attempts)}, expected {expected_attempts}: "
                       "retry only the items that failed, and only until they work.")

        hopeless = futures_demo.FlakyService({2: 5}, latency=0.01)
        with cf.ThreadPoolExecutor(max_workers=4) as executor:
            try:
                result = with_retries(executor, hopeless.fetch, [1, 2, 3], 2)
            except NotImplementedError:
                raise
            except ConnectionError:
                pass
            except Exception as error:  # noqa: BLE001 - any other error becomes a hint
                check.fail(f"item 2 never works, so the function should raise its ConnectionError; it raised "
                           f"{type(error).__name__}: {error}")
            else:
                check.fail(f"item 2 fails 5 times, more than retries=2 allows, yet your function returned "
                           f"{result!r}. Hint: after the last retry, raise the task's exception (future.result() "
                           "does that).")
        if hopeless.attempts[2] != 3:
            check.fail(f"item 2 was tried {hopeless.attempts[2]} times; with retries=2 that should be 3 "
                       "(the first try and 2 retries).")
        return check.passed("Every failing item was retried just enough, and a hopeless one raised its error.")

    return run("Retry failed tasks", body)


def check_results_before(results_before) -> bool:
    """Exercise: ``results_before(executor, fn, items, timeout)`` returns ``{item: result}`` for the tasks
    done within ``timeout`` seconds, cancels the tasks that have not started, and returns at the deadline."""

    def body(check):
        _require_function(check, results_before)
        delays = {0: 0.05, 1: 0.05, 2: 0.1, 3: 1.5, 4: 1.5, 5: 0.05, 6: 0.05}
        timeout = 0.5
        task = _TimedTask(delays)
        with cf.ThreadPoolExecutor(max_workers=2) as executor:
            start = time.perf_counter()
            got = check.call(results_before, executor, task, list(delays), timeout)
            elapsed = time.perf_counter() - start
            try:
                still_open = executor.submit(int, "7").result(timeout=10) == 7
            except RuntimeError:
                still_open = False
        want = {0: 0, 1: 10, 2: 20}
        if got != want:
            check.fail(f"with 2 workers and a {timeout} s deadline, tasks 0, 1 and 2 finish in time: expected "
                       f"{want}, got {got!r}. Hint: catch the TimeoutError of as_completed(..., timeout=...).")
        if elapsed > 1.2:
            check.fail(f"your function returned after {elapsed:.2f} s, long after the {timeout} s deadline. Hint: "
                       "do not wait for running tasks (no `with executor:` and no shutdown(wait=True) here).")
        late = sorted(item for item in task.started if item in (5, 6))
        if late:
            check.fail(f"tasks {late} still started after the deadline. Hint: call cancel() on every future "
                       "that is not done, so the pending ones never start.")
        if not still_open:
            check.fail("after your function returned, the executor it was given refused new work: it was shut "
                       "down. The executor belongs to the caller, who may still need it. Hint: cancel the "
                       "futures that have not started instead of shutting the executor down.")
        return check.passed(f"Returned after {elapsed:.2f} s with {len(got)} results; tasks 5 and 6 never ran.")

    return run("Results before a deadline", body)


def _only_unfinished(check, probe, items) -> None:
    """Fail when a later pool was given every item again although an earlier one had finished some."""
    pools = list(dict.fromkeys(use.token for use in probe.uses))
    finished = set()
    for token in pools:
        started = {n for args in probe.tasks(token, "start") for n in probes.numbers_in(args)}
        if finished and started >= set(items):
            check.fail(f"a new pool ran every item again, although items {sorted(finished)} had already "
                       "finished in an earlier one. Hint: keep the results you have and give the fresh pool "
                       "only the unfinished items.")
        finished |= {n for args in probe.tasks(token, "done") for n in probes.numbers_in(args)}


def check_survive_crashes(run_surviving_crashes) -> bool:
    """Exercise: ``run_surviving_crashes(fn, items, workers, max_rounds)`` survives dead workers by
    retrying the unfinished items in a fresh ``ProcessPoolExecutor``, for at most ``max_rounds`` pools."""

    def body(check):
        _require_function(check, run_surviving_crashes)
        items = list(range(8))
        with tempfile.TemporaryDirectory() as markers:
            task = functools.partial(futures_demo.square_or_die_at_first, poison=3, marker_dir=markers,
                                     deaths=1, seconds=0.02)
            try:
                with probes.PoolProbe() as probe:
                    got = check.within(POOL_TIMEOUT, run_surviving_crashes, task, items, 2, 3)
            except NotImplementedError:
                raise
            except cf.BrokenExecutor:
                check.fail("a worker died once and your function gave up with BrokenProcessPool. Hint: catch "
                           "it, keep the results you have, and run the unfinished items in a new executor.")
            except (NotebookWorker, StuckPool) as error:
                check.fail(str(error))
            except Exception as error:  # noqa: BLE001
                check.fail(f"your function raised {type(error).__name__}: {error}")
            deaths = futures_demo.deaths_so_far(markers)
        want = [x * x for x in items]
        if got != want:
            check.fail(f"expected {want} (in the order of the items), got {got!r}.")
        if deaths != 1:
            check.fail(f"the task should have killed one worker, but {deaths} died: did you run it in a "
                       "ProcessPoolExecutor?")

        with tempfile.TemporaryDirectory() as markers:
            # This one kills a worker the first 6 times, so an unbounded loop still ends (and is caught).
            task = functools.partial(futures_demo.square_or_die_at_first, poison=5, marker_dir=markers,
                                     deaths=6, seconds=0.02)
            try:
                result = check.within(POOL_TIMEOUT, run_surviving_crashes, task, items, 2, 2)
            except NotImplementedError:
                raise
            except cf.BrokenExecutor:
                result = None
            except (NotebookWorker, StuckPool) as error:
                check.fail(str(error))
            except Exception as error:  # noqa: BLE001
                check.fail(f"when every round breaks, raise BrokenProcessPool; your function raised "
                           f"{type(error).__name__}: {error}")
            deaths = futures_demo.deaths_so_far(markers)
        if result is not None or deaths != 2:
            outcome = "raised" if result is None else f"returned {result!r}"
            check.fail(f"item 5 kills a worker in every round; with max_rounds=2, {deaths} worker(s) died (one "
                       f"per pool) and then your function {outcome}. Hint: stop after max_rounds pools and raise "
                       "the last BrokenProcessPool.")
        sizes = sorted({use.workers for use in probe.uses})
        if sizes != [2]:
            check.fail(f"you were asked for workers=2, but your executors had max_workers {sizes}. Hint: pass "
                       "workers on to every executor you create.")
        _only_unfinished(check, probe, items)
        return check.passed(f"Recovered from a dead worker, and gave up after 2 rounds on a poison input "
                            f"(start method: {settings.start_method()}).")

    return run("Survive a dead worker", body)
