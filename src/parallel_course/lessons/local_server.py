"""A tiny web server on this machine that answers slowly on purpose, to practise I/O-bound threading.

Real programs wait for networks, disks and databases. To measure that kind of waiting without the
internet (Binder and CI may have none, and a public site is no fair benchmark), the course starts its
own server inside the notebook's process, in a background thread:

    with LocalServer(latency=0.1) as server:        # binds 127.0.0.1 on a free port
        fetch(server.item_url(7))                    # -> "item 7", after about 0.1 s

It listens on the loopback address only (nobody else can reach it), on port 0 (the operating system
picks a free port, so two learners on one JupyterHub never collide), and the ``with`` block always stops
it. The server answers each request in a new thread of its own (``ThreadingHTTPServer``: one thread per
request, with no limit), so it can serve many requests at once. That is the simplest design, not what
production servers do: they use an event loop (nginx, uvicorn on asyncio) or a bounded pool of workers
(gunicorn), and ``http.server`` is documented as not meant for production. The server also runs inside
the client's own process, so it shares the client's GIL and its CPU time counts in the client's
``process_time()``.

``GET /item/<n>`` answers ``item <n>`` after the server's ``latency``, or after ``?delay=<seconds>``.
"""

import re
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from parallel_course import validate

HOST = "127.0.0.1"
LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")
MAX_DELAY = 5.0
ITEM = re.compile(r"^/item/(\d+)$")
_RUNNING: set = set()
_RUNNING_LOCK = threading.Lock()


def expected_body(number: int) -> str:
    """What the server answers for item ``number``."""
    return f"item {number}"


def _delay_value(value, name: str = "The delay") -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= MAX_DELAY:
        raise ValueError(f"{name} must be a number of seconds from 0 to {MAX_DELAY:g}, not {value!r}.")
    return float(value)


class _Handler(BaseHTTPRequestHandler):
    """Answers ``GET /item/<n>[?delay=s]`` after a delay; everything else is 404."""

    server: "_Server"
    protocol_version = "HTTP/1.0"

    def do_GET(self):  # noqa: N802 - the name http.server looks for
        parts = urlsplit(self.path)
        match = ITEM.match(parts.path)
        if match is None:
            return self._answer(404, f"not found: {parts.path} (try /item/1)")
        try:
            query = parse_qs(parts.query)
            delay = _delay_value(float(query["delay"][0])) if "delay" in query else self.server.latency
        except ValueError as error:
            return self._answer(400, str(error))
        self.server.entered()
        try:
            time.sleep(delay)  # the slow part of a real service: a database, a disk, another server
        finally:
            # Count the request as finished *before* answering: once the answer is sent, the client may
            # send its next request at once, and that one must not be counted while this thread (which
            # may wait for the GIL after sending) has not yet left. Otherwise a client with n threads
            # could seem to have n + 1 requests in flight.
            self.server.left()
        self._answer(200, expected_body(int(match.group(1))))

    def _answer(self, status: int, text: str) -> None:
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):  # noqa: A002 - keep the notebook quiet
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a request still sleeping when the server stops does not hold anything up
    request_queue_size = 128  # room for many simultaneous connections

    def __init__(self, latency: float):
        self.latency = latency
        self.served = 0
        self.in_flight = 0
        self.most_in_flight = 0
        self._stats_lock = threading.Lock()
        super().__init__((HOST, 0), _Handler)

    def handle_error(self, request, client_address) -> None:
        """Stay quiet when a client hung up before its answer (a cancelled request); report anything else."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)

    def entered(self) -> None:
        with self._stats_lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)

    def left(self) -> None:
        with self._stats_lock:
            self.in_flight -= 1
            self.served += 1


class LocalServer:
    """A slow HTTP server on ``127.0.0.1`` and a free port, run in a background thread.

    Use it as a context manager (``with LocalServer(0.1) as server:``), or call :meth:`start` and later
    :meth:`stop` (and :func:`stop_all` at the top of a cell, so that running the cell twice does not leave
    the first server running).
    """

    def __init__(self, latency: float = 0.1):
        self.latency = _delay_value(latency, "The latency")
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- life cycle --
    def start(self) -> "LocalServer":
        """Bind 127.0.0.1 on a free port and serve in a daemon thread; returns the server itself."""
        if self.running:
            return self
        self._httpd = _Server(self.latency)
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"local-server-{self.port}", daemon=True)
        self._thread.start()
        with _RUNNING_LOCK:
            _RUNNING.add(self)
        return self

    def stop(self) -> None:
        """Stop serving and close the socket (safe to call twice)."""
        httpd, thread = self._httpd, self._thread
        self._httpd = self._thread = None
        with _RUNNING_LOCK:
            _RUNNING.discard(self)
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> "LocalServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._httpd is not None

    # -- addresses --
    @property
    def port(self) -> int:
        """The port the operating system gave the server."""
        return self._require().server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def item_url(self, number: int, delay: float | None = None) -> str:
        """The address of item ``number``; ``delay`` overrides the server's latency for this request."""
        if isinstance(number, bool) or not isinstance(number, int) or number < 0:
            raise ValueError(f"The item number must be a whole number of at least 0, not {number!r}.")
        url = f"{self.base_url}/item/{number}"
        return url if delay is None else f"{url}?delay={_delay_value(delay):g}"

    def urls(self, count: int, delay: float | None = None) -> list[str]:
        """The addresses of items ``0 .. count-1``."""
        validate.positive_int(count, "The number of addresses")
        return [self.item_url(n, delay) for n in range(count)]

    # -- what the server saw --
    @property
    def served(self) -> int:
        """Item requests answered so far."""
        return self._require().served

    @property
    def most_in_flight(self) -> int:
        """The most item requests the server was answering at the same moment."""
        return self._require().most_in_flight

    def reset_stats(self) -> None:
        """Start counting ``served`` and ``most_in_flight`` again from zero."""
        httpd = self._require()
        with httpd._stats_lock:
            httpd.served = httpd.most_in_flight = 0

    def _require(self) -> _Server:
        if self._httpd is None:
            raise RuntimeError("The server is not running: start it with LocalServer(...).start() or a with block.")
        return self._httpd

    def __repr__(self) -> str:
        where = self.base_url if self.running else "stopped"
        return f"LocalServer(latency={self.latency:g} s, {where})"


def stop_all() -> int:
    """Stop every server this module started and has not stopped yet; returns how many were stopped."""
    with _RUNNING_LOCK:
        servers = list(_RUNNING)
    for server in servers:
        server.stop()
    return len(servers)


def running_servers() -> int:
    """How many servers started by this module are running now."""
    with _RUNNING_LOCK:
        return len(_RUNNING)


# --- The client side -----------------------------------------------------------------------------------------

# No proxies: a proxy set in the environment (http_proxy) must not intercept requests to this machine.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def check_url(url) -> str:
    """Return ``url`` if it is an ``http://`` address on this machine, else raise one clear error."""
    if not isinstance(url, str):
        raise TypeError(f"The address must be a string like 'http://127.0.0.1:8000/item/1', not {url!r}.")
    parts = urlsplit(url)
    if parts.scheme != "http" or parts.hostname not in LOOPBACK:
        raise ValueError(f"fetch only talks to this machine (http://127.0.0.1:...), not {url!r}.")
    return url


def fetch(url: str, timeout: float = 10.0) -> str:
    """GET ``url`` from a server on this machine and return the answer as text.

    Waiting for the answer is done by the operating system, with the GIL released: while this thread
    waits, other threads run. ``timeout`` (seconds) bounds every wait, so a dead server raises an error
    instead of hanging the caller.
    """
    check_url(url)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        raise ValueError(f"The timeout must be a positive number of seconds, not {timeout!r}.")
    with _OPENER.open(url, timeout=timeout) as answer:
        return answer.read().decode()


@dataclass(frozen=True)
class FetchRecord:
    """One :func:`fetch_timed` call: what came back, which thread asked, and when (``perf_counter`` s)."""

    url: str
    body: str
    thread: str
    start: float
    end: float


def fetch_timed(url: str, timeout: float = 10.0) -> FetchRecord:
    """:func:`fetch`, recording the thread that made the request and when it started and ended."""
    start = time.perf_counter()
    body = fetch(url, timeout)
    return FetchRecord(url, body, threading.current_thread().name, start, time.perf_counter())
