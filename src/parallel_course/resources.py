"""What this machine lets the course use: cores, memory, shared memory, how busy it is, and whether it is Binder.

The core count that matters is the number of cores *this process may use*, which can be fewer than the
machine has: CPU affinity (``taskset``, HPC batch systems), a cgroup CPU quota (Docker, Kubernetes,
JupyterHub, systemd), Binder's ``CPU_LIMIT`` and Python's own ``PYTHON_CPU_COUNT`` all lower it.
:func:`cpu_limit` takes the smallest of them (a quota can be fractional, e.g. 1.5 cores);
:func:`usable_cores` is that limit as a whole number of cores, never rounded up.

Logical CPUs include hyper-threads (SMT siblings): two logical CPUs of one physical core share its
execution units, so CPU-bound work gains much less from the second one. :func:`usable_physical_cores`
counts the distinct physical cores among the CPUs this process may use.

A machine that other programs keep busy hides speedups just as one core does. :func:`busy_reading`
measures, over a short interval, how much of the usable CPUs other processes used (this process and its
children are subtracted) and, on a virtual machine, how much the hypervisor took (steal time).
"""

import math
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

CGROUP_ROOT = Path("/sys/fs/cgroup")
PROC = Path("/proc")
SYS_CPU = Path("/sys/devices/system/cpu")


def python_cpu_count() -> int | None:
    """Python's CPU-count override (``PYTHON_CPU_COUNT=N`` or ``-X cpu_count=N``), ``None`` when unset.

    Python 3.13+ applies it to ``os.cpu_count()`` and ``os.process_cpu_count()`` itself; the course reads
    it on every version, so that on 3.11 and 3.12 it means the same.
    """
    value = str(sys._xoptions.get("cpu_count", "") or os.environ.get("PYTHON_CPU_COUNT", "")).strip()
    if not value or value == "default":
        return None
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"PYTHON_CPU_COUNT must be a whole number of at least 1 or 'default', not {value!r}.")
    return int(value)


def logical_cores() -> int:
    """Logical CPUs the operating system reports (hyper-threads counted), or Python's override."""
    return python_cpu_count() or os.cpu_count() or 1


def physical_cores() -> int | None:
    """Physical cores of the whole machine, or ``None`` when the platform does not say."""
    return psutil.cpu_count(logical=False)


def affinity_cpus() -> list[int]:
    """The logical CPUs this process may run on (CPU affinity); all of them where the OS has no affinity."""
    if hasattr(os, "sched_getaffinity"):
        return sorted(os.sched_getaffinity(0))
    return list(range(os.cpu_count() or 1))


def affinity_cores() -> int:
    """Logical CPUs this process may run on, lowered by ``PYTHON_CPU_COUNT`` when set (as 3.13+ does)."""
    override = python_cpu_count()
    count = len(affinity_cpus())
    return count if override is None else override


def usable_physical_cores(cpus: list[int] | None = None, sys_cpu: Path = SYS_CPU) -> int | None:
    """Distinct physical cores among ``cpus`` (default: the affinity CPUs); ``None`` when unknown.

    Two logical CPUs with the same package and core id are hyper-threads of one core.
    """
    cores = set()
    for cpu in affinity_cpus() if cpus is None else cpus:
        topology = sys_cpu / f"cpu{cpu}" / "topology"
        try:
            cores.add(((topology / "physical_package_id").read_text().strip(),
                       (topology / "core_id").read_text().strip()))
        except OSError:
            return None
    return len(cores) or None


def own_cgroup(proc: Path = PROC, root: Path = CGROUP_ROOT) -> Path:
    """This process's cgroup v2 directory (from ``/proc/self/cgroup``), or ``root`` when it cannot be found."""
    try:
        lines = (proc / "self" / "cgroup").read_text().splitlines()
    except OSError:
        return root
    for line in lines:
        hierarchy, path = _split(line)
        if hierarchy == "0":  # the cgroup v2 line reads "0::/path"
            candidate = root / path.strip().lstrip("/")
            return candidate if candidate.is_dir() else root
    return root


def _split(line: str) -> tuple[str, str]:
    hierarchy, _, rest = line.partition(":")
    return hierarchy, rest.partition(":")[2]


def _v2_quota(directory: Path) -> float | None:
    try:
        quota, _, period = (directory / "cpu.max").read_text().strip().partition(" ")
    except OSError:
        return None
    return None if quota == "max" else int(quota) / int(period or 100_000)


def cgroup_cpu_limit(root: Path = CGROUP_ROOT, proc: Path = PROC) -> float | None:
    """The cgroup CPU quota in cores (may be fractional), ``None`` when unlimited.

    cgroup v2: the smallest ``cpu.max`` from this process's own cgroup up to the root, since a quota on
    any ancestor (a systemd slice, a JupyterHub spawner) limits it too. cgroup v1: ``cpu.cfs_quota_us``.
    """
    if (root / "cgroup.controllers").is_file() or (root / "cpu.max").is_file():
        quotas = []
        directory = own_cgroup(proc, root)
        while True:
            quota = _v2_quota(directory)
            if quota is not None:
                quotas.append(quota)
            if directory == root or root not in directory.parents:
                break
            directory = directory.parent
        return min(quotas) if quotas else None
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


def cpu_limit() -> float:
    """The CPU this process can really use, in cores: the smallest of affinity, cgroup quota and ``CPU_LIMIT``.

    A quota of 1.5 cores stays 1.5: that is the best speedup CPU-bound work can reach here.
    ``PARALLEL_COURSE_CORES`` overrides the measurement, so a lesson can be rehearsed as on Binder.
    """
    forced = forced_cores()
    if forced is not None:
        return float(forced)
    limits = [affinity_cores(), cgroup_cpu_limit(), binder_cpu_limit()]
    return max(1.0, float(min(x for x in limits if x is not None)))


def usable_cores() -> int:
    """Whole cores this process can use: :func:`cpu_limit` rounded down (1.5 cores is 1 full core), at least 1."""
    return max(1, math.floor(cpu_limit() + 1e-9))


def worker_cap() -> int:
    """The largest worker count the panel offers: enough workers to fill :func:`cpu_limit`, but at least 2.

    On a 1-core machine the learner can still try 2 workers and see that nothing gets faster; with a
    quota of 1.5 cores, 2 workers are offered, since together they may use the half core too.
    """
    return max(2, math.ceil(cpu_limit() - 1e-9))


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
    """Runnable processes averaged over the last minute (``None`` where the OS does not say, e.g. Windows).

    Inside a container this counts the whole host, and it includes the workers that just ran: to ask
    "is something else using my CPUs?", use :func:`busy_reading` instead.
    """
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else None


def on_binder() -> bool:
    """True inside a mybinder.org session (Binder sets ``BINDER_*`` variables)."""
    return any(key.startswith("BINDER_") for key in os.environ)


# --- How busy the machine is ------------------------------------------------------------------------------

@dataclass(frozen=True)
class CpuTicks:
    """Clock ticks one CPU spent, from one line of ``/proc/stat``."""

    busy: int
    idle: int
    steal: int

    @property
    def total(self) -> int:
        return self.busy + self.idle + self.steal


def parse_proc_stat(text: str) -> dict[int, CpuTicks]:
    """Per-CPU ticks from the text of ``/proc/stat`` (lines ``cpuN user nice system idle iowait irq softirq steal``)."""
    cpus = {}
    for line in text.splitlines():
        name, *fields = line.split()
        if not name.startswith("cpu") or name == "cpu":
            continue
        values = [int(v) for v in fields[:8]] + [0] * (8 - len(fields[:8]))
        user, nice, system, idle, iowait, irq, softirq, steal = values
        cpus[int(name[3:])] = CpuTicks(busy=user + nice + system + irq + softirq, idle=idle + iowait, steal=steal)
    return cpus


def tree_cpu_seconds(pid: int | None = None) -> float:
    """CPU seconds used so far by a process and all its descendants (finished children included)."""
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0.0
    total = 0.0
    for process in processes:
        try:
            t = process.cpu_times()
        except psutil.Error:
            continue
        total += t.user + t.system + getattr(t, "children_user", 0.0) + getattr(t, "children_system", 0.0)
    return total


@dataclass(frozen=True)
class BusyReading:
    """How much of the usable CPUs others used over an interval, in percent of their capacity."""

    seconds: float
    cpus: int
    others_percent: float
    steal_percent: float
    own_percent: float

    @property
    def free_cores(self) -> float:
        """Usable CPUs left for this program: the CPUs less what others and the hypervisor took."""
        return max(0.0, self.cpus * (1 - (self.others_percent + self.steal_percent) / 100))

    @property
    def busy(self) -> bool:
        """True when others (or the hypervisor) took at least a tenth of the usable CPUs."""
        return self.others_percent + self.steal_percent >= 10

    def __str__(self) -> str:
        steal = f" and the hypervisor took {self.steal_percent:.0f}% (steal time)" if self.steal_percent >= 1 else ""
        return (f"Over {self.seconds:.1f} s, other programs used {self.others_percent:.0f}% of the {self.cpus} "
                f"usable CPU{'s' * (self.cpus != 1)}{steal}, leaving about {self.free_cores:.1f} for this one.")


class BusyMeter:
    """Measure :class:`BusyReading` between :meth:`start` and :meth:`stop` (or as a ``with`` block)."""

    def __init__(self, proc: Path = PROC, cpus: list[int] | None = None, own=tree_cpu_seconds):
        self.proc, self.cpus, self.own = proc, cpus, own
        self.reading: BusyReading | None = None

    def _sample(self):
        return time.perf_counter(), parse_proc_stat((self.proc / "stat").read_text()), self.own()

    def start(self) -> "BusyMeter":
        self._start = self._sample()
        return self

    def stop(self) -> BusyReading | None:
        """The reading since :meth:`start`; ``None`` where ``/proc/stat`` does not exist (macOS, Windows)."""
        (t0, before, own0), (t1, after, own1) = self._start, self._sample()
        cpus = [c for c in (affinity_cpus() if self.cpus is None else self.cpus) if c in before and c in after]
        ticks = {field: sum(getattr(after[c], field) - getattr(before[c], field) for c in cpus)
                 for field in ("busy", "idle", "steal")}
        total = sum(ticks.values())
        if total <= 0 or not cpus:
            return None
        hz = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        own = max(0.0, own1 - own0)
        own_share = min(1.0, own * hz / total)
        others = max(0.0, ticks["busy"] / total - own_share)
        self.reading = BusyReading(seconds=t1 - t0, cpus=len(cpus), others_percent=100 * others,
                                   steal_percent=100 * ticks["steal"] / total, own_percent=100 * own_share)
        return self.reading

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        try:
            self.stop()
        except OSError:
            self.reading = None


def busy_reading(seconds: float = 0.5, proc: Path = PROC) -> BusyReading | None:
    """Watch the usable CPUs for ``seconds`` while this program rests; ``None`` without ``/proc/stat``."""
    if seconds <= 0:
        raise ValueError(f"The reading needs a positive number of seconds, not {seconds}.")
    try:
        meter = BusyMeter(proc).start()
        time.sleep(seconds)
        return meter.stop()
    except OSError:
        return None


@dataclass(frozen=True)
class Machine:
    """A snapshot of what this machine offers the course."""

    usable_cores: int
    cpu_limit: float
    logical_cores: int
    physical_cores: int | None
    usable_physical_cores: int | None
    python_cpu_count: int | None
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
            ("CPU limit", f"{self.cpu_limit:g} cores"),
            ("logical cores", str(self.logical_cores)),
            ("physical cores", str(self.physical_cores or "unknown")),
            ("usable physical", str(self.usable_physical_cores or "unknown")),
            ("PYTHON_CPU_COUNT", "not set" if self.python_cpu_count is None else str(self.python_cpu_count)),
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
        cpu_limit=cpu_limit(),
        logical_cores=logical_cores(),
        physical_cores=physical_cores(),
        usable_physical_cores=usable_physical_cores(),
        python_cpu_count=python_cpu_count(),
        memory_total=memory.total,
        memory_available=memory.available,
        memory_limit=memory_limit_bytes(),
        shm_free=shm_free_bytes(),
        binder=on_binder(),
    )
