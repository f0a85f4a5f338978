"""Lesson 05 (concurrent.futures): the tasks of ``futures_demo`` and the exercise checkers."""

import concurrent.futures as cf
import functools
import threading

import pytest

from parallel_course import settings, workloads
from parallel_course.checks import lesson05
from parallel_course.lessons import futures_demo


def pool(workers=2):
    return cf.ProcessPoolExecutor(max_workers=workers, mp_context=settings.mp_context())


# ------------------------------------------------------------------------------------------ futures_demo

def test_sleepy_task_and_who_ran_me():
    assert futures_demo.sleepy_task("a", 0) == "a"
    task, pid, thread = futures_demo.who_ran_me(7)
    assert task == 7 and pid > 0 and thread == threading.current_thread().name


@pytest.mark.parametrize("seconds", [-1, "1", None, True])
def test_bad_seconds(seconds):
    with pytest.raises(ValueError, match="must be a number of seconds of at least 0"):
        futures_demo.sleepy_task(1, seconds)


def test_inverse():
    assert futures_demo.inverse(4) == 0.25
    with pytest.raises(ValueError, match="cannot invert 0"):
        futures_demo.inverse(0)
    with pytest.raises(TypeError, match="needs a number, not str"):
        futures_demo.inverse("4")


def test_sum_of_squares_matches_the_workload():
    assert futures_demo.sum_of_squares(1000) == workloads.cpu_bound_expected(1000)
    with pytest.raises(ValueError, match="whole number of at least 0"):
        futures_demo.sum_of_squares(-5)


def test_dying_tasks_refuse_to_kill_this_process(tmp_path):
    assert futures_demo.square_or_die(3, poison=5) == 9
    with pytest.raises(RuntimeError, match="only kills worker processes"):
        futures_demo.square_or_die(5, poison=5)
    assert futures_demo.square_or_die_at_first(3, 5, tmp_path) == 9
    with pytest.raises(RuntimeError, match="only kills worker processes"):
        futures_demo.square_or_die_at_first(5, 5, tmp_path)


def test_dying_tasks_bad_input(tmp_path):
    with pytest.raises(ValueError, match="marker_dir must be an existing folder"):
        futures_demo.square_or_die_at_first(1, 5, tmp_path / "missing")
    with pytest.raises(ValueError, match="deaths must be a whole number"):
        futures_demo.square_or_die_at_first(1, 5, tmp_path, deaths=-1)


def test_a_dead_worker_breaks_the_pool(start_method):
    with pool() as executor:
        futures = [executor.submit(futures_demo.square_or_die, x, 3, 0.02) for x in range(8)]
        cf.wait(futures)
        with pytest.raises(cf.process.BrokenProcessPool):
            executor.submit(futures_demo.square_or_die, 1, 3)
    assert isinstance(futures[3].exception(), cf.process.BrokenProcessPool)
    assert futures[0].result() == 0


def test_die_at_first_dies_only_the_given_number_of_times(start_method, tmp_path):
    task = functools.partial(futures_demo.square_or_die_at_first, poison=2, marker_dir=tmp_path, deaths=1)
    with pool() as executor:
        with pytest.raises(cf.process.BrokenProcessPool):
            executor.submit(task, 2).result()
    assert futures_demo.deaths_so_far(tmp_path) == 1
    with pool() as executor:
        assert list(executor.map(task, range(5))) == [0, 1, 4, 9, 16]
    assert futures_demo.deaths_so_far(tmp_path) == 1


def test_flaky_service_fails_first_then_works():
    service = futures_demo.FlakyService({2: 2}, latency=0)
    assert service.fetch(1) == 1
    for attempt in (1, 2):
        with pytest.raises(ConnectionError, match=f"attempt {attempt}"):
            service.fetch(2)
    assert service.fetch(2) == 4
    assert service.attempts == {1: 1, 2: 3}


def test_flaky_service_counts_calls_from_many_threads():
    service = futures_demo.FlakyService(latency=0)
    with cf.ThreadPoolExecutor(max_workers=8) as executor:
        assert list(executor.map(service.fetch, [1] * 200)) == [1] * 200
    assert service.attempts[1] == 200


@pytest.mark.parametrize("failures", [[1, 2], {1: -1}, {1: "2"}, {"a": 1}])
def test_flaky_service_bad_input(failures):
    with pytest.raises(TypeError, match="failures must be a dict"):
        futures_demo.FlakyService(failures)


# -------------------------------------------------------------------------------------------- checkers

def ordered_results(executor, fn, items, report):
    futures = {executor.submit(fn, item): i for i, item in enumerate(items)}
    results = [None] * len(items)
    for future in cf.as_completed(futures):
        i = futures[future]
        results[i] = future.result()
        report(items[i], results[i])
    return results


def ordered_results_in_finish_order(executor, fn, items, report):
    results = []
    futures = {executor.submit(fn, item): item for item in items}
    for future in cf.as_completed(futures):
        results.append(future.result())
        report(futures[future], results[-1])
    return results


def ordered_results_reported_late(executor, fn, items, report):
    results = list(executor.map(fn, items))
    for item, result in zip(items, results, strict=True):
        report(item, result)
    return results


def with_retries(executor, fn, items, retries):
    results, todo = {}, list(range(len(items)))
    for _ in range(retries + 1):
        futures = {executor.submit(fn, items[i]): i for i in todo}
        todo = []
        for future, i in futures.items():
            if future.exception() is None:
                results[i] = future.result()
            else:
                todo.append(i)
                error = future.exception()
        if not todo:
            return [results[i] for i in range(len(items))]
    raise error


def with_no_retries(executor, fn, items, retries):
    return list(executor.map(fn, items))


def with_retries_of_everything(executor, fn, items, retries):
    for _ in range(retries + 1):
        futures = [executor.submit(fn, item) for item in items]
        if all(f.exception() is None for f in futures):
            return [f.result() for f in futures]
    return [f.result() for f in futures]


def with_retries_swallowing_errors(executor, fn, items, retries):
    results = []
    for item in items:
        for _ in range(retries + 1):
            future = executor.submit(fn, item)
            if future.exception() is None:
                results.append(future.result())
                break
        else:
            results.append(None)
    return results


def results_before(executor, fn, items, timeout):
    futures = {executor.submit(fn, item): item for item in items}
    results = {}
    try:
        for future in cf.as_completed(futures, timeout=timeout):
            results[futures[future]] = future.result()
    except TimeoutError:
        pass
    for future in futures:
        future.cancel()
    return results


def results_before_without_cancel(executor, fn, items, timeout):
    futures = {executor.submit(fn, item): item for item in items}
    done, _ = cf.wait(futures, timeout=timeout)
    return {futures[f]: f.result() for f in done}


def results_before_waiting_for_all(executor, fn, items, timeout):
    futures = {executor.submit(fn, item): item for item in items}
    done, _ = cf.wait(futures, timeout=timeout)
    results = {futures[f]: f.result() for f in done}
    for future in futures:
        future.cancel()
    executor.shutdown(wait=True)
    return results


def run_surviving_crashes(fn, items, workers, max_rounds):
    results = {}
    for _ in range(max_rounds):
        todo = [i for i in range(len(items)) if i not in results]
        try:
            with pool(workers) as executor:
                futures = {executor.submit(fn, items[i]): i for i in todo}
                for future in cf.as_completed(futures):
                    results[futures[future]] = future.result()
        except cf.process.BrokenProcessPool as error:
            crash = error
            continue
        return [results[i] for i in range(len(items))]
    raise crash


def run_without_recovery(fn, items, workers, max_rounds):
    with pool(workers) as executor:
        return list(executor.map(fn, items))


def run_until_it_works(fn, items, workers, max_rounds):
    while True:
        try:
            return run_without_recovery(fn, items, workers, max_rounds)
        except cf.process.BrokenProcessPool:
            continue


def not_done(*args):
    raise NotImplementedError("write it")


RIGHT = [(lesson05.check_ordered_results, ordered_results),
         (lesson05.check_with_retries, with_retries),
         (lesson05.check_results_before, results_before)]
WRONG = [
    (lesson05.check_ordered_results, ordered_results_in_finish_order, "in the order of the items"),
    (lesson05.check_ordered_results, ordered_results_reported_late, "only after the slowest task"),
    (lesson05.check_with_retries, with_no_retries, "a failed task must be submitted again"),
    (lesson05.check_with_retries, with_retries_of_everything, "retry only the items that failed"),
    (lesson05.check_with_retries, with_retries_swallowing_errors, "yet your function returned"),
    (lesson05.check_results_before, results_before_without_cancel, r"tasks \[5, 6\] still started"),
    (lesson05.check_results_before, results_before_waiting_for_all, "long after the 0.5 s deadline"),
    (lesson05.check_survive_crashes, run_without_recovery, "gave up with BrokenProcessPool"),
    (lesson05.check_survive_crashes, run_until_it_works, "stop after max_rounds"),
]
CHECKERS = [lesson05.check_ordered_results, lesson05.check_with_retries, lesson05.check_results_before,
            lesson05.check_survive_crashes]


@pytest.mark.parametrize(("checker", "answer"), RIGHT, ids=lambda x: getattr(x, "__name__", ""))
def test_right_answers_pass(strict, checker, answer, capsys):
    assert checker(answer)
    assert "✅" in capsys.readouterr().out


def test_crash_recovery_passes_under_every_start_method(strict, start_method, capsys):
    assert lesson05.check_survive_crashes(run_surviving_crashes)
    assert start_method in capsys.readouterr().out


@pytest.mark.parametrize(("checker", "answer", "hint"), WRONG, ids=lambda x: getattr(x, "__name__", ""))
def test_wrong_answers_fail_with_a_hint(strict, checker, answer, hint):
    with pytest.raises(AssertionError, match=hint):
        checker(answer)


def test_a_wrong_answer_only_prints_for_a_learner(lenient, capsys):
    assert not lesson05.check_results_before(results_before_without_cancel)
    out = capsys.readouterr().out
    assert "❌" in out and "Hint" in out


@pytest.mark.parametrize("checker", CHECKERS, ids=lambda c: c.__name__)
def test_the_stub_passes_through(checker):
    with pytest.raises(NotImplementedError, match="write it"):
        checker(not_done)


@pytest.mark.parametrize("checker", CHECKERS, ids=lambda c: c.__name__)
def test_not_a_function_gets_one_sentence(strict, checker):
    with pytest.raises(AssertionError, match="pass your function itself"):
        checker(42)
