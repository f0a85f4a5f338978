"""Threads and their coordination: races, locks, deadlocks (that never hang), queues and events.

Everything a thread runs in lesson 03 lives here, so the lesson's cells only start, join and read.

- :func:`run_counter` starts threads that all add to one shared :class:`Counter`. With
  :func:`unsafe_increment` updates get lost (a race); with :func:`locked_increment` none do.
- :func:`try_reentry` shows why a method that calls another method under the same lock needs an ``RLock``.
- :func:`deadlock_demo` makes two threads take two locks in opposite orders, the classic deadlock, but
  every wait has a timeout, so it reports the deadlock instead of hanging.
- :func:`pipeline` is a producer/consumer pipeline on a :class:`queue.Queue`, shut down by sentinels or,
  from Python 3.13, by ``Queue.shutdown()``.
- :func:`recording_thread_exceptions` swaps in a ``threading.excepthook`` that records what a bare thread
  raised, and :func:`fail` is a task that raises.
- :func:`ticker` is a background thread that an :class:`threading.Event` stops politely.
- :func:`limited_waits` shows a ``Semaphore`` letting at most ``limit`` threads in at once,
  :func:`release_too_often` what a ``BoundedSemaphore`` adds, and :func:`phased_work` a ``Barrier``
  keeping threads in step, phase by phase.
- :func:`exit_demo` runs a tiny program in a fresh interpreter to show what happens to daemon threads
  when a program ends.
"""

import contextlib
import queue
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter as Tally
from dataclasses import dataclass, field

from parallel_course import validate
from parallel_course.lessons.gil import gil_enabled  # noqa: F401 - lesson 03 asks it from here too

# A very short switch interval makes CPython hand the GIL from thread to thread every microsecond or so
# (the default is 5 ms), so a race that would otherwise show once in a blue moon shows every time.
RACE_SWITCH_INTERVAL = 1e-6
# How long any wait in the deadlock demonstration may last before it gives up (seconds).
DEADLOCK_TIMEOUT = 0.5


def hello(number: int, greetings: list) -> None:
    """Append a greeting naming this thread to ``greetings`` (``list.append`` is safe from many threads)."""
    greetings.append(f"hello from task {number}, running in thread {threading.current_thread().name!r}")


# --- Race conditions -----------------------------------------------------------------------------------


class Counter:
    """A shared counter: one integer attribute that several threads update."""

    def __init__(self, value: int = 0):
        self.value = value

    def __repr__(self) -> str:
        return f"Counter({self.value})"


def think(step: int = 1) -> None:
    """A moment of work between reading and writing shared data, as real code has.

    A short loop stands for computing; every 64th ``step`` a zero-second sleep stands for a brief wait
    (a log line, a database call), during which the operating system may run other threads.
    """
    for _ in range(8):
        pass
    if step % 64 == 0:
        time.sleep(0)


def unsafe_increment(counter: Counter, times: int) -> None:
    """Add 1 to ``counter.value``, ``times`` times, as read-modify-write with no lock: updates get lost."""
    for step in range(times):
        value = counter.value  # 1. read
        think(step)  # 2. work out the new value: another thread may run now and write its own
        counter.value = value + 1  # 3. write back, overwriting whatever the other thread wrote


def plain_increment(counter: Counter, times: int) -> None:
    """``counter.value += 1``, ``times`` times: the same three steps, written as one line (still unsafe)."""
    for _ in range(times):
        counter.value += 1


def locked_increment(counter: Counter, times: int, lock) -> None:
    """The read-modify-write of :func:`unsafe_increment`, but inside ``with lock:``: no update is lost."""
    for step in range(times):
        with lock:
            value = counter.value
            think(step)
            counter.value = value + 1


@dataclass(frozen=True)
class CountResult:
    """What :func:`run_counter` found: the count every thread together should reach, and the real one."""

    expected: int
    counted: int
    seconds: float

    @property
    def lost(self) -> int:
        """Updates lost to the race: expected minus counted."""
        return self.expected - self.counted

    def __str__(self) -> str:
        return (f"expected {self.expected:,}, counted {self.counted:,}: {self.lost:,} updates lost "
                f"({self.lost / self.expected:.0%}) in {self.seconds * 1000:.0f} ms")


@contextlib.contextmanager
def switch_interval(seconds: float):
    """Set ``sys.setswitchinterval(seconds)`` for the ``with`` block and always restore the old value."""
    if not isinstance(seconds, int | float) or isinstance(seconds, bool) or seconds <= 0:
        raise ValueError(f"The switch interval must be a positive number of seconds, not {seconds!r}.")
    old = sys.getswitchinterval()
    sys.setswitchinterval(seconds)
    try:
        yield old
    finally:
        sys.setswitchinterval(old)


def start_together(targets, timeout: float = 10.0) -> float:
    """Run each ``(function, args)`` of ``targets`` in its own thread, all released at once by a barrier.

    Joins them all (each join waits at most ``timeout`` seconds) and returns the wall time in seconds.
    Raises ``RuntimeError`` if a thread is still running after its join, rather than waiting forever.
    """
    targets = list(targets)
    barrier = threading.Barrier(len(targets) + 1)
    errors = []
    running, running_lock = Tally(), threading.Lock()

    def go(fn, args):
        try:
            barrier.wait(timeout)
            # Waking up from the barrier takes the operating system a moment per thread; wait until every
            # thread is really running, so that a short task cannot finish before the others even start.
            with running_lock:  # this count is shared too: without the lock it would lose updates
                running["threads"] += 1
            deadline = time.monotonic() + timeout
            while running["threads"] < len(targets) and time.monotonic() < deadline:
                time.sleep(0)
            fn(*args)
        except Exception as error:  # noqa: BLE001 - reported to the caller below
            errors.append(error)

    threads = [threading.Thread(target=go, args=(fn, args), name=f"worker-{i}", daemon=True)
               for i, (fn, args) in enumerate(targets)]
    for thread in threads:
        thread.start()
    barrier.wait(timeout)
    start = time.perf_counter()
    for thread in threads:
        thread.join(timeout)
    seconds = time.perf_counter() - start
    if any(thread.is_alive() for thread in threads):
        raise RuntimeError(f"A thread was still running after {timeout} s: it is stuck (deadlocked?).")
    if errors:
        raise errors[0]
    return seconds


def run_counter(increment=unsafe_increment, threads: int = 4, times: int = 20_000, lock=None,
                interval: float = RACE_SWITCH_INTERVAL) -> CountResult:
    """Start ``threads`` threads that each call ``increment(counter, times[, lock])`` on one shared counter.

    The threads start together (a barrier) and the GIL switch interval is lowered to ``interval`` while
    they run, then restored, so races show reliably. Pass ``lock`` for increments that take one.
    """
    if not callable(increment):
        raise TypeError(f"The increment must be a function, not {type(increment).__name__}.")
    validate.positive_int(threads, "The number of threads")
    validate.positive_int(times, "The number of increments")
    counter = Counter()
    args = (counter, times) if lock is None else (counter, times, lock)
    with switch_interval(interval):
        seconds = start_together([(increment, args)] * threads)
    return CountResult(expected=threads * times, counted=counter.value, seconds=seconds)


# --- Lock and RLock --------------------------------------------------------------------------------------


class Account:
    """A bank account with its own lock (an ``RLock`` unless told otherwise) and a number to order locks by."""

    def __init__(self, number: int, balance: int = 0, lock=None):
        self.number = number
        self.balance = balance
        self.lock = threading.RLock() if lock is None else lock

    def deposit(self, amount: int) -> None:
        """Add ``amount`` under the account's lock."""
        with self.lock:
            balance = self.balance
            think()
            self.balance = balance + amount

    def deposit_all(self, amounts) -> None:
        """Deposit each amount while holding the lock the whole time: ``deposit`` takes it *again*.

        With an ``RLock`` the same thread may take it again; with a plain ``Lock`` it would wait for itself
        forever. (:func:`try_reentry` shows that without hanging.)
        """
        with self.lock:
            for amount in amounts:
                self.deposit(amount)

    def __repr__(self) -> str:
        return f"Account(number={self.number}, balance={self.balance})"


def try_reentry(lock, timeout: float = 0.2) -> bool:
    """Take ``lock``, then try to take it again from the same thread, waiting at most ``timeout`` seconds.

    Returns True if the second acquire succeeded (an ``RLock``) and False if it timed out (a ``Lock``:
    without the timeout the thread would have waited for itself forever, a one-thread deadlock).
    """
    if not (hasattr(lock, "acquire") and hasattr(lock, "release")):
        raise TypeError(f"Give a lock (threading.Lock() or threading.RLock()), not {type(lock).__name__}.")
    with lock:
        again = lock.acquire(timeout=timeout)
        if again:
            lock.release()
    return again


# --- Deadlock, detected instead of suffered ---------------------------------------------------------------


@dataclass
class DeadlockReport:
    """What the threads of :func:`deadlock_demo` did, in order, and how long it all took."""

    order: str
    events: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def deadlocked(self) -> bool:
        """True if some thread had to give up waiting for its second lock."""
        return any("gave up" in event for event in self.events)

    def __str__(self) -> str:
        verdict = "DEADLOCK (broken by the timeout)" if self.deadlocked else "no deadlock"
        lines = [f"locks taken in the {self.order} order: {verdict}, {self.seconds:.2f} s"]
        return "\n".join(lines + [f"  {event}" for event in self.events])


def take_two(name: str, first, second, hold: float, timeout: float, events: list) -> None:
    """Take ``first``, work ``hold`` seconds, then wait at most ``timeout`` seconds for ``second``."""
    with first:
        events.append(f"{name}: holds its first lock, working")
        time.sleep(hold)
        events.append(f"{name}: now waits for its second lock")
        if second.acquire(timeout=timeout):
            try:
                events.append(f"{name}: got both locks, did its work, releases them")
            finally:
                second.release()
        else:
            events.append(f"{name}: gave up after {timeout} s: the other thread holds that lock and waits for "
                          "mine")


def deadlock_demo(order: str = "opposite", hold: float = 0.05, timeout: float = DEADLOCK_TIMEOUT) -> DeadlockReport:
    """Two threads each need locks A and B. ``order="opposite"``: one takes A then B, the other B then A.

    That is the classic deadlock: each holds one lock and waits for the other. Here every wait has a
    ``timeout``, so a thread gives up instead of waiting forever, and the report says what happened.
    ``order="same"``: both take A then B (lock ordering), and no deadlock is possible.
    """
    if order not in ("opposite", "same"):
        raise ValueError(f"The order must be 'opposite' or 'same', not {order!r}.")
    for value, name in ((hold, "hold"), (timeout, "timeout")):
        if not isinstance(value, int | float) or isinstance(value, bool) or not 0 < value <= 5:
            raise ValueError(f"{name} must be a number of seconds between 0 and 5, not {value!r}.")
    lock_a, lock_b = threading.Lock(), threading.Lock()
    report = DeadlockReport(order)
    second_pair = (lock_b, lock_a) if order == "opposite" else (lock_a, lock_b)
    report.seconds = start_together([
        (take_two, ("thread 1 (A then B)", lock_a, lock_b, hold, timeout, report.events)),
        (take_two, (f"thread 2 ({'B then A' if order == 'opposite' else 'A then B'})", *second_pair, hold,
                    timeout, report.events)),
    ], timeout=hold + 2 * timeout + 5)
    return report


@contextlib.contextmanager
def acquire_in_order(*locks):
    """Take several locks in one global order (by ``id``) and release them in reverse: no deadlock.

    Whatever order the caller names them in, every thread takes them in the same order, so no thread can
    hold a lock another needs while waiting for one that other thread holds.
    """
    ordered = sorted(set(locks), key=id)
    with contextlib.ExitStack() as stack:
        for lock in ordered:
            stack.enter_context(lock)
        yield


# --- Queue: producer/consumer with sentinels --------------------------------------------------------------


class _Stop:
    """The type of :data:`STOP`, so it prints as ``STOP``."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "STOP"


STOP = _Stop()
"""The sentinel: a unique object that means "no more items, stop". Compare with ``is STOP``."""


def slow_square(x: int, delay: float = 0.01) -> int:
    """``x * x`` after waiting ``delay`` seconds, like a small request to a service."""
    time.sleep(delay)
    return x * x


def producer(items, inbox: queue.Queue, consumers: int) -> None:
    """Put every item on ``inbox``, then one :data:`STOP` per consumer, so each consumer gets one."""
    for item in items:
        inbox.put(item)  # waits here while a bounded queue (maxsize) is full: back-pressure
    for _ in range(consumers):
        inbox.put(STOP)


def consumer(inbox: queue.Queue, outbox: queue.Queue, work=slow_square) -> None:
    """Take items from ``inbox`` until :data:`STOP`; put ``(item, work(item))`` on ``outbox``."""
    while True:
        item = inbox.get()
        try:
            if item is STOP:
                return
            outbox.put((item, work(item)))
        finally:
            inbox.task_done()


# --- Queue.shutdown(): one call instead of one sentinel per consumer (Python 3.13+) -------------------------

QUEUE_HAS_SHUTDOWN = hasattr(queue.Queue, "shutdown")
"""True where ``queue.Queue`` has ``shutdown()`` (3.13+). ``multiprocessing.Queue`` has no such method."""


def closing_producer(items, inbox: queue.Queue) -> None:
    """Put every item on ``inbox``, then ``inbox.shutdown()``: one call, however many consumers there are.

    After ``shutdown()``, ``put`` raises ``queue.ShutDown`` at once, and ``get`` hands out what is still
    queued, then raises ``queue.ShutDown`` instead of waiting. (``shutdown(immediate=True)`` would throw
    the queued items away.)
    """
    for item in items:
        inbox.put(item)
    inbox.shutdown()


def draining_consumer(inbox: queue.Queue, outbox: queue.Queue, work=slow_square) -> None:
    """Take items from ``inbox`` until it is shut down and empty; put ``(item, work(item))`` on ``outbox``."""
    while True:
        try:
            item = inbox.get()
        except queue.ShutDown:  # only reached on 3.13+, where the exception exists
            return
        try:
            outbox.put((item, work(item)))
        finally:
            inbox.task_done()


@dataclass(frozen=True)
class PipelineResult:
    """Results of :func:`pipeline` in the order they finished, who did how many, and the wall time."""

    results: list
    per_consumer: dict
    seconds: float


def pipeline(items, consumers: int = 3, maxsize: int = 0, work=slow_square, stop: str = "sentinel") -> PipelineResult:
    """One producer thread and ``consumers`` consumer threads joined by a queue of size ``maxsize``.

    ``maxsize=0`` means unbounded; a small ``maxsize`` makes the producer wait when the consumers fall
    behind. ``stop="sentinel"`` ends the consumers with one :data:`STOP` each; ``stop="shutdown"`` (Python
    3.13+) with one ``inbox.shutdown()``. Every thread is joined (with a timeout) before this returns.
    """
    items = validate.items(items)
    validate.positive_int(consumers, "The number of consumers")
    if isinstance(maxsize, bool) or not isinstance(maxsize, int) or maxsize < 0:
        raise ValueError(f"maxsize must be a whole number of at least 0 (0: unbounded), not {maxsize!r}.")
    if stop not in ("sentinel", "shutdown"):
        raise ValueError(f"stop must be 'sentinel' or 'shutdown', not {stop!r}.")
    if stop == "shutdown" and not QUEUE_HAS_SHUTDOWN:
        raise RuntimeError(f"queue.Queue.shutdown() needs Python 3.13 or later; this is {sys.version.split()[0]}: "
                           "use stop='sentinel'.")
    produce, consume = (producer, consumer) if stop == "sentinel" else (closing_producer, draining_consumer)
    inbox, outbox = queue.Queue(maxsize), queue.Queue()
    tally = Tally()

    def counted(item):
        tally[threading.current_thread().name] += 1
        return work(item)

    producer_args = (items, inbox, consumers) if stop == "sentinel" else (items, inbox)
    threads = [threading.Thread(target=produce, args=producer_args, name="producer", daemon=True)]
    threads += [threading.Thread(target=consume, args=(inbox, outbox, counted), name=f"consumer-{i}",
                                 daemon=True) for i in range(1, consumers + 1)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    seconds = time.perf_counter() - start
    if any(thread.is_alive() for thread in threads):
        raise RuntimeError("A pipeline thread did not stop within 60 s: was a STOP lost, or the queue never shut down?")
    results = []
    while not outbox.empty():
        results.append(outbox.get())
    return PipelineResult(results, dict(sorted(tally.items())), seconds)


# --- Exceptions in bare threads: threading.excepthook -------------------------------------------------------


def fail(message: str) -> None:
    """A task that raises ``ValueError(message)``, as a thread's work sometimes does."""
    raise ValueError(message)


@dataclass(frozen=True)
class ThreadFailure:
    """What ``threading.excepthook`` was told: the thread's name, the exception's type and its message."""

    thread: str
    error: str
    message: str

    def __str__(self) -> str:
        return f"thread {self.thread!r} raised {self.error}: {self.message}"


@contextlib.contextmanager
def recording_thread_exceptions():
    """Within the block, record (instead of print) every exception that ends a ``threading.Thread``.

    ``threading.excepthook`` is called with the thread, the exception type, value and traceback whenever
    a thread's ``run()`` raises. The hook is process-wide, so this restores the previous one on leaving.
    It keeps only text, not the exception itself: holding on to ``args.exc_value`` would keep the
    thread's traceback and every object it refers to alive (a reference cycle the documentation warns of).
    """
    failures: list[ThreadFailure] = []
    previous = threading.excepthook

    def record(args) -> None:
        name = args.thread.name if args.thread is not None else "unknown"
        failures.append(ThreadFailure(name, args.exc_type.__name__, str(args.exc_value)))

    threading.excepthook = record
    try:
        yield failures
    finally:
        threading.excepthook = previous


# --- Event -------------------------------------------------------------------------------------------------


def ticker(stop: threading.Event, interval: float, ticks: list) -> None:
    """Append the time to ``ticks`` every ``interval`` seconds until ``stop`` is set.

    ``stop.wait(interval)`` sleeps *and* listens: it returns True at once when the event is set, so the
    thread stops within microseconds, not at the end of its current sleep.
    """
    while not stop.wait(interval):
        ticks.append(time.perf_counter())


# --- Semaphore, BoundedSemaphore, Barrier -------------------------------------------------------------------


@dataclass(frozen=True)
class SemaphoreResult:
    """What :func:`limited_waits` saw: the most threads inside at once, and the wall time."""

    threads: int
    limit: int
    most_inside: int
    seconds: float

    def __str__(self) -> str:
        return (f"{self.threads} threads, semaphore of {self.limit}: at most {self.most_inside} inside at once, "
                f"{self.seconds:.2f} s")


def limited_waits(threads: int = 8, limit: int = 3, hold: float = 0.05) -> SemaphoreResult:
    """``threads`` threads each wait ``hold`` seconds inside ``with semaphore:``, a ``BoundedSemaphore(limit)``.

    A semaphore is a counter of free places: ``acquire`` takes one (waiting while there is none),
    ``release`` gives one back. At most ``limit`` threads are ever inside, so the whole run takes about
    ``ceil(threads / limit) * hold`` seconds.
    """
    validate.positive_int(threads, "The number of threads")
    validate.positive_int(limit, "The semaphore's limit")
    if isinstance(hold, bool) or not isinstance(hold, int | float) or not 0 < hold <= 1:
        raise ValueError(f"hold must be a number of seconds between 0 and 1, not {hold!r}.")
    semaphore, count_lock = threading.BoundedSemaphore(limit), threading.Lock()
    inside = Tally()

    def visit() -> None:
        with semaphore:
            with count_lock:
                inside["now"] += 1
                inside["most"] = max(inside["most"], inside["now"])
            time.sleep(hold)  # a request to a service that allows only `limit` connections at a time
            with count_lock:
                inside["now"] -= 1

    seconds = start_together([(visit, ())] * threads, timeout=threads * hold + 10)
    return SemaphoreResult(threads, limit, inside["most"], seconds)


def release_too_often(semaphore) -> bool:
    """Release ``semaphore`` once more than it was acquired; True if it refused with ``ValueError``.

    A plain ``Semaphore`` accepts the extra release and silently gains a place (a bug that lets one thread
    too many in later); a ``BoundedSemaphore`` knows its starting value and raises.
    """
    if not (hasattr(semaphore, "acquire") and hasattr(semaphore, "release")):
        raise TypeError(f"Give a threading.Semaphore or BoundedSemaphore, not {type(semaphore).__name__}.")
    with semaphore:
        pass
    try:
        semaphore.release()
    except ValueError:
        return True
    return False


@dataclass(frozen=True)
class PhaseRecord:
    """One thread's work on one phase of :func:`phased_work`, with ``perf_counter`` start and end times."""

    thread: int
    phase: int
    start: float
    end: float


@dataclass
class BarrierResult:
    """Every :class:`PhaseRecord` of :func:`phased_work`."""

    records: list[PhaseRecord]

    def phase_span(self, phase: int) -> tuple[float, float]:
        """When the first thread started ``phase`` and when the last one finished it."""
        mine = [record for record in self.records if record.phase == phase]
        return min(record.start for record in mine), max(record.end for record in mine)

    @property
    def phases(self) -> int:
        return 1 + max(record.phase for record in self.records)

    @property
    def in_step(self) -> bool:
        """True if no thread started a phase before every thread had finished the previous one."""
        return all(self.phase_span(p)[0] >= self.phase_span(p - 1)[1] for p in range(1, self.phases))


def phased_work(threads: int = 3, phases: int = 3, step: float = 0.02, barrier: bool = True) -> BarrierResult:
    """``threads`` threads each do ``phases`` phases of work of different lengths (multiples of ``step``).

    With ``barrier=True`` each thread calls ``barrier.wait()`` after every phase, so a phase starts only
    when every thread has finished the one before (as in a simulation whose step ``k + 1`` needs all of
    step ``k``). With ``barrier=False`` fast threads run ahead.
    """
    validate.positive_int(threads, "The number of threads")
    validate.positive_int(phases, "The number of phases")
    if isinstance(step, bool) or not isinstance(step, int | float) or not 0 < step <= 0.5:
        raise ValueError(f"step must be a number of seconds between 0 and 0.5, not {step!r}.")
    timeout = threads * phases * step + 10
    gate = threading.Barrier(threads, timeout=timeout) if barrier else None
    records: list[PhaseRecord] = []  # list.append is safe from many threads

    def work(me: int) -> None:
        for phase in range(phases):
            start = time.perf_counter()
            time.sleep(step * (1 + (me + phase) % threads))  # each thread has a different share per phase
            records.append(PhaseRecord(me, phase, start, time.perf_counter()))
            if gate is not None:
                gate.wait()  # raises BrokenBarrierError instead of waiting past the timeout

    start_together([(work, (me,)) for me in range(threads)], timeout=timeout)
    return BarrierResult(sorted(records, key=lambda record: (record.phase, record.thread)))


# --- Daemon threads at exit -------------------------------------------------------------------------------

EXIT_PROGRAM = """
import threading, time

def work():
    time.sleep({seconds})
    print("worker: finished its {seconds} s of work", flush=True)

threading.Thread(target=work, daemon={daemon}).start()
print("main: reached the end of the program", flush=True)
"""


@dataclass(frozen=True)
class ExitResult:
    """What :func:`exit_demo`'s program printed and how long the interpreter took to exit."""

    daemon: bool
    lines: list
    seconds: float

    def __str__(self) -> str:
        kind = "daemon" if self.daemon else "non-daemon"
        printed = "\n".join(f"    {line}" for line in self.lines)
        return f"{kind} worker: the program exited after {self.seconds:.2f} s and printed\n{printed}"


def exit_demo(daemon: bool, seconds: float = 0.5) -> ExitResult:
    """Run a tiny program in a fresh Python: its main thread ends while a worker still sleeps ``seconds``.

    A non-daemon worker keeps the program alive until it finishes; a daemon worker is killed when the
    main thread ends, mid-work, so its last line never prints.
    """
    if not isinstance(daemon, bool):
        raise TypeError(f"daemon must be True or False, not {daemon!r}.")
    if not isinstance(seconds, int | float) or isinstance(seconds, bool) or not 0 < seconds <= 5:
        raise ValueError(f"seconds must be a number between 0 and 5, not {seconds!r}.")
    code = textwrap.dedent(EXIT_PROGRAM.format(seconds=seconds, daemon=daemon))
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=seconds + 30,
                          check=True)
    return ExitResult(daemon, done.stdout.splitlines(), time.perf_counter() - start)
