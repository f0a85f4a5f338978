"""What this machine lets the course use: cores, memory, shared memory, and whether it is Binder.

The core count that matters is the number of cores *this process may use*, which can be fewer than the
machine has: CPU affinity (``taskset``, HPC batch systems), a cgroup CPU quota (Docker, Kubernetes,
JupyterHub) and Binder's ``CPU_LIMIT`` all lower it. :func:`usable_cores` takes the smallest of them.
"""

import math
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import psutil

CGROUP_ROOT = Path("/sys/fs/cgroup")


def logical_cores() -> int:
    """Logical cores the operating system reports (hyper-threads counted)."""
    return os.cpu_count() or 1


def physical_cores() -> int | None:
    """Physical cores, or ``None`` when the platform does not say."""
    return psutil.cpu_count(logical=False)


def affinity_cores() -> int:
    """Cores this process is allowed to run on (CPU affinity)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return logical_cores()


def cgroup_cpu_limit(root: Path = CGROUP_ROOT) -> float | None:
    """The cgroup CPU quota in cores (v2 ``cpu.max`` or v1 ``cfs_quota_us``), ``None`` when unlimited."""
    v2 = root / "cpu.max"
    if v2.is_file():
        quota, _, period = v2.read_text().strip().partition(" ")
        if quota != "max":
            return int(quota) / int(period or 100_000)
        return None
    v1 = root / "cpu" / "cpu.cfs_quota_us"
    if v1.is_file():
        quota = int(v1.read_text())
        period = int((root / "cpu" / "cpu.cfs_period_us").read_text())
        if quota > 0:
            return quota / period
    return None


def binder_cpu_limit() -> float | None:
    """Binder's (and many JupyterHubs') ``CPU_LIMIT`` in cores, ``None`` when unset."""
    value = os.environ.get("CPU_LIMIT", "").strip()
    try:
        return float(value) if value and float(value) > 0 else None
    except ValueError:
        return None


def forced_cores() -> int | None:
    """The course's override ``PARALLEL_COURSE_CORES`` (to rehearse a 1-core machine), if set."""
    value = os.environ.get("PARALLEL_COURSE_CORES", "").strip()
    if not value:
        return None
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"PARALLEL_COURSE_CORES must be a whole number of at least 1, not {value!r}.")
    return int(value)


def usable_cores() -> int:
    """Cores this process can really use: the smallest of affinity, cgroup quota and ``CPU_LIMIT``.

    A fractional quota is rounded up (1.5 cores lets two processes make progress); the result is never
    below 1. ``PARALLEL_COURSE_CORES`` overrides the measurement, so a lesson can be rehearsed as on Binder.
    """
    forced = forced_cores()
    if forced is not None:
        return forced
    limits = [affinity_cores(), cgroup_cpu_limit(), binder_cpu_limit()]
    return max(1, min(math.ceil(x) for x in limits if x is not None))


def worker_cap() -> int:
    """The largest worker count the panel offers: the usable cores, but at least 2.

    On a 1-core machine the learner can still try 2 workers and see that nothing gets faster.
    """
    return max(2, usable_cores())


def memory_limit_bytes(root: Path = CGROUP_ROOT) -> int | None:
    """The cgroup memory limit (or Binder's ``MEM_LIMIT``) in bytes, ``None`` when unlimited."""
    candidates = []
    for path in (root / "memory.max", root / "memory" / "memory.limit_in_bytes"):
        if path.is_file():
            text = path.read_text().strip()
            if text.isdigit() and int(text) < 2**60:
                candidates.append(int(text))
    env = os.environ.get("MEM_LIMIT", "").strip()
    if env.isdigit() and int(env) > 0:
        candidates.append(int(env))
    return min(candidates) if candidates else None


def shm_free_bytes() -> int | None:
    """Free space in ``/dev/shm`` (where shared memory lives on Linux), ``None`` where there is none."""
    try:
        return shutil.disk_usage("/dev/shm").free
    except OSError:
        return None


def load_average() -> float | None:
    """Runnable processes averaged over the last minute (``None`` where the OS does not say, e.g. Windows)."""
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else None


def on_binder() -> bool:
    """True inside a mybinder.org session (Binder sets ``BINDER_*`` variables)."""
    return any(key.startswith("BINDER_") for key in os.environ)


@dataclass(frozen=True)
class Machine:
    """A snapshot of what this machine offers the course."""

    usable_cores: int
    logical_cores: int
    physical_cores: int | None
    memory_total: int
    memory_available: int
    memory_limit: int | None
    shm_free: int | None
    binder: bool

    def rows(self) -> list[tuple[str, str]]:
        """Human-readable (name, value) rows for a table."""
        gib = lambda n: "unknown" if n is None else f"{n / 2**30:.1f} GiB"  # noqa: E731
        return [
            ("usable cores", str(self.usable_cores)),
            ("logical cores", str(self.logical_cores)),
            ("physical cores", str(self.physical_cores or "unknown")),
            ("memory total", gib(self.memory_total)),
            ("memory available", gib(self.memory_available)),
            ("memory limit", "none" if self.memory_limit is None else gib(self.memory_limit)),
            ("/dev/shm free", "none" if self.shm_free is None else gib(self.shm_free)),
            ("Binder", "yes" if self.binder else "no"),
        ]


def machine() -> Machine:
    """Measure this machine now."""
    memory = psutil.virtual_memory()
    return Machine(
        usable_cores=usable_cores(),
        logical_cores=logical_cores(),
        physical_cores=physical_cores(),
        memory_total=memory.total,
        memory_available=memory.available,
        memory_limit=memory_limit_bytes(),
        shm_free=shm_free_bytes(),
        binder=on_binder(),
    )
