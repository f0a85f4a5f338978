"""asyncio against threads for I/O: the same requests to the lesson's local server, made both ways.

A thread pool waits for ``n`` requests with ``n`` threads, each blocked in the operating system. asyncio
waits for them with *one* thread: each request is a coroutine that says ``await`` where it would block,
and the event loop runs whichever coroutine has something to do. Everything here is a coroutine
function or a helper for one; a notebook awaits them at the top level of a cell (an IPython kernel
already runs an event loop), a script calls ``asyncio.run(main())``.

- :func:`fetch_async` is :func:`local_server.fetch` written for asyncio (``asyncio.open_connection``).
- :func:`fetch_all` starts one task per address in an ``asyncio.TaskGroup`` (3.11+), optionally bounded
  by an ``asyncio.Semaphore``.
- :func:`blocking_fetch` is the classic mistake: a blocking call inside a coroutine, which stalls the loop.
- :func:`via_to_thread` and :func:`via_executor` are the bridges to blocking code: the blocking
  :func:`local_server.fetch` run by ``asyncio.to_thread`` or ``loop.run_in_executor``.
- :func:`time_asyncio`, :func:`time_thread_pool`, :func:`compare_clients` and :func:`concurrency_sweep`
  time them on a :class:`local_server.LocalServer` and record what the server saw.
"""

import asyncio
import concurrent.futures as cf
import os
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from parallel_course import validate
from parallel_course.lessons import local_server

Fetcher = Callable[[str], Awaitable[str]]


async def fetch_async(url: str, timeout: float = 10.0) -> str:
    """GET ``url`` from a server on this machine without blocking the event loop; return the body.

    A minimal HTTP/1.0 client: connect, send the request, read until the server closes the connection.
    Every ``await`` is a point where the event loop may run other coroutines while this one waits.
    ``timeout`` (seconds) bounds the whole request (``asyncio.timeout``, 3.11+).
    """
    parts = urlsplit(local_server.check_url(url))
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        raise ValueError(f"The timeout must be a positive number of seconds, not {timeout!r}.")
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    async with asyncio.timeout(timeout):
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        try:
            writer.write(f"GET {target} HTTP/1.0\r\nHost: {parts.netloc}\r\n\r\n".encode())
            await writer.drain()
            raw = await reader.read()  # HTTP/1.0: the server closes the connection after its answer
        finally:
            writer.close()
            await writer.wait_closed()
    head, _, body = raw.partition(b"\r\n\r\n")
    status = head.split(None, 2)[1:2]
    if status != [b"200"]:
        raise OSError(f"{url} answered {head.splitlines()[0].decode(errors='replace') if head else 'nothing'}.")
    return body.decode()


async def via_to_thread(url: str) -> str:
    """The blocking :func:`local_server.fetch`, run in the event loop's default thread pool.

    ``asyncio.to_thread`` (3.9+) hands the call to ``loop.run_in_executor(None, ...)``; the default executor
    is a ``ThreadPoolExecutor`` with :func:`default_executor_workers` threads.
    """
    return await asyncio.to_thread(local_server.fetch, url)


async def blocking_fetch(url: str) -> str:
    """The classic asyncio mistake, on purpose: a coroutine that calls the *blocking* ``fetch``.

    There is no ``await`` around the wait, so the event loop's one thread sits in ``fetch`` and no other
    coroutine runs until it returns: the requests go one at a time, however many tasks there are.
    """
    return local_server.fetch(url)


def via_executor(executor: cf.Executor) -> Fetcher:
    """A fetcher that runs the blocking :func:`local_server.fetch` in ``executor`` (``run_in_executor``)."""
    if not isinstance(executor, cf.Executor):
        raise TypeError(f"Give a concurrent.futures executor, not {type(executor).__name__}.")

    async def fetch_in_executor(url: str) -> str:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(executor, local_server.fetch, url)

    return fetch_in_executor


def default_executor_workers() -> int:
    """Threads in a ``ThreadPoolExecutor()`` made without ``max_workers`` (what ``to_thread`` uses).

    The documented default is ``min(32, cpus + 4)``; from 3.13 it counts ``os.process_cpu_count()``.
    """
    cpus = getattr(os, "process_cpu_count", os.cpu_count)() or 1
    return min(32, cpus + 4)


def _bound(limit) -> int | None:
    if limit is None:
        return None
    return validate.positive_int(limit, "The concurrency limit")


async def fetch_all(urls, limit: int | None = None, fetcher: Fetcher = fetch_async) -> list[str]:
    """Fetch every address at once, one task each, at most ``limit`` at a time; answers in input order.

    The tasks run in an ``asyncio.TaskGroup``: the ``async with`` block ends only when every task has
    finished, and if one fails the group cancels the others and raises (an ``ExceptionGroup``), so no
    task is ever left running. ``limit`` is an ``asyncio.Semaphore``: a task waits at ``async with
    semaphore`` until fewer than ``limit`` requests are in flight. ``None`` means no limit.
    """
    urls = validate.items(urls)
    semaphore = asyncio.Semaphore(_bound(limit)) if limit is not None else None

    async def one(url: str) -> str:
        if semaphore is None:
            return await fetcher(url)
        async with semaphore:
            return await fetcher(url)

    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(one(url)) for url in urls]
    return [task.result() for task in tasks]


# --- Timing the clients on a LocalServer --------------------------------------------------------------------


@dataclass(frozen=True)
class FetchRun:
    """One timed client run: ``count`` requests, at most ``limit`` at a time (None: no limit)."""

    client: str
    count: int
    limit: int | None
    seconds: float
    cpu: float
    most_in_flight: int

    @property
    def throughput(self) -> float:
        """Requests answered per second of wall time."""
        return self.count / self.seconds

    def __str__(self) -> str:
        bound = "no limit" if self.limit is None else f"limit {self.limit}"
        return (f"{self.client:<34} {bound:>9}: {self.seconds:.3f} s wall, {self.cpu:.3f} s CPU, "
                f"{self.throughput:6.1f} requests/s, up to {self.most_in_flight} in flight")


def littles_law(concurrency: float, latency: float) -> float:
    """Little's law for a client: requests per second = requests in flight / seconds each one takes."""
    if concurrency <= 0 or latency <= 0:
        raise ValueError("The concurrency and the latency must both be positive.")
    return concurrency / latency


def _check_server(server) -> None:
    if not isinstance(server, local_server.LocalServer) or not server.running:
        raise ValueError(f"Give a running LocalServer (with LocalServer(...) as server:), not {server!r}.")


async def time_asyncio(server, count: int, limit: int | None = None, fetcher: Fetcher = fetch_async,
                       client: str = "asyncio (open_connection)") -> FetchRun:
    """Await :func:`fetch_all` of ``count`` addresses on ``server``; check every answer; time it."""
    _check_server(server)
    urls = server.urls(validate.positive_int(count, "The number of requests"))
    server.reset_stats()
    wall, cpu = time.perf_counter(), time.process_time()
    answers = await fetch_all(urls, limit, fetcher)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    _check_answers(answers, count)
    return FetchRun(client, count, limit, wall, cpu, server.most_in_flight)


def time_thread_pool(server, count: int, workers: int) -> FetchRun:
    """Fetch ``count`` addresses on ``server`` with a ``ThreadPoolExecutor`` of ``workers`` threads."""
    _check_server(server)
    urls = server.urls(validate.positive_int(count, "The number of requests"))
    workers = validate.positive_int(workers, "The number of threads")
    server.reset_stats()
    wall, cpu = time.perf_counter(), time.process_time()
    with cf.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fetcher") as pool:
        answers = list(pool.map(local_server.fetch, urls))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    _check_answers(answers, count)
    return FetchRun(f"ThreadPoolExecutor({workers})", count, workers, wall, cpu, server.most_in_flight)


def _check_answers(answers, count: int) -> None:
    if answers != [local_server.expected_body(i) for i in range(count)]:
        raise RuntimeError("Some answers were wrong or out of order: the client is broken.")


async def compare_clients(server, count: int, limit: int, repeat: int = 3) -> dict[str, list[FetchRun]]:
    """The same ``count`` requests, at most ``limit`` at a time, made by four clients, ``repeat`` times each.

    The clients take turns within each repeat (interleaved), after one untimed warm-up request each, so
    a slow moment of the machine hits them all alike. Returns every run, grouped by client. The
    thread-pool client blocks the event loop while it runs: nothing else runs on the loop meanwhile,
    and it is timed on its own, like the others.
    """
    _check_server(server)
    limit = validate.positive_int(limit, "The concurrency limit")
    validate.positive_int(repeat, "repeat")
    runs: dict[str, list[FetchRun]] = {}
    with cf.ThreadPoolExecutor(max_workers=limit, thread_name_prefix="bridge") as executor:
        async_clients = [
            ("asyncio (open_connection)", fetch_async),
            (f"asyncio.to_thread ({default_executor_workers()} threads)", via_to_thread),
            (f"run_in_executor(pool of {limit})", via_executor(executor)),
        ]
        time_thread_pool(server, 1, limit)  # warm-ups: first connections, the executors' first threads
        for name, fetcher in async_clients:
            await time_asyncio(server, 1, limit, fetcher, name)
        for _ in range(repeat):
            run = time_thread_pool(server, count, limit)
            runs.setdefault(run.client, []).append(run)
            for name, fetcher in async_clients:
                runs.setdefault(name, []).append(await time_asyncio(server, count, limit, fetcher, name))
    return runs


def median_run(runs: list[FetchRun]) -> FetchRun:
    """The run with the median wall time (the upper one of the two middle runs for an even number)."""
    if not runs:
        raise ValueError("There are no runs to take the median of.")
    ordered = sorted(runs, key=lambda run: run.seconds)
    return ordered[len(ordered) // 2]


async def concurrency_sweep(server, count: int, limits, repeat: int = 1) -> list[FetchRun]:
    """:func:`time_asyncio` of ``count`` requests at each concurrency limit in ``limits`` (median of ``repeat``)."""
    _check_server(server)
    limits = [validate.positive_int(limit, "A concurrency limit") for limit in validate.items(limits)]
    validate.positive_int(repeat, "repeat")
    await time_asyncio(server, 1)  # warm-up: the first connection
    samples: dict[int, list[FetchRun]] = {limit: [] for limit in limits}
    for _ in range(repeat):
        for limit in limits:
            samples[limit].append(await time_asyncio(server, count, limit))
    return [median_run(samples[limit]) for limit in limits]


def spread(runs: list[FetchRun]) -> str:
    """The median and the range of the wall times of ``runs``, as text."""
    seconds = [run.seconds for run in runs]
    return (f"median {statistics.median(seconds):.3f} s "
            f"(range {min(seconds):.3f}-{max(seconds):.3f} s, {len(runs)} runs)")
