"""Checkers for the exercises of lesson 03, threading.

A wrong answer in a threaded exercise can hang (a lock never released, a deadlock, a consumer that
never stops). These checkers cannot: the locks they hand out give up after a few seconds, and the queues
they hand out stop waiting when nothing more will come, so a stuck thread ends with a hint instead.

A racy answer is caught by structure, not by luck: the checker's dict and accounts note every read or
write made while the calling thread does not hold the lock(s), and yield the GIL there, so a race would
also lose updates on a GIL build.
"""

import queue
import threading
import time

from parallel_course.checks import run
from parallel_course.lessons import local_server, sync

WATCHDOG = 2.0  # seconds a checker's lock or queue waits before it calls the wait stuck


class StuckWaiting(RuntimeError):
    """Raised inside a learner's thread when a wait lasted longer than any correct answer needs."""


class WatchedLock:
    """A ``threading.Lock`` that counts acquisitions, knows which thread holds it, and never waits forever.

    A blocking ``acquire()`` waits at most :data:`WATCHDOG` seconds, then raises :class:`StuckWaiting`,
    so a deadlock or a forgotten ``release()`` ends the learner's thread instead of hanging the kernel.
    ``hold`` seconds of sleep after each acquire widen the window in which a deadlock can happen.
    """

    def __init__(self, name: str = "lock", hold: float = 0.0):
        self.name, self.hold = name, hold
        self.acquisitions = 0
        self.owner = None  # the thread holding it (threading.get_ident()), or None
        self._lock = threading.Lock()

    def held_here(self) -> bool:
        """True when the calling thread holds this lock."""
        return self.owner == threading.get_ident()

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        if not blocking:
            got = self._lock.acquire(False)
        else:
            limit = WATCHDOG if timeout is None or timeout < 0 else min(timeout, WATCHDOG)
            got = self._lock.acquire(timeout=limit)
            if not got and (timeout is None or timeout < 0):
                raise StuckWaiting(f"waited {WATCHDOG:g} s for {self.name} and never got it")
        if got:
            self.owner = threading.get_ident()
            self.acquisitions += 1
            if self.hold:
                time.sleep(self.hold)
        return got

    def release(self) -> None:
        self.owner = None
        self._lock.release()

    def locked(self) -> bool:
        return self._lock.locked()

    __enter__ = acquire

    def __exit__(self, *exc) -> None:
        self.release()


class WatchedQueue(queue.Queue):
    """A ``queue.Queue`` whose blocking ``get()`` raises :class:`StuckWaiting` after :data:`WATCHDOG` s idle."""

    def get(self, block: bool = True, timeout: float | None = None):
        if block and timeout is None:
            try:
                return super().get(timeout=WATCHDOG)
            except queue.Empty:
                raise StuckWaiting(f"waited {WATCHDOG:g} s for an item and none came") from None
        return super().get(block, timeout)


def _threads_with_errors(jobs, timeout: float = 30.0) -> list[BaseException]:
    """Run each ``(function, args)`` in its own thread, all released together; return their exceptions."""
    errors: list[BaseException] = []

    def guarded(fn, *args):
        try:
            fn(*args)
        except BaseException as error:  # noqa: BLE001 - reported as a hint by the caller
            errors.append(error)

    with sync.switch_interval(sync.RACE_SWITCH_INTERVAL):
        sync.start_together([(guarded, (fn, *args)) for fn, args in jobs], timeout=timeout)
    return errors


def _raised(check, errors) -> None:
    """Turn the first exception from a learner's thread into a hint."""
    if not errors:
        return
    error = errors[0]
    if isinstance(error, NotImplementedError):
        raise error
    if isinstance(error, StuckWaiting):
        check.fail(f"a thread got stuck: it {error}. Hint: take the lock with `with lock:` so it is always "
                   "released, and make every thread take several locks in the same order.")
    check.fail(f"your function raised {type(error).__name__} in a thread: {error}")


# --- Exercise 1: a race in a dict, fixed with a Lock ----------------------------------------------------


class _GuardedStats(dict):
    """A dict that notes every read or write made without holding ``lock``, and yields the GIL on each one.

    The zero-second sleep hands the GIL to another thread at the worst moment, so an unguarded
    read-then-write loses updates on a GIL build too; the notes catch it even when no update is lost.
    """

    def __init__(self, lock: WatchedLock):
        super().__init__()
        self.lock, self.unguarded = lock, 0

    def _touch(self) -> None:
        if not self.lock.held_here():
            self.unguarded += 1
        time.sleep(0)

    def get(self, key, default=None):
        self._touch()
        return super().get(key, default)

    def __getitem__(self, key):
        self._touch()
        return super().__getitem__(key)

    def __setitem__(self, key, value):
        self._touch()
        super().__setitem__(key, value)

    def __contains__(self, key):
        self._touch()
        return super().__contains__(key)

    def setdefault(self, key, default=None):
        self._touch()
        return super().setdefault(key, default)

    def update(self, *args, **kwargs):
        self._touch()
        super().update(*args, **kwargs)


def check_record_visit(record_visit) -> bool:
    """Exercise: ``record_visit(stats, page, lock)`` adds 1 to ``stats[page]`` without losing an update."""

    def body(check):
        lock = WatchedLock("the lock")
        stats = _GuardedStats(lock)
        check.call(record_visit, stats, "home", lock)
        if stats != {"home": 1}:
            check.fail(f"after one visit to 'home' on an empty dict, stats is {stats!r}, not {{'home': 1}}. "
                       "Hint: stats.get(page, 0) is 0 for a page never seen.")
        if lock.locked():
            check.fail("the lock is still held after your function returned. Hint: `with lock:` releases it "
                       "for you, even if an error happens.")
        if stats.unguarded:
            check.fail("your function read or wrote stats without holding the lock. Hint: the read and the "
                       "write must both happen while you hold it, in one `with` block.")
        pages, threads, visits = ("home", "about", "shop"), 4, 500
        lock = WatchedLock("the lock")
        stats = _GuardedStats(lock)

        def visitor(offset):
            for i in range(visits):
                record_visit(stats, pages[(i + offset) % len(pages)], lock)

        _raised(check, _threads_with_errors([(visitor, (k,)) for k in range(threads)]))
        total = threads * visits
        want = {page: sum(1 for k in range(threads) for i in range(visits) if (i + k) % 3 == n)
                for n, page in enumerate(pages)}
        if stats.unguarded:
            check.fail(f"{stats.unguarded:,} reads or writes of stats happened without holding the lock, so "
                       "another thread could change the count in between. Hint: the read and the write "
                       "must both happen while you hold the lock.")
        if stats != want:
            lost = total - sum(v for v in stats.values() if isinstance(v, int))
            check.fail(f"{threads} threads recorded {total:,} visits but stats counts {lost:,} fewer "
                       f"({stats!r}). Hint: the read (stats.get) and the write (stats[page] = ...) must both "
                       "happen while you hold the lock.")
        if lock.acquisitions < total:
            check.fail(f"the lock was taken {lock.acquisitions:,} times for {total:,} visits. The counts came out "
                       "right this time, but only by luck of where this Python switches threads: on a "
                       "free-threaded build they would not. Hint: take the lock in every call.")
        return check.passed(f"{total:,} visits from {threads} threads, none lost.")

    return run("Lost visits", body)


# --- Exercise 2: transfers that cannot deadlock -----------------------------------------------------------


class _GuardedAccount(sync.Account):
    """An account whose balance notes each change made without holding the locks of both accounts of a
    transfer (two of the checker's locks), and yields the GIL between a read and a write."""

    def __init__(self, number: int, balance: int, lock: WatchedLock, bank: list):
        self._balance, self.bank, self.unguarded = balance, bank, 0
        super().__init__(number, balance, lock)

    @property
    def balance(self) -> int:
        time.sleep(0)
        return self._balance

    @balance.setter
    def balance(self, value: int) -> None:
        if value != self._balance and sum(account.lock.held_here() for account in self.bank) < 2:
            self.unguarded += 1
        time.sleep(0)
        self._balance = value


def check_transfer(transfer) -> bool:
    """Exercise: ``transfer(source, target, amount)`` moves money holding both accounts' locks, deadlock-free."""

    def accounts():
        bank: list = []
        bank.extend(_GuardedAccount(n, 1000, WatchedLock(f"the lock of account {n}", hold=0.0005), bank)
                    for n in (1, 2, 3))
        return bank

    def unguarded(check, bank) -> None:
        if sum(account.unguarded for account in bank):
            check.fail("a balance changed while your transfer did not hold the locks of both accounts (were "
                       "they released before the update?). Another transfer could change it in between. "
                       "Hint: change both balances inside the block that holds both locks.")

    def body(check):
        a, b, _ = accounts()
        check.call(transfer, a, b, 10)
        if (a.balance, b.balance) != (990, 1010):
            check.fail(f"after transfer(a, b, 10) from 1000 and 1000 the balances are {a.balance} and "
                       f"{b.balance}, not 990 and 1010.")
        if a.lock.acquisitions == 0 or b.lock.acquisitions == 0:
            check.fail("a transfer must hold the locks of both accounts while it changes their balances.")
        if a.lock.locked() or b.lock.locked():
            check.fail("a lock is still held after your function returned. Hint: take them in a `with` "
                       "statement, so both are always released.")
        unguarded(check, [a, b])
        a, b, c = accounts()
        rounds = 40

        def mover(source, target, amount):
            for _ in range(rounds):
                transfer(source, target, amount)

        # Money goes round in both directions at once: a -> b -> c -> a and a -> c -> b -> a.
        jobs = [(mover, (a, b, 1)), (mover, (b, c, 1)), (mover, (c, a, 1)),
                (mover, (b, a, 2)), (mover, (c, b, 2)), (mover, (a, c, 2))]
        errors = _threads_with_errors(jobs)
        if any(isinstance(error, StuckWaiting) for error in errors):
            check.fail("deadlock: two transfers each held one account's lock and waited for the other's "
                       f"(the checker gave up after {WATCHDOG:g} s). Hint: take the two locks in one order that "
                       "every thread agrees on, e.g. the account with the smaller .number first.")
        _raised(check, errors)
        unguarded(check, [a, b, c])
        balances = [x.balance for x in (a, b, c)]
        if balances != [1000, 1000, 1000]:
            check.fail(f"after transfers that cancel out, the balances are {balances}, not [1000, 1000, 1000]: "
                       "money was lost or created. Hint: change both balances while holding both locks.")
        return check.passed(f"{len(jobs) * rounds} transfers in both directions at once, no deadlock, "
                            "no money lost.")

    return run("Deadlock-free transfer", body)


# --- Exercise 3: a pipeline stage that passes the sentinel on ---------------------------------------------


def double(x):
    """Stage 1's work in the checker: ``2 * x``."""
    return 2 * x


def add_one(x):
    """Stage 2's work in the checker: ``x + 1``."""
    return x + 1


def _drain(q: queue.Queue) -> list:
    items = []
    while True:
        try:
            items.append(q.get_nowait())
        except queue.Empty:
            return items


def check_stage(stage) -> bool:
    """Exercise: ``stage(inbox, outbox, work)`` puts ``work(item)`` on outbox for each item, then forwards STOP."""

    def body(check):
        inbox, outbox = WatchedQueue(), WatchedQueue()
        for item in (3, 4, sync.STOP):
            inbox.put(item)
        try:
            stage(inbox, outbox, double)
        except NotImplementedError:
            raise
        except StuckWaiting:
            check.fail(f"your stage kept waiting for items after it took STOP (the checker gave up after "
                       f"{WATCHDOG:g} s). Hint: when `item is STOP`, put STOP on the outbox and return.")
        except Exception as error:  # noqa: BLE001 - any error of the learner's code becomes a hint
            check.fail(f"your function raised {type(error).__name__}: {error}")
        got = _drain(outbox)
        if got != [6, 8, sync.STOP]:
            check.fail(f"from the inbox [3, 4, STOP] with work=double, the outbox got {got!r}, not [6, 8, STOP]. "
                       "Hint: put work(item) for each item, and pass STOP on (do not call work on it).")

        first, middle, last = WatchedQueue(), WatchedQueue(), WatchedQueue()
        items = list(range(20))
        for item in [*items, sync.STOP]:
            first.put(item)
        errors = _threads_with_errors([(stage, (first, middle, double)), (stage, (middle, last, add_one))])
        if any(isinstance(error, StuckWaiting) for error in errors):
            check.fail("in a two-stage pipeline the second stage never stopped. Hint: each stage must pass "
                       "STOP on to its outbox, so the next stage stops too.")
        _raised(check, errors)
        got = _drain(last)
        want = [2 * x + 1 for x in items] + [sync.STOP]
        if got != want:
            check.fail(f"the two-stage pipeline over 0..19 produced {got!r}, expected {want!r}.")
        return check.passed("Two stages chained by queues, and one STOP shut both down.")

    return run("Pipeline stage", body)


# --- Exercise 4: fetch many addresses with a thread pool, results in order -------------------------------


def check_fetch_all(fetch_all) -> bool:
    """Exercise: ``fetch_all(urls, workers)`` fetches every URL with ``workers`` threads, results in order."""

    def body(check):
        count, workers = 12, 4
        delays = [0.02 + 0.01 * (count - 1 - i) for i in range(count)]  # later addresses answer sooner
        with local_server.LocalServer(latency=0.0) as server:
            urls = [server.item_url(i, delay) for i, delay in enumerate(delays)]
            start = time.perf_counter()
            got = check.call(fetch_all, list(urls), workers)
            seconds = time.perf_counter() - start
            in_flight = server.most_in_flight
        want = [local_server.expected_body(i) for i in range(count)]
        if not isinstance(got, list):
            check.fail(f"return a list of answers, not {type(got).__name__}. Hint: list(pool.map(fetch, urls)).")
        if sorted(got, key=str) == sorted(want) and got != want:
            check.fail("you returned the right answers in the wrong order (the order they finished in). "
                       "Hint: pool.map(fetch, urls) returns results in the order of urls.")
        if got != want:
            check.fail(f"expected {want!r}, got {got!r}.")
        if in_flight < 2:
            check.fail("the server never had two of your requests at once: they ran one after the other. "
                       "Hint: use ThreadPoolExecutor(max_workers=workers) and map fetch over the addresses.")
        if in_flight > workers:
            check.fail(f"the server had {in_flight} of your requests at once, but workers was {workers}. "
                       "Hint: create the pool with max_workers=workers.")
        one_by_one = sum(delays)
        return check.passed(f"{count} answers in order in {seconds:.2f} s with {workers} threads; one at a time "
                            f"would wait about {one_by_one:.2f} s (up to {in_flight} requests were in flight).")

    return run("Fetch in order", body)
