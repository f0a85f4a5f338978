"""Shared test set-up (unit tests and notebooks alike), and the suite's last check: nothing left behind.

Every process the suite starts (pools, kernels, Dask and Ray daemons, even the ones that detach from
their parent) inherits ``PARALLEL_COURSE_TEST_RUN`` from this process; at the end we look for it, and
for shared-memory blocks and semaphores that appeared in /dev/shm during the run.
"""

import os
import time
import uuid

import nbval.kernel
import psutil
import pytest

MARK = "PARALLEL_COURSE_TEST_RUN"
os.environ[MARK] = uuid.uuid4().hex
START_METHODS = ["fork", "spawn", "forkserver"]
# multiprocessing's own helpers live exactly as long as the process that started them, and exit with it.
SHM = "/dev/shm"
SHM_AT_START = set(os.listdir(SHM)) if os.path.isdir(SHM) else set()
LIFETIME_HELPERS = ("multiprocessing.resource_tracker", "multiprocessing.forkserver")


def exits_with_us(process: psutil.Process) -> bool:
    return process.ppid() == os.getpid() and any(h in " ".join(process.cmdline()) for h in LIFETIME_HELPERS)


def stop_kernel_gracefully(self) -> None:
    """Shut a notebook's kernel down as JupyterLab does, instead of nbval's outright kill.

    A killed kernel takes multiprocessing's resource tracker with it, so the named semaphores of its
    spawn/forkserver pools stay in /dev/shm for ever; a kernel asked to shut down cleans them up.
    """
    self.kc.stop_channels()
    self.km.shutdown_kernel(now=False)
    del self.km


nbval.kernel.RunningKernel.stop = stop_kernel_gracefully


def leftover_processes() -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter():
        if process.pid == os.getpid():
            continue
        try:
            if (process.environ().get(MARK) == os.environ[MARK] and process.status() != psutil.STATUS_ZOMBIE
                    and not exits_with_us(process)):
                found.append(process)
        except (psutil.Error, OSError):
            continue
    return found


def pytest_sessionfinish(session, exitstatus):
    deadline = time.monotonic() + 20  # Ray and Dask daemons take a few seconds to exit after shutdown
    while (left := leftover_processes()) and time.monotonic() < deadline:
        time.sleep(0.5)
    new_shm = sorted(set(os.listdir(SHM)) - SHM_AT_START) if os.path.isdir(SHM) else []
    if new_shm:
        print(f"\nShared memory or semaphores the tests left in {SHM}: {', '.join(new_shm)}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    if left:
        print("\nProcesses the tests started are still running:")
        for process in left:
            try:
                print(f"  pid {process.pid}: {' '.join(process.cmdline())[:160]}")
            except psutil.Error:
                print(f"  pid {process.pid}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture
def strict(monkeypatch):
    """Exercise checkers raise on a wrong answer, as in the test suite's notebooks."""
    monkeypatch.setenv("PARALLEL_COURSE_STRICT", "1")


@pytest.fixture
def lenient(monkeypatch):
    """Exercise checkers only print a hint, as for a learner."""
    monkeypatch.delenv("PARALLEL_COURSE_STRICT", raising=False)


@pytest.fixture(params=START_METHODS)
def start_method(request, monkeypatch):
    """Run the test once under each start method the package can be told to use."""
    monkeypatch.setenv("PARALLEL_COURSE_START_METHOD", request.param)
    return request.param
