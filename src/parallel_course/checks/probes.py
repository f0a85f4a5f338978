"""What a checker watches while a learner's process-pool code runs.

:class:`PoolProbe` patches the pools of ``multiprocessing`` and ``concurrent.futures`` for one check.
Before anything goes to a worker it refuses a function defined in the notebook (a spawn or forkserver
worker cannot import it, and a ``multiprocessing.Pool`` then waits for ever: the lesson's headline
mistake must not hang the kernel). Otherwise it wraps the function in :func:`in_worker`, a package
function, which notes in a folder which process ran each task and which shared-memory blocks it opened.
The checker then judges the structure (a pool of the right size, its chunksize, distinct worker
processes, a shared block attached by the workers) instead of luck or timing.
"""

import ast
import concurrent.futures as cf
import functools
import importlib
import inspect
import multiprocessing.pool
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from multiprocessing import shared_memory

RENDEZVOUS_SECONDS = 3.0  # how long a worker's first task waits for the other workers to show up


class NotebookWorker(RuntimeError):
    """Raised (in the learner's code) when a function that workers cannot import was about to be sent."""


def _named(fn):
    """The object pickle would look up by name for ``fn``: the function itself, or a callable's class."""
    return fn if hasattr(fn, "__qualname__") else type(fn)


def importable(fn) -> bool:
    """True when a worker process could import ``fn`` by its module and name (as pickle sends it)."""
    target = _named(fn)
    module, qualname = getattr(target, "__module__", None), getattr(target, "__qualname__", "")
    if not module or module == "__main__" or not qualname or "<" in qualname:
        return False
    try:
        found = importlib.import_module(module)
        for part in qualname.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError):
        return False
    return found is target or found is getattr(target, "__func__", None)


def _functions(fn):
    """``fn`` and every callable bound inside it by ``functools.partial``."""
    while isinstance(fn, functools.partial):
        for value in (*fn.args, *fn.keywords.values()):
            if callable(value):
                yield from _functions(value)
        fn = fn.func
    yield fn


def refusal(fn) -> str | None:
    """Why ``fn`` cannot go to a worker process, or None when it can."""
    for inner in _functions(fn):
        if not importable(inner):
            name = getattr(_named(inner), "__qualname__", repr(inner))
            return (f"{name} is defined in this notebook (or inside a function, or is a lambda), so a worker "
                    "process cannot import it (under spawn or forkserver a Pool "
                    "would wait for ever for workers that keep dying). Hint: send a function that lives in a "
                    "module, such as the package's own.")
    return None


# --- in the worker -----------------------------------------------------------------------------------

_OPENED: list = []  # (block name, created?) for each SharedMemory made in this process while watched


def _watch_shared_memory() -> None:
    """Make every ``SharedMemory(...)`` in this process note its name in :data:`_OPENED` (once per process)."""
    cls = shared_memory.SharedMemory
    if getattr(cls.__init__, "probe_original", None) is not None:
        return
    original = cls.__init__

    def __init__(self, *args, **kwargs):
        original(self, *args, **kwargs)
        create = kwargs.get("create", args[1] if len(args) > 1 else False)
        _OPENED.append((self.name, bool(create)))

    __init__.probe_original = original
    cls.__init__ = __init__


def _unwatch_shared_memory() -> None:
    cls = shared_memory.SharedMemory
    original = getattr(cls.__init__, "probe_original", None)
    if original is not None:
        cls.__init__ = original


def _pids(folder: str, token: str) -> set[int]:
    return {int(name.split("-")[1]) for name in os.listdir(folder) if name.startswith(f"{token}-")}


def in_worker(func, folder: str, token: str, rendezvous: int, log_tasks: bool, *args, **kwargs):
    """Run ``func(*args, **kwargs)`` in a worker, noting the process, the blocks it opened and (when
    ``log_tasks``) each task's arguments as it starts and ends.

    The first task of each worker waits (at most :data:`RENDEZVOUS_SECONDS`) until ``rendezvous``
    workers of the pool have started one: then a pool of n workers given n tasks or more really shares
    them out, and counting distinct workers tests the answer, not how fast each worker started.
    """
    _watch_shared_memory()
    log = os.path.join(folder, f"{token}-{os.getpid()}")
    if not os.path.exists(log):
        open(log, "a").close()
        deadline = time.monotonic() + RENDEZVOUS_SECONDS
        while len(_pids(folder, token)) < rendezvous and time.monotonic() < deadline:
            time.sleep(0.005)
    if log_tasks:
        with open(log, "a") as file:
            file.write(f"start\t{args!r}\n")
    first = len(_OPENED)
    result = func(*args, **kwargs)
    lines = [f"{'created' if created else 'attached'}\t{name!r}\n" for name, created in _OPENED[first:]]
    if log_tasks:
        lines.append(f"done\t{args!r}\n")
    if lines:
        with open(log, "a") as file:
            file.writelines(lines)
    return result


# --- in the checker ----------------------------------------------------------------------------------


@dataclass
class PoolUse:
    """One call that sent work to a pool: which method, the pool's size and the chunksize asked for."""

    method: str
    workers: int
    chunksize: int | None
    token: str


@dataclass
class Event:
    """One line a worker wrote: ``start``/``done`` with the task's arguments, or a block it opened."""

    token: str
    pid: int
    kind: str
    value: object


_CHUNKED = {"map", "starmap", "map_async", "starmap_async"}
_POOL_METHODS = ("apply_async", "map", "map_async", "starmap", "starmap_async", "imap", "imap_unordered")


class PoolProbe:
    """Watch the process pools used inside a ``with`` block (see the module's docstring)."""

    def __init__(self, rendezvous: int = 1):
        self.rendezvous = rendezvous
        self.uses: list[PoolUse] = []
        self.events: list[Event] = []
        self.refused: list[str] = []
        self.created: set[str] = set()
        self._saved: list = []
        self._tokens: dict = {}

    # What the checker reads afterwards.
    def pids(self, kind: str = "ran") -> set[int]:
        """The worker processes that ran a task (``ran``), or wrote another kind of event."""
        return {event.pid for event in self.events if event.kind == kind}

    def attached(self, names) -> dict[int, set[str]]:
        """For each worker pid, the blocks among ``names`` that it opened."""
        found: dict[int, set[str]] = {}
        for event in self.events:
            if event.kind == "attached" and event.value in names:
                found.setdefault(event.pid, set()).add(event.value)
        return found

    def tasks(self, token: str, kind: str = "start") -> list:
        return [event.value for event in self.events if event.token == token and event.kind == kind]

    # Patching.
    def _token(self, pool) -> str:
        """A name for ``pool``, kept alive meanwhile so that no later pool can reuse its ``id``."""
        if id(pool) not in self._tokens:
            self._tokens[id(pool)] = (f"p{len(self._tokens)}", pool)
        return self._tokens[id(pool)][0]

    def _wrap(self, pool, method: str, func, workers: int, chunksize):
        reason = refusal(func)
        if reason:
            self.refused.append(reason)
            raise NotebookWorker(reason)
        token = self._token(pool)
        self.uses.append(PoolUse(method, workers, chunksize, token))
        return functools.partial(in_worker, func, self._folder, token, min(self.rendezvous, workers),
                                 method == "submit")

    def _patch(self, owner, name, replacement) -> None:
        self._saved.append((owner, name, owner.__dict__[name]))
        setattr(owner, name, replacement)

    def _patch_pool_method(self, name: str) -> None:
        original = getattr(multiprocessing.pool.Pool, name)
        probe = self

        @functools.wraps(original)
        def patched(pool, func, *args, **kwargs):
            if name in _CHUNKED:
                chunksize = kwargs.get("chunksize", args[1] if len(args) > 1 else None)
            elif name.startswith("imap"):
                chunksize = kwargs.get("chunksize", args[1] if len(args) > 1 else 1)
            else:
                chunksize = None
            return original(pool, probe._wrap(pool, name, func, pool._processes, chunksize), *args, **kwargs)

        self._patch(multiprocessing.pool.Pool, name, patched)

    def _patch_initializer(self, owner) -> None:
        original = owner.__init__
        probe = self

        @functools.wraps(original)
        def __init__(pool, *args, **kwargs):
            try:
                initializer = inspect.signature(original).bind(pool, *args, **kwargs).arguments.get("initializer")
            except TypeError:
                initializer = None  # the pool itself will say what is wrong with the arguments
            if initializer is not None and (reason := refusal(initializer)):
                probe.refused.append(reason)
                pool._state = multiprocessing.pool.CLOSE  # so that Pool.__del__ of this unbuilt pool is quiet
                raise NotebookWorker(reason.replace("send a function", "use an initializer"))
            original(pool, *args, **kwargs)

        self._patch(owner, "__init__", __init__)

    def __enter__(self):
        self._folder = tempfile.mkdtemp(prefix="parallel-course-probe-")
        self._first_opened = len(_OPENED)
        _watch_shared_memory()
        for name in _POOL_METHODS:
            self._patch_pool_method(name)
        original_submit = cf.ProcessPoolExecutor.submit
        probe = self

        @functools.wraps(original_submit)
        def submit(executor, fn, /, *args, **kwargs):
            return original_submit(executor, probe._wrap(executor, "submit", fn, executor._max_workers, None),
                                   *args, **kwargs)

        self._patch(cf.ProcessPoolExecutor, "submit", submit)
        self._patch_initializer(multiprocessing.pool.Pool)
        self._patch_initializer(cf.ProcessPoolExecutor)
        return self

    def __exit__(self, *exc) -> None:
        for owner, name, value in reversed(self._saved):
            setattr(owner, name, value)
        _unwatch_shared_memory()
        self.created = {name for name, created in _OPENED[self._first_opened:] if created}
        self._tokens.clear()
        del _OPENED[self._first_opened:]
        try:
            self._read()
        finally:
            shutil.rmtree(self._folder, ignore_errors=True)

    def _read(self) -> None:
        for name in sorted(os.listdir(self._folder)):
            token, pid = name.split("-")
            self.events.append(Event(token, int(pid), "ran", None))
            with open(os.path.join(self._folder, name)) as file:
                for line in file:
                    kind, _, text = line.rstrip("\n").partition("\t")
                    try:
                        value = ast.literal_eval(text)
                    except (ValueError, SyntaxError):
                        value = text
                    self.events.append(Event(token, int(pid), kind, value))


def numbers_in(value) -> list:
    """The whole numbers inside a task's arguments (nested tuples and lists flattened)."""
    if isinstance(value, bool):
        return []
    if isinstance(value, int):
        return [value]
    if isinstance(value, tuple | list):
        return [n for item in value for n in numbers_in(item)]
    return []
