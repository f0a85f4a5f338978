"""Regression tests for the checker loopholes of the lessons 00-05 review (section C, C1-C13).

Each wrong answer the review found passing must now fail with a hint (a printed ❌ line and a false
Verdict, not a traceback), and the right answers must still pass, also on a busy machine.
"""

import concurrent.futures as cf
import contextlib
import math
import os
import subprocess
import sys
import sysconfig
import time

import numpy as np
import pytest

from parallel_course import backends, settings, workloads
from parallel_course.checks import lesson01, lesson02, lesson03, lesson04, lesson05, probes
from parallel_course.lessons import futures_demo, processes, sync


def fails_with(capsys, verdict, hint: str) -> None:
    """The check returned a false Verdict and printed a ❌ line containing ``hint``."""
    out = capsys.readouterr().out
    assert not verdict, out
    assert "❌" in out and hint in out, out
    assert "Traceback" not in out


# --- C1: check_parallel_total --------------------------------------------------------------------------


def parallel_total(sizes, workers):
    return sum(backends.run("processes", workloads.cpu_bound, sizes, workers))


def test_c1_parallel_total_refuses_a_serial_loop(lenient, capsys):
    verdict = lesson01.check_parallel_total(lambda sizes, workers: sum(workloads.cpu_bound(n) for n in sizes))
    fails_with(capsys, verdict, "no worker process computed it")


def test_c1_parallel_total_refuses_the_formula(lenient, capsys):
    verdict = lesson01.check_parallel_total(
        lambda sizes, workers: sum(workloads.cpu_bound_expected(n) for n in sizes))
    fails_with(capsys, verdict, "no worker process computed it")


def test_c1_parallel_total_refuses_a_single_worker(lenient, capsys):
    verdict = lesson01.check_parallel_total(lambda sizes, workers: parallel_total(sizes, 1))
    fails_with(capsys, verdict, "only one worker process")


def test_c1_parallel_total_passes_the_right_answer(strict, capsys):
    assert lesson01.check_parallel_total(parallel_total)
    assert "2 worker processes computed" in capsys.readouterr().out


# --- C2: check_chunked_squares -------------------------------------------------------------------------


def chunksize_for(n_items, workers):
    return max(1, math.ceil(n_items / (4 * workers)))


def squares(numbers, workers, pool_size=None):
    with settings.mp_context().Pool(processes=pool_size or workers) as pool:
        return pool.map(workloads.square, numbers, chunksize=chunksize_for(len(numbers), workers))


def squares_without_chunksize(numbers, workers):
    with settings.mp_context().Pool(processes=workers) as pool:
        return pool.map(workloads.square, numbers)


def test_c2_chunked_squares_refuses_a_list_comprehension(lenient, capsys):
    verdict = lesson04.check_chunked_squares(chunksize_for, lambda numbers, workers: [x * x for x in numbers])
    fails_with(capsys, verdict, "no multiprocessing pool mapped them")


def test_c2_chunked_squares_checks_the_pools_chunksize(lenient, capsys):
    verdict = lesson04.check_chunked_squares(chunksize_for, squares_without_chunksize)
    fails_with(capsys, verdict, "chunksize=None")


def test_c2_chunked_squares_checks_the_pools_size(lenient, capsys):
    verdict = lesson04.check_chunked_squares(chunksize_for, lambda numbers, workers: squares(numbers, workers, 1))
    fails_with(capsys, verdict, "worker processes, but workers was")


def test_c2_chunked_squares_passes_the_right_answer(strict, start_method, capsys):
    assert lesson04.check_chunked_squares(chunksize_for, squares)
    assert "2 workers squared" in capsys.readouterr().out


# --- C3 and C13: check_shared_total --------------------------------------------------------------------


def shared_total(array, workers):
    with processes.shared_copy(array) as block:
        jobs = [(block.spec, start, stop) for start, stop in processes.split(len(array), workers)]
        with settings.mp_context().Pool(processes=workers) as pool:
            return sum(pool.starmap(processes.sum_shared_slice, jobs))


def total_of_copies(array, workers):
    with cf.ProcessPoolExecutor(workers, mp_context=settings.mp_context()) as pool:
        return float(sum(pool.map(processes.sum_array, np.array_split(np.asarray(array), workers))))


def shared_but_summed_here(array, workers):
    with processes.shared_copy(array) as block:
        return float(block.array.sum())


def test_c3_shared_total_refuses_a_sum_in_this_process(lenient, capsys):
    verdict = lesson04.check_shared_total(lambda array, workers: float(np.asarray(array).sum()))
    fails_with(capsys, verdict, "no shared-memory block was created")


def test_c3_shared_total_refuses_copies_sent_to_workers(lenient, capsys):
    fails_with(capsys, lesson04.check_shared_total(total_of_copies), "no shared-memory block was created")


def test_c3_shared_total_refuses_a_block_no_worker_opened(lenient, capsys):
    fails_with(capsys, lesson04.check_shared_total(shared_but_summed_here), "no worker process opened it")


def test_c3_shared_total_passes_the_right_answer(strict, start_method, capsys):
    assert lesson04.check_shared_total(shared_total)
    assert "each opened the shared block" in capsys.readouterr().out


@pytest.mark.skipif(not os.path.isdir("/dev/shm"), reason="needs /dev/shm")
def test_c13_a_block_of_another_program_is_not_blamed_on_the_answer(strict):
    foreign = f"/dev/shm/psm_other_program_{os.getpid()}"

    def shared_total_while_another_program_works(array, workers):
        with open(foreign, "wb") as file:  # another program's block, made during the call and left there
            file.write(b"x")
        return shared_total(array, workers)

    try:
        assert lesson04.check_shared_total(shared_total_while_another_program_works)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(foreign)


# --- C4: a worker defined in the notebook does not hang the kernel --------------------------------------


def notebook_function(name: str = "square"):
    """A function whose module is ``__main__``, as one defined in a notebook cell is."""
    namespace = {"__name__": "__main__"}
    exec(f"def {name}(x):\n    return x * x\n", namespace)
    return namespace[name]


def test_c4_a_main_module_function_is_not_importable():
    assert notebook_function().__module__ == "__main__"
    assert not probes.importable(notebook_function())
    assert not probes.importable(lambda x: x)
    assert probes.importable(workloads.square) and probes.importable(processes.power)
    assert probes.refusal(workloads.square) is None
    assert "defined in this notebook" in probes.refusal(notebook_function())


@pytest.mark.parametrize("method", ["spawn", "forkserver"])
def test_c4_chunked_squares_refuses_a_notebook_worker_before_it_hangs(lenient, monkeypatch, capsys, method):
    monkeypatch.setenv("PARALLEL_COURSE_START_METHOD", method)
    square = notebook_function()

    def squares_with_a_notebook_worker(numbers, workers):
        with settings.mp_context().Pool(processes=workers) as pool:
            return pool.map(square, numbers, chunksize=chunksize_for(len(numbers), workers))

    start = time.perf_counter()
    verdict = lesson04.check_chunked_squares(chunksize_for, squares_with_a_notebook_worker)
    fails_with(capsys, verdict, "defined in this notebook")
    assert time.perf_counter() - start < 30


def test_c4_shared_total_refuses_a_notebook_worker_even_if_the_answer_swallows_the_error(lenient, monkeypatch,
                                                                                       capsys):
    monkeypatch.setenv("PARALLEL_COURSE_START_METHOD", "spawn")
    summer = notebook_function("sum_slice")

    def swallowing(array, workers):
        try:
            with settings.mp_context().Pool(processes=workers) as pool:
                pool.map(summer, [1, 2])
        except Exception:  # noqa: BLE001 - the wrong answer hides the error
            pass
        return float(np.asarray(array).sum())

    fails_with(capsys, lesson04.check_shared_total(swallowing), "defined in this notebook")


def test_c4_pool_code_that_never_returns_gets_a_hint_after_the_timeout(lenient, monkeypatch, capsys):
    monkeypatch.setattr(lesson04, "POOL_TIMEOUT", 0.5)
    fails_with(capsys, lesson04.check_shared_total(lambda array, workers: time.sleep(3)), "had not finished after")


def test_c4_a_notebook_initializer_is_refused_too(lenient, capsys):
    init = notebook_function("init")

    def squares_with_initializer(numbers, workers):
        with settings.mp_context().Pool(processes=workers, initializer=init, initargs=(1,)) as pool:
            return pool.map(workloads.square, numbers, chunksize=chunksize_for(len(numbers), workers))

    fails_with(capsys, lesson04.check_chunked_squares(chunksize_for, squares_with_initializer), "initializer")


# --- C5: racy answers of lesson 03 fail on GIL builds too ------------------------------------------------


def record_visit_racy(stats, page, lock):
    with lock:
        pass
    stats[page] = stats.get(page, 0) + 1


def record_visit(stats, page, lock):
    with lock:
        count = stats.get(page, 0)
        sync.think()
        stats[page] = count + 1


def transfer_racy(source, target, amount):
    first, second = sorted((source, target), key=lambda account: account.number)
    with first.lock, second.lock:
        pass
    source.balance -= amount
    target.balance += amount


def transfer_one_lock_at_a_time(source, target, amount):
    with source.lock:
        source.balance -= amount
    with target.lock:
        target.balance += amount


def transfer(source, target, amount):
    first, second = sorted((source, target), key=lambda account: account.number)
    with first.lock, second.lock:
        source.balance -= amount
        target.balance += amount


@pytest.mark.parametrize("attempt", range(3))  # the review's racy answers passed 3/3 and 2/3: now never
def test_c5_racy_counter_fails_every_time(lenient, capsys, attempt):
    fails_with(capsys, lesson03.check_record_visit(record_visit_racy), "without holding the lock")


@pytest.mark.parametrize("attempt", range(3))
def test_c5_racy_transfer_fails_every_time(lenient, capsys, attempt):
    fails_with(capsys, lesson03.check_transfer(transfer_racy), "did not hold the locks of both accounts")


def test_c5_a_transfer_holding_one_lock_at_a_time_fails(lenient, capsys):
    fails_with(capsys, lesson03.check_transfer(transfer_one_lock_at_a_time), "both accounts")


def test_c5_right_lesson03_answers_pass(strict):
    assert lesson03.check_record_visit(record_visit)
    assert lesson03.check_transfer(transfer)


# --- C6: check_cpu_share on a busy machine ---------------------------------------------------------------


def cpu_share(fn, arg):
    wall, cpu = time.perf_counter(), time.process_time()
    fn(arg)
    return (time.process_time() - cpu) / (time.perf_counter() - wall)


@contextlib.contextmanager
def cpu_burners(count: int, seconds: float):
    """``count`` other processes that keep CPUs busy for up to ``seconds``."""
    code = f"import time\nend = time.monotonic() + {seconds}\nwhile time.monotonic() < end:\n    pass\n"
    burners = [subprocess.Popen([sys.executable, "-c", code]) for _ in range(count)]
    try:
        time.sleep(0.3)
        yield
    finally:
        for burner in burners:
            burner.kill()
            burner.wait()


def test_c6_a_right_cpu_share_passes_while_other_processes_burn_cpu(strict):
    with cpu_burners(count=(os.cpu_count() or 2) + 1, seconds=20):
        assert lesson01.check_cpu_share(cpu_share)


def test_c6_a_wrong_cpu_share_still_fails(lenient, capsys):
    def wall_over_cpu(fn, arg):
        wall, cpu = time.perf_counter(), time.process_time()
        fn(arg)
        return (time.perf_counter() - wall) / max(time.process_time() - cpu, 1e-9)

    fails_with(capsys, lesson01.check_cpu_share(wall_over_cpu), "io_bound")
    fails_with(capsys, lesson01.check_cpu_share(lambda fn, arg: 0.01), "checker's own reading")


# --- C7, C8, C9: lesson 05 -------------------------------------------------------------------------------


def retries_without_executor(executor, fn, items, retries):
    results = []
    for item in items:
        for attempt in range(retries + 1):
            try:
                results.append(fn(item))
                break
            except ConnectionError:
                if attempt == retries:
                    raise
    return results


def test_c7_retries_without_the_executor_fail(lenient, capsys):
    fails_with(capsys, lesson05.check_with_retries(retries_without_executor), "executor's threads")


def surviving_crashes(fn, items, workers, max_rounds, everything: bool = False):
    results, crash = {}, None
    for _ in range(max_rounds):
        todo = list(range(len(items))) if everything else [i for i in range(len(items)) if i not in results]
        with cf.ProcessPoolExecutor(max_workers=workers, mp_context=settings.mp_context()) as executor:
            futures = {executor.submit(fn, items[i]): i for i in todo}
            cf.wait(futures)
        for future, i in futures.items():
            if future.exception() is None:
                results[i] = future.result()
            else:
                crash = future.exception()
        if all(future.exception() is None for future in futures):
            return [results[i] for i in range(len(items))]
    raise crash


def test_c8_one_worker_instead_of_workers_fails(lenient, capsys):
    verdict = lesson05.check_survive_crashes(lambda fn, items, workers, rounds: surviving_crashes(fn, items, 1, rounds))
    fails_with(capsys, verdict, "max_workers [1]")


def test_c8_resubmitting_every_item_fails(lenient, capsys):
    verdict = lesson05.check_survive_crashes(
        lambda fn, items, workers, rounds: surviving_crashes(fn, items, workers, rounds, everything=True))
    fails_with(capsys, verdict, "ran every item again")


def test_c8_the_right_answer_passes(strict, start_method):
    assert lesson05.check_survive_crashes(surviving_crashes)


def results_before_then_shutdown(executor, fn, items, timeout):
    futures = {executor.submit(fn, item): item for item in items}
    results = {}
    with contextlib.suppress(TimeoutError):
        for future in cf.as_completed(futures, timeout=timeout):
            results[futures[future]] = future.result()
    executor.shutdown(wait=False, cancel_futures=True)
    return results


def test_c9_shutting_down_the_callers_executor_fails(lenient, capsys):
    fails_with(capsys, lesson05.check_results_before(results_before_then_shutdown), "it was shut down")


def test_c14_the_timing_checks_still_refuse_a_serial_fetch(lenient, capsys):
    def one_at_a_time(executor, fn, items, report):
        results = [fn(item) for item in items]
        for item, result in zip(items, results, strict=True):
            report(item, result)
        return results

    fails_with(capsys, lesson05.check_ordered_results(one_at_a_time), "only after the slowest task")
    assert futures_demo.FlakyService  # the checkers' own helpers stay importable


# --- C10, C11, C12 and a pair of booleans: lesson 02 ----------------------------------------------------


@contextlib.contextmanager
def switch_interval_restoring_the_default(seconds):
    sys.setswitchinterval(seconds)
    try:
        yield
    finally:
        sys.setswitchinterval(0.005)


def test_c10_a_hard_coded_restore_fails(lenient, capsys):
    before = sys.getswitchinterval()
    fails_with(capsys, lesson02.check_switch_interval(switch_interval_restoring_the_default), "not the original")
    assert sys.getswitchinterval() == before


def right_predictions():
    return {name: task.threads_help for name, task in lesson02.gil.thread_tasks().items()}


def test_c11_a_wrong_prediction_is_counted_not_named(lenient, capsys):
    wrong = {**right_predictions(), "json": True}
    verdict = lesson02.check_predictions(lambda: wrong)
    out = capsys.readouterr().out
    assert not verdict and "1 of 7 predictions are off" in out
    assert "json" not in out


def gil_status_from_sys_version():
    build = "free-threading build" in sys.version
    is_enabled = getattr(sys, "_is_gil_enabled", None)
    return build, True if is_enabled is None else bool(is_enabled())


def gil_status(none_for_unknown: bool = False):
    build = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
    is_enabled = getattr(sys, "_is_gil_enabled", None)
    if is_enabled is None:
        return (None, 1) if none_for_unknown else (build, True)
    return build, bool(is_enabled())


def gil_status_from_abiflags():
    is_enabled = getattr(sys, "_is_gil_enabled", None)
    return "t" in sys.abiflags, True if is_enabled is None else bool(is_enabled())


def test_c12_gil_status_accepts_each_documented_method(strict):
    before = (sys.version, getattr(sys, "abiflags", None))
    assert lesson02.check_gil_status(gil_status_from_sys_version)
    assert lesson02.check_gil_status(gil_status)
    if hasattr(sys, "abiflags"):
        assert lesson02.check_gil_status(gil_status_from_abiflags)
    assert (sys.version, getattr(sys, "abiflags", None)) == before


def test_a_pair_of_booleans_refuses_none_and_one(lenient, capsys):
    fails_with(capsys, lesson02.check_gil_status(lambda: gil_status(none_for_unknown=True)), "True or")


def test_c4_survive_crashes_refuses_a_notebook_wrapper_and_stops_waiting(lenient, monkeypatch, capsys):
    def wrapped(fn, items, workers, rounds):
        return surviving_crashes(lambda x: fn(x), items, workers, rounds)

    fails_with(capsys, lesson05.check_survive_crashes(wrapped), "defined in this notebook")
    monkeypatch.setattr(lesson05, "POOL_TIMEOUT", 0.5)
    fails_with(capsys, lesson05.check_survive_crashes(lambda fn, items, workers, rounds: time.sleep(3)),
               "had not finished after")
