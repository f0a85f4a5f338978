"""Lesson 04 (multiprocessing): the package module ``processes`` and the exercise checkers."""

import functools
import math
import multiprocessing
import pickle
import queue
import sys
import threading
import types
from multiprocessing import shared_memory

import numpy as np
import pytest

from parallel_course import backends, settings, workloads
from parallel_course.checks import lesson04
from parallel_course.lessons import processes

METHODS = multiprocessing.get_all_start_methods()
LAMBDA = lambda x: x  # noqa: E731 - a module-level lambda, as in a notebook


# --- the first processes -------------------------------------------------------------------------------


def test_hello_prints_one_whole_line(capsys):
    processes.hello(3)
    assert capsys.readouterr().out == "Worker: 3\n"


def test_hello_to_queue_and_exit_codes():
    q = queue.Queue()
    processes.hello_to_queue(2, q)
    assert q.get_nowait().startswith("Worker: 2 (pid ")
    with pytest.raises(SystemExit) as exit_info:
        processes.exit_with(3)
    assert exit_info.value.code == 3
    with pytest.raises(RuntimeError, match="on purpose"):
        processes.fail("on purpose")
    assert processes.noop() is None and processes.noop(1, 2) is None


@pytest.mark.parametrize("method", METHODS)
def test_processes_report_their_exit_codes(method):
    ctx = multiprocessing.get_context(method)
    codes = []
    for target, args in ((processes.noop, ()), (processes.exit_with, (3,))):
        p = ctx.Process(target=target, args=args)
        p.start()
        p.join(60)
        codes.append(p.exitcode)
    assert codes == [0, 3]


def test_pool_helpers():
    assert processes.power(2, 10) == 1024
    task, pid, name = processes.whoami("x")
    assert task == "x" and pid > 0 and name == "MainProcess"
    n = 1000
    assert processes.cpu_with_pid(n)[:2] == (n, workloads.cpu_bound_expected(n))


def test_pool_workers_are_named_after_their_start_method(start_method):
    with settings.mp_context().Pool(1) as pool:
        _, _, name = pool.apply(processes.whoami)
    assert name.startswith({"fork": "Fork", "spawn": "Spawn", "forkserver": "ForkServer"}[start_method])


# --- start methods ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
def test_start_seconds(method):
    times = processes.start_seconds(method, count=1, repeat=2)
    assert len(times) == 2 and all(t > 0 for t in times)


def test_start_seconds_bad_input():
    with pytest.raises(ValueError, match="start method must be one of"):
        processes.start_seconds("teleport")
    with pytest.raises(ValueError, match="number of processes must be a whole number"):
        processes.start_seconds(METHODS[0], count=0)
    with pytest.raises(ValueError, match="repeat must be a whole number"):
        processes.start_seconds(METHODS[0], repeat=0)


@pytest.mark.skipif("fork" not in METHODS, reason="no fork on this platform")
def test_a_forked_child_cannot_take_a_lock_held_by_another_thread():
    before = threading.active_count()
    assert processes.fork_with_held_lock(timeout=0.2) is False
    assert threading.active_count() == before  # the helper thread is gone


def test_fork_with_held_lock_bad_timeout():
    if "fork" not in METHODS:
        assert processes.fork_with_held_lock() is None
        return
    for bad in (0, -1, 11, "1"):
        with pytest.raises(ValueError, match="timeout must be a number of seconds"):
            processes.fork_with_held_lock(bad)


@pytest.mark.parametrize(("platform", "version", "expected"), [
    ("linux", (3, 11), "fork"), ("linux", (3, 13, 1), "fork"), ("linux", (3, 14), "forkserver"),
    ("darwin", (3, 12), "spawn"), ("darwin", (3, 14), "spawn"), ("win32", (3, 14), "spawn"),
    ("freebsd14", (3, 13), "fork"), ("freebsd14", (3, 15), "forkserver"),
])
def test_default_start_method(platform, version, expected):
    assert processes.default_start_method(platform, version) == expected


def test_default_start_method_matches_this_python():
    assert processes.default_start_method(sys.platform, sys.version_info) == METHODS[0]


@pytest.mark.parametrize(("platform", "version", "message"), [
    ("", (3, 14), "platform must be a name"), (None, (3, 14), "platform must be a name"),
    ("linux", "3.14", "version must be a tuple"), ("linux", (3,), "version must be a tuple"),
    ("linux", (3, "14"), "version must be a tuple"),
])
def test_default_start_method_bad_input(platform, version, message):
    with pytest.raises(TypeError, match=message):
        processes.default_start_method(platform, version)


# --- pickling and sending data ---------------------------------------------------------------------------


def test_pickle_report():
    assert processes.pickle_report(workloads.square).startswith("ok (")
    report = processes.pickle_report(LAMBDA)
    assert report.startswith("PicklingError") and " at 0x" not in report
    assert processes.pickle_report(threading.Lock()).startswith("TypeError: cannot pickle")
    assert processes.pickle_report(functools.partial(processes.power, exponent=2)).startswith("ok")


def test_payload_and_workers():
    data = processes.payload(1024)
    assert data.nbytes == 1024 and processes.nbytes_of(data) == 1024 and processes.sum_array(data) == 128.0
    assert processes.payload(3).size == 1
    with pytest.raises(ValueError, match="payload size in bytes must be a whole number"):
        processes.payload(0)


def test_transfer_seconds(start_method):
    with settings.mp_context().Pool(1) as pool:
        assert processes.transfer_seconds(pool, 2**16, repeat=2) > 0
        with pytest.raises(ValueError, match="repeat must be"):
            processes.transfer_seconds(pool, 1024, repeat=0)


# --- shared memory ---------------------------------------------------------------------------------------


def test_split_covers_everything_once():
    assert processes.split(10, 3) == [(0, 4), (4, 7), (7, 10)]
    assert processes.split(2, 5) == [(0, 1), (1, 2)]
    for length, parts in [(1, 1), (7, 7), (1000, 6)]:
        bounds = processes.split(length, parts)
        assert bounds[0][0] == 0 and bounds[-1][1] == length
        assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:], strict=False))
    with pytest.raises(ValueError, match="length must be a whole number"):
        processes.split(0, 2)
    with pytest.raises(ValueError, match="number of parts must be a whole number"):
        processes.split(5, 0)


def test_shared_array_is_zeroed_and_always_cleaned_up():
    with processes.shared_array((3, 4), "int32") as block:
        assert block.array.shape == (3, 4) and block.array.dtype == np.int32 and not block.array.any()
        assert block.spec.size == 12 and processes.segment_exists(block.name)
        name = block.name
        assert "open" in repr(block)
    assert not processes.segment_exists(name)
    assert "closed" in repr(block)
    with pytest.raises(RuntimeError, match="closed"):
        _ = block.array
    block.release()  # twice is fine

    with pytest.raises(KeyError), processes.shared_array(5) as block:
        name = block.name
        raise KeyError("boom")
    assert not processes.segment_exists(name)


def test_a_view_that_outlives_the_block_warns_but_leaves_nothing_behind():
    with pytest.warns(RuntimeWarning, match="still alive"):
        with processes.shared_array(8) as block:
            view = block.array[2:]
            name = block.name
    assert not processes.segment_exists(name)
    del view
    processes._close_when_free()
    assert not processes._STILL_MAPPED


def test_shared_copy_bad_input():
    with pytest.raises(TypeError, match="needs a NumPy array"):
        with processes.shared_copy([1, 2, 3]):
            pass
    with pytest.raises(ValueError, match="empty"):
        with processes.shared_copy(np.array([])):
            pass
    with pytest.raises(TypeError, match="Python objects"):
        with processes.shared_copy(np.array([1, "a"], dtype=object)):
            pass
    with pytest.raises(ValueError, match="shape must be"):
        with processes.shared_array((0, 3)):
            pass
    with pytest.raises(TypeError, match="not a NumPy dtype"):
        with processes.shared_array(3, "no-such-dtype"):
            pass


def test_shared_slices_in_this_process():
    data = np.arange(100, dtype=np.int64)
    with processes.shared_copy(data) as block:
        assert processes.sum_shared_slice(block.spec, 10, 20) == int(data[10:20].sum())
        assert processes.scale_shared_slice(block.spec, 0, 10, 3) == 10
        assert block.array[:10].tolist() == [3 * x for x in range(10)]
        with pytest.raises(ValueError, match="does not fit"):
            processes.sum_shared_slice(block.spec, 50, 101)
        with pytest.raises(TypeError, match="block.spec"):
            processes.sum_shared_slice(block.name, 0, 1)
        assert pickle.loads(pickle.dumps(block.spec)) == block.spec


@pytest.mark.parametrize("pool_first", [False, True], ids=["block-then-pool", "pool-then-block"])
def test_workers_share_memory_under_every_start_method(start_method, pool_first):
    data = np.arange(10_001, dtype=np.float64)
    ctx = settings.mp_context()
    bounds = processes.split(len(data), 2)
    if pool_first:  # the worst case for trackers: workers forked before the block exists
        with ctx.Pool(2) as pool, processes.shared_copy(data) as block:
            parts = pool.starmap(processes.sum_shared_slice, [(block.spec, a, b) for a, b in bounds])
            pool.starmap(processes.scale_shared_slice, [(block.spec, a, b, 2.0) for a, b in bounds])
            doubled = block.array.copy()
            name = block.name
    else:
        with processes.shared_copy(data) as block, ctx.Pool(2) as pool:
            parts = pool.starmap(processes.sum_shared_slice, [(block.spec, a, b) for a, b in bounds])
            pool.starmap(processes.scale_shared_slice, [(block.spec, a, b, 2.0) for a, b in bounds])
            doubled = block.array.copy()
            name = block.name
    assert sum(parts) == data.sum()
    assert np.array_equal(doubled, 2 * data)
    assert not processes.segment_exists(name)


def test_segment_exists_and_shm_names():
    with pytest.raises(TypeError, match="block's name"):
        processes.segment_exists("")
    with processes.shared_array(4) as block:
        if processes.shm_names():  # Linux
            assert block.name.lstrip("/") in processes.shm_names()
    assert not processes.segment_exists("psm_no_such_block_here")


# --- BLAS threads ----------------------------------------------------------------------------------------


def test_blas_task_is_deterministic():
    assert processes.blas_task(2, n=32) == processes.blas_task(2, n=32)
    with pytest.raises(ValueError, match="repeats must be"):
        processes.blas_task(0)
    with pytest.raises(ValueError, match="matrix size must be"):
        processes.blas_task(1, n=0)


def test_blas_threads_can_be_limited_in_a_worker(start_method):
    assert processes.blas_threads() >= 1
    ctx = settings.mp_context()
    with ctx.Pool(1, initializer=processes.set_blas_threads, initargs=(1,)) as pool:
        assert pool.apply(processes.blas_threads) == 1
    with ctx.Pool(1, initializer=backends.limit_blas_threads) as pool:
        assert pool.apply(processes.blas_threads) == 1
    with pytest.raises(ValueError, match="number of BLAS threads"):
        processes.set_blas_threads(0)


# --- the exercise checkers -------------------------------------------------------------------------------


def good_chunksize(n_items, workers):
    return max(1, math.ceil(n_items / (4 * workers)))


def good_squares(numbers, workers):
    with settings.mp_context().Pool(workers) as pool:
        return pool.map(workloads.square, numbers, chunksize=good_chunksize(len(numbers), workers))


def good_shared_total(array, workers):
    with processes.shared_copy(array) as block:
        jobs = [(block.spec, a, b) for a, b in processes.split(len(array), workers)]
        with settings.mp_context().Pool(workers, initializer=backends.limit_blas_threads) as pool:
            return sum(pool.starmap(processes.sum_shared_slice, jobs))


def good_power(exponent):
    return functools.partial(processes.power, exponent=exponent)


def test_right_answers_pass(strict, capsys):
    assert lesson04.check_chunked_squares(good_chunksize, good_squares)
    assert lesson04.check_shared_total(good_shared_total)
    assert lesson04.check_picklable_power(good_power)
    assert lesson04.check_default_start_method(processes.default_start_method)
    assert capsys.readouterr().out.count("✅") == 4


def test_shared_total_passes_under_spawn(strict, monkeypatch):
    monkeypatch.setenv("PARALLEL_COURSE_START_METHOD", "spawn")
    assert lesson04.check_shared_total(good_shared_total)


@pytest.mark.parametrize(("chunksize", "hint"), [
    (lambda n, w: 0, "at least 1"),
    (lambda n, w: n / (4 * w), "whole"),
    (lambda n, w: 1, "too little work"),
    (lambda n, w: n, "some workers get nothing"),
])
def test_wrong_chunksizes_get_a_hint(strict, chunksize, hint):
    with pytest.raises(AssertionError, match=hint):
        lesson04.check_chunked_squares(chunksize, good_squares)


def test_wrong_squares_get_a_hint(strict):
    with pytest.raises(AssertionError, match="expected"):
        lesson04.check_chunked_squares(good_chunksize, lambda numbers, workers: [x * 2 for x in numbers])
    with pytest.raises(AssertionError, match="return a list"):
        lesson04.check_chunked_squares(good_chunksize, lambda numbers, workers: None)
    with pytest.raises(AssertionError, match="raised ValueError"):
        lesson04.check_chunked_squares(good_chunksize, lambda numbers, workers: good_squares(numbers, 0))


def copying_total(array, workers):
    with settings.mp_context().Pool(workers) as pool:
        return sum(pool.map(processes.sum_array, np.array_split(array, workers)))


def leaking_total(array, workers):
    block = shared_memory.SharedMemory(create=True, size=array.nbytes)
    block.close()
    return array.sum().item()


def test_wrong_shared_totals_get_a_hint(strict):
    with pytest.raises(AssertionError, match="pickled to be sent to a worker"):
        lesson04.check_shared_total(copying_total)
    with pytest.raises(AssertionError, match="total is"):
        lesson04.check_shared_total(lambda array, workers: 0.5)
    with pytest.raises(AssertionError, match="as a number"):
        lesson04.check_shared_total(lambda array, workers: "many")
    before = processes.shm_names()
    try:
        if before or sys.platform == "linux":
            with pytest.raises(AssertionError, match="still exist"):
                lesson04.check_shared_total(leaking_total)
    finally:
        for name in processes.shm_names() - before:
            leaked = shared_memory.SharedMemory(name=name)
            leaked.close()
            leaked.unlink()


def test_wrong_powers_get_a_hint(strict, monkeypatch):
    with pytest.raises(AssertionError, match="cannot be pickled"):
        lesson04.check_picklable_power(lambda e: lambda x: x**e)
    with pytest.raises(AssertionError, match="not callable"):
        lesson04.check_picklable_power(lambda e: e)
    with pytest.raises(AssertionError, match=r"returned 0, expected 1"):
        lesson04.check_picklable_power(lambda e: functools.partial(processes.power, exponent=e + 1))

    def in_notebook(x, exponent):
        return x**exponent

    in_notebook.__module__, in_notebook.__qualname__ = "__main__", "in_notebook"
    monkeypatch.setattr(sys.modules["__main__"], "in_notebook", in_notebook, raising=False)
    with pytest.raises(AssertionError, match="defined in this notebook"):
        lesson04.check_picklable_power(lambda e: functools.partial(in_notebook, exponent=e))

    # A module this process has but a spawn worker cannot import: the worker dies, the check explains.
    fake = types.ModuleType("l04_only_in_this_process")

    def elsewhere(x, exponent):
        return x**exponent

    elsewhere.__module__ = fake.__name__
    elsewhere.__qualname__ = "elsewhere"
    fake.elsewhere = elsewhere
    monkeypatch.setitem(sys.modules, fake.__name__, fake)
    with pytest.raises(AssertionError, match="could not import"):
        lesson04.check_picklable_power(lambda e: functools.partial(elsewhere, exponent=e))


def test_wrong_start_methods_get_a_hint(strict):
    with pytest.raises(AssertionError, match="3.14 changed the default"):
        lesson04.check_default_start_method(lambda platform, version: "fork")
    with pytest.raises(AssertionError, match="macOS defaults to spawn"):
        lesson04.check_default_start_method(
            lambda platform, version: "spawn" if platform == "win32" else processes.default_start_method(
                "linux", version))
    with pytest.raises(AssertionError, match="kept fork as the default up to Python 3.13"):
        lesson04.check_default_start_method(lambda platform, version: "spawn")


def test_lenient_checks_print_and_return_false(lenient, capsys):
    assert not lesson04.check_default_start_method(lambda platform, version: "spawn")
    assert not lesson04.check_picklable_power(lambda e: None)
    assert capsys.readouterr().out.count("❌") == 2


def test_stubs_pass_through(strict):
    def stub(*args):
        raise NotImplementedError("write it")

    for check, args in ((lesson04.check_chunked_squares, (stub, stub)), (lesson04.check_shared_total, (stub,)),
                        (lesson04.check_picklable_power, (stub,)), (lesson04.check_default_start_method, (stub,))):
        with pytest.raises(NotImplementedError, match="write it"):
            check(*args)
