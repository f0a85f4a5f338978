"""Timing done properly, and the arithmetic of scaling: speedup, efficiency, Amdahl, Gustafson, Karp-Flatt.

Time with a wall clock (``time.perf_counter``), repeat, and keep the median: the first run pays for
imports and warm-up, and other programs on the machine add noise that the median ignores.
"""

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from parallel_course import resources, validate


@dataclass(frozen=True)
class Timing:
    """Wall-clock and CPU seconds of one call (medians over ``repeat`` runs), and its result."""

    wall: float
    cpu: float
    repeat: int
    result: object = field(repr=False, default=None)

    @property
    def cpu_share(self) -> float:
        """CPU seconds per wall second of *this* process: ~1 busy computing, ~0 waiting."""
        return self.cpu / self.wall if self.wall > 0 else 0.0


def time_call(fn: Callable, *args, repeat: int = 3, **kwargs) -> Timing:
    """Call ``fn(*args, **kwargs)`` ``repeat`` times; return the median wall and CPU time."""
    validate.positive_int(repeat, "repeat")
    walls, cpus = [], []
    result = None
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        result = fn(*args, **kwargs)
        cpus.append(time.process_time() - c0)
        walls.append(time.perf_counter() - w0)
    return Timing(statistics.median(walls), statistics.median(cpus), repeat, result)


def speedup(serial_seconds: float, parallel_seconds: float) -> float:
    """How many times faster the parallel run was: ``T1 / Tn``."""
    if serial_seconds <= 0 or parallel_seconds <= 0:
        raise ValueError("Times must be positive numbers of seconds.")
    return serial_seconds / parallel_seconds


def efficiency(speedup_value: float, workers: int) -> float:
    """Speedup per worker: 1.0 means every worker was fully useful."""
    validate.workers(workers)
    return speedup_value / workers


def amdahl(parallel_fraction: float, workers) -> float:
    """Amdahl's law: the best speedup of a fixed job whose ``parallel_fraction`` can be spread out.

    ``S(n) = 1 / ((1 - p) + p / n)``; as ``n`` grows it approaches ``1 / (1 - p)``.
    """
    _fraction(parallel_fraction)
    return 1.0 / ((1.0 - parallel_fraction) + parallel_fraction / workers)


def gustafson(parallel_fraction: float, workers) -> float:
    """Gustafson's law: the speedup when the job grows with the workers, ``S(n) = (1 - p) + p * n``."""
    _fraction(parallel_fraction)
    return (1.0 - parallel_fraction) + parallel_fraction * workers


def karp_flatt(speedup_value: float, workers: int) -> float:
    """The experimentally determined serial fraction ``e = (1/S - 1/n) / (1 - 1/n)`` (for n > 1).

    If ``e`` grows with ``n``, overhead grows with the workers, not just a fixed serial part.
    """
    validate.workers(workers)
    if workers == 1:
        raise ValueError("The Karp-Flatt metric needs at least 2 workers.")
    return (1 / speedup_value - 1 / workers) / (1 - 1 / workers)


def fit_serial_fraction(workers: Sequence[int], speedups: Sequence[float]) -> float | None:
    """The serial fraction ``1 - p`` of the Amdahl curve closest to the measured speedups.

    Amdahl's law is linear in the serial fraction ``s`` once rearranged, ``1/S - 1/n = s (1 - 1/n)``,
    so least squares gives ``s`` in closed form. ``None`` until a point with ``n > 1`` exists.
    """
    pairs = [(n, s) for n, s in zip(workers, speedups, strict=True) if n > 1]
    if not pairs:
        return None
    num = sum((1 / s - 1 / n) * (1 - 1 / n) for n, s in pairs)
    den = sum((1 - 1 / n) ** 2 for n, _ in pairs)
    return min(1.0, max(0.0, num / den))


def describe_speedup(speedup_value: float, workers: int, cores: int, cpu_bound: bool = True) -> str:
    """One or two sentences that read a measured speedup honestly, given the usable ``cores`` here."""
    validate.workers(workers)
    text = f"{workers} worker(s) ran {speedup_value:.2f}× as fast as 1 (efficiency {speedup_value / workers:.0%})."
    if cpu_bound and cores < 2:
        text += (" This machine has 1 usable core, so CPU-bound workers can only take turns on it: "
                 "no speedup can appear here, whatever the code does.")
    elif cpu_bound and workers > cores:
        text += (f" Only {cores} cores are usable here, so beyond {cores} workers they take turns "
                 "and CPU-bound work cannot get faster.")
    elif speedup_value < 0.9:
        text += (" Slower than 1 worker: the workers cost more than they saved (starting them, handing them work,"
                 " or taking turns for the GIL or the cores).")
    elif speedup_value < 1.1 and workers > 1:
        text += (" No real speedup: overhead, a serial part, the GIL (for threads running pure Python) or a busy"
                 " machine ate the gain.")
    elif speedup_value > 1.1 * workers:
        text += (" More than ideal, which usually means the 1-worker run was slowed by something else "
                 "(another program, a first-time import): run it again.")
    elif speedup_value < 0.8 * workers:
        text += " A real gain, less than ideal: overhead and any serial part (Amdahl) eat into it."
    else:
        text += " Close to ideal."
    load = resources.load_average()
    if load is not None and load > cores + 0.5:
        text += (f" Note: the machine is busy (load average {load:.1f} on {cores} usable core{'s' * (cores != 1)}), "
                 "so other programs "
                 "compete with the workers and the numbers are noisier than usual.")
    return text


def _fraction(value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"The parallel fraction must be between 0 and 1, not {value}.")


@dataclass
class Scaling:
    """Measured run times against worker counts; speedup and efficiency relative to 1 worker."""

    seconds: dict[int, float] = field(default_factory=dict)

    def add(self, workers: int, seconds: float) -> None:
        """Record (or replace) the time measured with ``workers`` workers."""
        validate.workers(workers)
        if seconds <= 0:
            raise ValueError(f"A run time must be positive, not {seconds}.")
        self.seconds[workers] = seconds

    @property
    def workers(self) -> list[int]:
        return sorted(self.seconds)

    @property
    def times(self) -> list[float]:
        return [self.seconds[n] for n in self.workers]

    @property
    def speedups(self) -> list[float]:
        """Speedups relative to the 1-worker time (empty until that was measured)."""
        if 1 not in self.seconds:
            return []
        return [speedup(self.seconds[1], self.seconds[n]) for n in self.workers]

    @property
    def efficiencies(self) -> list[float]:
        return [efficiency(s, n) for s, n in zip(self.speedups, self.workers, strict=False)]

    @property
    def serial_fraction(self) -> float | None:
        """The Amdahl serial fraction fitted to the speedups so far (``None`` if too few)."""
        return fit_serial_fraction(self.workers, self.speedups) if self.speedups else None

    def table(self) -> str:
        """A plain-text table: workers, seconds, speedup, efficiency."""
        lines = [f"{'workers':>7}  {'seconds':>8}  {'speedup':>7}  {'efficiency':>10}"]
        speedups = self.speedups or [float("nan")] * len(self.workers)
        for n, t, s in zip(self.workers, self.times, speedups, strict=True):
            lines.append(f"{n:>7}  {t:>8.3f}  {s:>7.2f}  {s / n:>10.0%}")
        return "\n".join(lines)


def sweep(run: Callable[[int], object], worker_counts: Sequence[int], repeat: int = 1,
          progress: bool = True) -> Scaling:
    """Time ``run(n)`` for each worker count ``n`` (median of ``repeat``), with a progress bar."""
    counts = [validate.workers(n) for n in validate.items(worker_counts)]
    if 1 not in counts:
        counts = [1, *counts]
    result = Scaling()
    iterator = counts
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(counts, desc="workers", unit="run")
    for n in iterator:
        result.add(n, time_call(run, n, repeat=repeat).wall)
    return result
