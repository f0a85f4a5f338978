"""Lesson 03 (threading): the sync helpers, the local server, and the exercise checkers."""

import concurrent.futures as cf
import queue
import sys
import threading
import time
import urllib.error

import pytest

from parallel_course.checks import lesson03
from parallel_course.lessons import local_server, sync
from parallel_course.lessons.local_server import LocalServer, fetch

# --- sync ------------------------------------------------------------------------------------------------


def test_the_race_loses_updates_and_the_lock_fixes_it():
    racy = sync.run_counter(sync.unsafe_increment, threads=4, times=20_000)
    assert racy.expected == 80_000 and racy.lost > 0, str(racy)
    safe = sync.run_counter(sync.locked_increment, threads=4, times=5_000, lock=threading.Lock())
    assert safe.lost == 0 and safe.counted == 20_000
    assert "updates lost" in str(safe)


def test_the_switch_interval_is_always_restored():
    before = sys.getswitchinterval()
    with pytest.raises(RuntimeError), sync.switch_interval(1e-6):
        assert sys.getswitchinterval() == pytest.approx(1e-6)
        raise RuntimeError("boom")
    assert sys.getswitchinterval() == before


def test_rlock_can_be_taken_twice_and_lock_cannot():
    assert sync.try_reentry(threading.RLock()) is True
    assert sync.try_reentry(threading.Lock(), timeout=0.05) is False
    account = sync.Account(1)
    account.deposit_all([1, 2, 3])
    assert account.balance == 6


def test_deadlock_is_reported_not_suffered():
    bad = sync.deadlock_demo("opposite", hold=0.05, timeout=0.2)
    assert bad.deadlocked and bad.seconds < 3 and "DEADLOCK" in str(bad)
    good = sync.deadlock_demo("same", hold=0.01, timeout=0.5)
    assert not good.deadlocked and sum("got both locks" in e for e in good.events) == 2


def test_acquire_in_order_takes_and_releases_every_lock():
    a, b = threading.Lock(), threading.Lock()
    with sync.acquire_in_order(b, a, b):
        assert a.locked() and b.locked()
    assert not a.locked() and not b.locked()


def test_pipeline_processes_every_item_and_stops():
    before = threading.active_count()
    result = sync.pipeline(range(12), consumers=3, maxsize=2, work=lambda x: x * x)
    assert sorted(result.results) == [(x, x * x) for x in range(12)]
    assert sum(result.per_consumer.values()) == 12
    assert threading.active_count() == before
    assert repr(sync.STOP) == "STOP" and sync._Stop() is sync.STOP


def test_ticker_stops_when_the_event_is_set():
    stop, ticks = threading.Event(), []
    thread = threading.Thread(target=sync.ticker, args=(stop, 0.01, ticks))
    thread.start()
    time.sleep(0.1)
    stop.set()
    thread.join(timeout=1)
    assert not thread.is_alive() and ticks


def test_daemon_threads_die_at_exit_and_others_are_waited_for():
    daemon = sync.exit_demo(True, seconds=0.3)
    assert daemon.lines == ["main: reached the end of the program"]
    normal = sync.exit_demo(False, seconds=0.3)
    assert normal.lines[-1].startswith("worker: finished") and normal.seconds >= 0.3


def test_gil_enabled_answers_a_bool():
    assert isinstance(sync.gil_enabled(), bool)


def test_sync_bad_input_gives_one_clear_sentence():
    with pytest.raises(ValueError, match="number of threads must be a whole number"):
        sync.run_counter(threads=0)
    with pytest.raises(TypeError, match="increment must be a function"):
        sync.run_counter(increment=3)
    with pytest.raises(ValueError, match="order must be 'opposite' or 'same'"):
        sync.deadlock_demo("random")
    with pytest.raises(ValueError, match="timeout must be a number of seconds"):
        sync.deadlock_demo(timeout=-1)
    with pytest.raises(ValueError, match="switch interval must be a positive number"):
        with sync.switch_interval(0):
            pass
    with pytest.raises(TypeError, match="Give a lock"):
        sync.try_reentry("lock")
    with pytest.raises(ValueError, match="maxsize must be a whole number"):
        sync.pipeline([1], maxsize=-1)
    with pytest.raises(ValueError, match="task list is empty"):
        sync.pipeline([])
    with pytest.raises(TypeError, match="daemon must be True or False"):
        sync.exit_demo("yes")


# --- local_server ------------------------------------------------------------------------------------------


def test_server_answers_and_stops():
    with LocalServer(latency=0.0) as server:
        assert server.base_url.startswith("http://127.0.0.1:") and server.port > 0
        assert fetch(server.item_url(7)) == local_server.expected_body(7) == "item 7"
        record = local_server.fetch_timed(server.item_url(2, delay=0.05))
        assert record.body == "item 2" and record.end - record.start >= 0.05
        assert server.served == 2
        url = server.item_url(1)
        with pytest.raises(urllib.error.HTTPError):
            fetch(server.base_url + "/nothing")
    assert not server.running
    with pytest.raises(urllib.error.URLError):
        fetch(url, timeout=2)


def test_threads_overlap_the_waiting():
    with LocalServer(latency=0.1) as server:
        urls = server.urls(8)
        start = time.perf_counter()
        with cf.ThreadPoolExecutor(max_workers=8) as pool:
            bodies = list(pool.map(fetch, urls))
        seconds = time.perf_counter() - start
        assert bodies == [f"item {i}" for i in range(8)]
        assert server.most_in_flight >= 2  # overlap, never a speed ratio (the machine may be busy)
        assert seconds < 8 * 0.1 * 2


def test_stop_all_and_restart():
    first = LocalServer(0).start()
    assert first.start() is first  # starting twice is harmless
    assert local_server.running_servers() >= 1
    assert local_server.stop_all() >= 1 and not first.running
    first.stop()  # stopping twice is harmless
    assert local_server.running_servers() == 0


def test_server_bad_input_gives_one_clear_sentence():
    with pytest.raises(ValueError, match="latency must be a number of seconds"):
        LocalServer(latency=-1)
    with pytest.raises(ValueError, match="only talks to this machine"):
        fetch("https://example.com/")
    with pytest.raises(TypeError, match="address must be a string"):
        fetch(42)
    with pytest.raises(ValueError, match="timeout must be a positive number"):
        fetch("http://127.0.0.1:1/item/1", timeout=0)
    with pytest.raises(RuntimeError, match="server is not running"):
        LocalServer().port  # noqa: B018
    with LocalServer(0) as server:
        with pytest.raises(ValueError, match="item number must be a whole number"):
            server.item_url(-1)
        with pytest.raises(ValueError, match="delay must be a number of seconds"):
            server.item_url(1, delay=60)
        with pytest.raises(urllib.error.HTTPError):
            fetch(server.base_url + "/item/1?delay=banana")


# --- checkers ---------------------------------------------------------------------------------------------


def record_visit_right(stats, page, lock):
    with lock:
        count = stats.get(page, 0)
        sync.think()
        stats[page] = count + 1


def record_visit_no_lock(stats, page, lock):
    count = stats.get(page, 0)
    sync.think()
    stats[page] = count + 1


def record_visit_keeps_lock(stats, page, lock):
    lock.acquire()
    stats[page] = stats.get(page, 0) + 1


def transfer_ordered(source, target, amount):
    first, second = sorted((source, target), key=lambda account: account.number)
    with first.lock, second.lock:
        source.balance -= amount
        target.balance += amount


def transfer_deadlocks(source, target, amount):
    with source.lock, target.lock:
        source.balance -= amount
        target.balance += amount


def transfer_no_locks(source, target, amount):
    source.balance -= amount
    target.balance += amount


def stage_right(inbox, outbox, work):
    while (item := inbox.get()) is not sync.STOP:
        outbox.put(work(item))
    outbox.put(sync.STOP)


def stage_never_stops(inbox, outbox, work):
    while True:
        item = inbox.get()
        if item is not sync.STOP:
            outbox.put(work(item))


def stage_swallows_stop(inbox, outbox, work):
    while (item := inbox.get()) is not sync.STOP:
        outbox.put(work(item))


def stage_works_on_stop(inbox, outbox, work):
    while True:
        item = inbox.get()
        outbox.put(work(item))
        if item is sync.STOP:
            return


def fetch_all_right(urls, workers):
    with cf.ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(fetch, urls))


def fetch_all_serial(urls, workers):
    return [fetch(url) for url in urls]


def fetch_all_unordered(urls, workers):
    with cf.ThreadPoolExecutor(max_workers=workers) as pool:
        return [f.result() for f in cf.as_completed([pool.submit(fetch, url) for url in urls])]


def fetch_all_too_many(urls, workers):
    with cf.ThreadPoolExecutor(max_workers=len(urls)) as pool:
        return list(pool.map(fetch, urls))


def unsolved(*args):
    raise NotImplementedError("Write your solution here.")


CASES = {
    "check_record_visit": (record_visit_right, [
        (record_visit_no_lock, "without holding the lock"),
        (record_visit_keeps_lock, "still held"),
    ]),
    "check_transfer": (transfer_ordered, [
        (transfer_deadlocks, "deadlock"),
        (transfer_no_locks, "must hold the locks"),
    ]),
    "check_stage": (stage_right, [
        (stage_never_stops, "kept waiting"),
        (stage_swallows_stop, "kept waiting|second stage never stopped|not \\[6, 8, STOP\\]"),
        (stage_works_on_stop, "raised TypeError"),
    ]),
    "check_fetch_all": (fetch_all_right, [
        (fetch_all_serial, "one after the other"),
        (fetch_all_unordered, "wrong order"),
        (fetch_all_too_many, "max_workers=workers"),
    ]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_right_answers_pass(name, strict, capsys):
    right, _ = CASES[name]
    assert getattr(lesson03, name)(right)
    assert "✅" in capsys.readouterr().out


@pytest.mark.parametrize("name,wrong,hint", [(n, w, h) for n, (_, ws) in CASES.items() for w, h in ws],
                         ids=lambda v: getattr(v, "__name__", None) if callable(v) else None)
def test_wrong_answers_fail_with_a_hint(name, wrong, hint, strict):
    with pytest.raises(AssertionError, match=hint):
        getattr(lesson03, name)(wrong)


def test_wrong_answer_is_a_hint_not_a_traceback_for_learners(lenient, capsys):
    assert not lesson03.check_record_visit(record_visit_keeps_lock)
    assert "❌" in capsys.readouterr().out


@pytest.mark.parametrize("name", sorted(CASES))
def test_unsolved_stub_passes_its_hint_through(name, strict):
    with pytest.raises(NotImplementedError):
        getattr(lesson03, name)(unsolved)


def test_checkers_leave_no_thread_and_no_server_behind(strict):
    before = threading.active_count()
    lesson03.check_transfer(transfer_ordered)
    lesson03.check_fetch_all(fetch_all_right)
    with pytest.raises(AssertionError):
        lesson03.check_transfer(transfer_deadlocks)
    with pytest.raises(AssertionError):
        lesson03.check_stage(stage_never_stops)
    time.sleep(0.1)
    assert threading.active_count() == before
    assert local_server.running_servers() == 0


def test_watched_primitives_never_wait_forever():
    lock = lesson03.WatchedLock("a test lock")
    lock.acquire()
    assert lock.acquire(timeout=0.01) is False and lock.acquire(blocking=False) is False
    lock.release()
    q = lesson03.WatchedQueue()
    with pytest.raises(queue.Empty):
        q.get(timeout=0.01)
