"""Lesson 03's newer topics: asyncio clients, Queue.shutdown, excepthook, Semaphore, Barrier."""

import asyncio
import concurrent.futures as cf
import queue
import threading

import pytest

from parallel_course.lessons import aio, local_server, sync
from parallel_course.lessons.local_server import LocalServer, expected_body


@pytest.fixture
def server():
    with LocalServer(latency=0.05) as running:
        yield running
    assert local_server.running_servers() == 0


def test_fetch_async_answers_like_fetch(server):
    assert asyncio.run(aio.fetch_async(server.item_url(3))) == local_server.fetch(server.item_url(3))


def test_fetch_async_rejects_bad_input():
    with pytest.raises(ValueError):
        asyncio.run(aio.fetch_async("http://127.0.0.1:1/item/1", timeout=0))
    with pytest.raises((TypeError, ValueError)):
        asyncio.run(aio.fetch_async("https://example.com/"))


def test_fetch_all_keeps_order_and_respects_the_limit(server):
    urls = server.urls(12)
    server.reset_stats()
    answers = asyncio.run(aio.fetch_all(urls, limit=3))
    assert answers == [expected_body(i) for i in range(12)]
    assert server.most_in_flight <= 3


def test_fetch_all_overlaps_without_a_limit(server):
    run = asyncio.run(aio.time_asyncio(server, 12))
    assert run.most_in_flight > 1
    assert run.seconds < 12 * 0.05  # one at a time would take 0.6 s


def test_blocking_coroutine_serialises_the_requests(server):
    run = asyncio.run(aio.time_asyncio(server, 4, None, aio.blocking_fetch, "blocking"))
    assert run.most_in_flight == 1
    assert run.seconds >= 4 * 0.05


def test_bridges_to_executors_answer_correctly(server):
    urls = server.urls(6)
    expected = [expected_body(i) for i in range(6)]
    assert asyncio.run(aio.fetch_all(urls, fetcher=aio.via_to_thread)) == expected
    with cf.ThreadPoolExecutor(max_workers=2) as executor:
        server.reset_stats()
        assert asyncio.run(aio.fetch_all(urls, fetcher=aio.via_executor(executor))) == expected
    assert server.most_in_flight <= 2
    with pytest.raises(TypeError):
        aio.via_executor("not an executor")


def test_task_group_failure_leaves_nothing_running(server):
    urls = [*server.urls(3), server.item_url(1).replace("/item/1", "/missing")]
    with pytest.raises(ExceptionGroup):
        asyncio.run(aio.fetch_all(urls))


def test_fetch_all_rejects_a_bad_limit(server):
    with pytest.raises(ValueError):
        asyncio.run(aio.fetch_all(server.urls(2), limit=0))


def test_compare_clients_and_sweep(server):
    runs = asyncio.run(aio.compare_clients(server, 8, 4, repeat=1))
    assert len(runs) == 4 and all(len(group) == 1 for group in runs.values())
    assert all(run.count == 8 and run.seconds > 0 for group in runs.values() for run in group)
    sweep = asyncio.run(aio.concurrency_sweep(server, 8, [1, 4]))
    assert [run.limit for run in sweep] == [1, 4]
    assert sweep[0].most_in_flight == 1 and sweep[1].most_in_flight <= 4
    assert sweep[0].seconds >= 8 * 0.05
    assert "median" in aio.spread(runs[next(iter(runs))])


def test_timing_needs_a_running_server():
    with pytest.raises(ValueError):
        aio.time_thread_pool(LocalServer(latency=0.01), 2, 2)


def test_littles_law_and_median():
    assert aio.littles_law(8, 0.05) == pytest.approx(160)
    with pytest.raises(ValueError):
        aio.littles_law(0, 1)
    with pytest.raises(ValueError):
        aio.median_run([])
    assert aio.default_executor_workers() >= 5


@pytest.mark.skipif(not sync.QUEUE_HAS_SHUTDOWN, reason="queue.Queue.shutdown() needs Python 3.13+")
def test_pipeline_stops_with_shutdown():
    result = sync.pipeline(range(20), consumers=3, maxsize=4, stop="shutdown")
    assert sorted(result.results) == [(x, x * x) for x in range(20)]
    assert sum(result.per_consumer.values()) == 20


@pytest.mark.skipif(sync.QUEUE_HAS_SHUTDOWN, reason="only before 3.13")
def test_pipeline_shutdown_explains_the_version():
    with pytest.raises(RuntimeError, match="3.13"):
        sync.pipeline(range(3), stop="shutdown")


def test_pipeline_rejects_an_unknown_stop():
    with pytest.raises(ValueError):
        sync.pipeline(range(3), stop="later")


def test_shutdown_flag_matches_the_queue():
    assert sync.QUEUE_HAS_SHUTDOWN == hasattr(queue.Queue(), "shutdown")


def test_excepthook_records_and_is_restored():
    before = threading.excepthook
    with sync.recording_thread_exceptions() as failures:
        thread = threading.Thread(target=sync.fail, args=("no answer",), name="failing")
        thread.start()
        thread.join()
    assert [str(failure) for failure in failures] == ["thread 'failing' raised ValueError: no answer"]
    assert threading.excepthook is before


def test_semaphore_bounds_the_threads_inside():
    result = sync.limited_waits(threads=6, limit=2, hold=0.05)
    assert result.most_inside == 2
    assert result.seconds >= 3 * 0.05 * 0.9
    with pytest.raises(ValueError):
        sync.limited_waits(limit=0)


def test_bounded_semaphore_refuses_an_extra_release():
    assert sync.release_too_often(threading.BoundedSemaphore(1)) is True
    assert sync.release_too_often(threading.Semaphore(1)) is False
    with pytest.raises(TypeError):
        sync.release_too_often(42)


def test_barrier_keeps_phases_in_step():
    assert sync.phased_work(threads=3, phases=3, step=0.02).in_step
    assert not sync.phased_work(threads=3, phases=3, step=0.02, barrier=False).in_step
