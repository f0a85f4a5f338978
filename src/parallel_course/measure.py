"""Timing done properly, and the arithmetic of scaling: speedup, efficiency, Amdahl, Gustafson, Karp-Flatt.

Time with a wall clock (``time.perf_counter``), warm up, repeat, keep every sample, and summarise with the
**median**: it describes a typical run and one slow run (another program, a first-time import) does not move
it. (``timeit`` and :mod:`parallel_course.timeline` keep the **minimum** instead, the least disturbed run,
which suits micro-benchmarks of one snippet; both are fine when you say which and show the spread.)

A scaling experiment has two baselines, and this module names them:

- **absolute speedup** ``T_serial / T(n)``: against the plain loop, no pool at all. This is what
  parallelising gains you, and what the course reads.
- **relative speedup** ``T(1) / T(n)``: against a 1-worker pool of the same kind. It hides what the pool
  itself costs, so it flatters the parallel version.

Start-up (creating the pool, starting the workers) is measured apart from the steady state (mapping on a
pool that is already running): a one-off script pays both, a program that keeps its pool pays the
start-up once.
"""

import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from parallel_course import validate


@dataclass(frozen=True)
class Timing:
    """Wall-clock and CPU seconds of one call (medians over ``repeat`` runs, every sample kept), and its result."""

    wall: float
    cpu: float
    repeat: int
    result: object = field(repr=False, default=None)
    walls: tuple = field(repr=False, default=())
    cpus: tuple = field(repr=False, default=())

    @property
    def cpu_share(self) -> float:
        """CPU seconds per wall second of *this* process: ~1 busy computing, ~0 waiting.

        It is the median of each run's own ratio, so CPU and wall time always come from the same run.
        """
        if self.walls:
            return statistics.median(c / w if w > 0 else 0.0 for c, w in zip(self.cpus, self.walls, strict=True))
        return self.cpu / self.wall if self.wall > 0 else 0.0

    @property
    def spread(self) -> float:
        """(slowest - fastest) / median of the wall times: the noise of this measurement."""
        return (max(self.walls) - min(self.walls)) / self.wall if self.walls and self.wall > 0 else 0.0


def time_call(fn: Callable, *args, repeat: int = 3, **kwargs) -> Timing:
    """Call ``fn(*args, **kwargs)`` ``repeat`` times; return the median wall and CPU time and every sample."""
    validate.positive_int(repeat, "repeat")
    walls, cpus = [], []
    result = None
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        result = fn(*args, **kwargs)
        cpus.append(time.process_time() - c0)
        walls.append(time.perf_counter() - w0)
    return Timing(statistics.median(walls), statistics.median(cpus), repeat, result, tuple(walls), tuple(cpus))


def speedup(serial_seconds: float, parallel_seconds: float) -> float:
    """How many times faster the parallel run was: ``T_baseline / T(n)``."""
    if serial_seconds <= 0 or parallel_seconds <= 0:
        raise ValueError("Times must be positive numbers of seconds.")
    return serial_seconds / parallel_seconds


def efficiency(speedup_value: float, workers: int) -> float:
    """Speedup per worker: 1.0 means every worker was fully useful."""
    validate.workers(workers)
    return speedup_value / workers


def amdahl(parallel_fraction: float, workers) -> float:
    """Amdahl's law: the best speedup of a fixed job whose ``parallel_fraction`` can be spread out.

    ``S(n) = 1 / ((1 - p) + p / n)``; as ``n`` grows it approaches ``1 / (1 - p)``. The serial part
    ``1 - p`` is work that takes the same time whatever ``n`` is; costs that grow with ``n`` (starting
    workers, sending them work) are a different term: ``T(n) = T1 ((1 - p) + p / n) + overhead(n)``.
    """
    _fraction(parallel_fraction)
    return 1.0 / ((1.0 - parallel_fraction) + parallel_fraction / workers)


def gustafson(parallel_fraction: float, workers) -> float:
    """Gustafson's law: the speedup when the job grows with the workers, ``S(n) = (1 - p) + p * n``.

    Here ``p`` is the parallel share of the run *on n workers* (the usual definition).
    """
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
    """The serial fraction ``1 - p`` of the Amdahl curve closest to the measured speedups (least squares).

    Amdahl's law is linear in the serial fraction ``s`` once rearranged, ``1/S - 1/n = s (1 - 1/n)``,
    so least squares gives ``s`` in closed form. ``None`` until a point with ``n > 1`` exists. This only
    computes; :func:`amdahl_fit` says whether the fit means anything.
    """
    pairs = [(n, s) for n, s in zip(workers, speedups, strict=True) if n > 1]
    if not pairs:
        return None
    num = sum((1 / s - 1 / n) * (1 - 1 / n) for n, s in pairs)
    den = sum((1 - 1 / n) ** 2 for n, _ in pairs)
    return min(1.0, max(0.0, num / den))


FLAT = 0.05  # Karp-Flatt values within 5 percentage points of each other count as flat


@dataclass(frozen=True)
class AmdahlFit:
    """An Amdahl fit and its verdict: ``fraction`` is ``None`` where the data cannot support one (see ``reason``)."""

    fraction: float | None
    karp_flatt: dict
    reason: str


def amdahl_fit(workers: Sequence[int], speedups: Sequence[float]) -> AmdahlFit:
    """Fit Amdahl's serial fraction only when it can mean something.

    It needs at least 3 worker counts (1 and two more) and a flat Karp-Flatt metric ``e(n)``: a constant
    serial part gives the same ``e`` at every ``n``, while start-up and communication that grow with ``n``
    make ``e`` rise, and then no Amdahl curve describes the data.
    """
    counts = sorted(set(workers))
    e = {n: karp_flatt(s, n) for n, s in zip(workers, speedups, strict=True) if n > 1}
    if len(counts) < 3 or len(e) < 2:
        return AmdahlFit(None, e, f"An Amdahl fit needs at least 3 worker counts (1 and two more); measured "
                                  f"{len(counts)}: {', '.join(map(str, counts)) or 'none'}.")
    values = [e[n] for n in sorted(e)]
    if max(values) - min(values) > FLAT:
        trend = "rises" if values[-1] > values[0] else "changes"
        return AmdahlFit(None, e, f"The Karp-Flatt metric {trend} with n ({', '.join(f'{v:.1%}' for v in values)}): "
                                  "losses that grow with the workers (start-up, communication, uneven rounds) "
                                  "are not a fixed serial part, so no Amdahl fraction is fitted.")
    fraction = fit_serial_fraction(workers, speedups)
    return AmdahlFit(fraction, e, f"Karp-Flatt is flat ({', '.join(f'{v:.1%}' for v in values)}): "
                                  f"a serial fraction of about {fraction:.1%} fits.")


def staircase_bound(tasks: int, workers) -> float:
    """The best speedup of ``tasks`` equal tasks on ``workers`` workers: ``tasks / ceil(tasks / n)`` rounds."""
    return tasks / math.ceil(tasks / workers)


def describe_speedup(speedup_value: float, workers: int, cores: float, cpu_bound: bool = True,
                     busy=None, tasks: int | None = None, baseline: str = "the baseline") -> str:
    """One or a few sentences that read a measured speedup honestly, given the usable ``cores`` here.

    ``busy`` (a :class:`~parallel_course.resources.BusyReading`) says how much of the gap to the ideal
    other programs explain; ``tasks`` (equal tasks) adds the ``ceil(tasks / n)`` bound.
    """
    validate.workers(workers)
    text = (f"{workers} worker(s) ran {speedup_value:.2f}× as fast as {baseline} "
            f"(efficiency {speedup_value / workers:.0%}).")
    ideal = float(workers)
    if cpu_bound:
        ideal = min(ideal, cores)
    if tasks is not None:
        ideal = min(ideal, staircase_bound(tasks, workers))
        if staircase_bound(tasks, workers) < workers:
            text += (f" With {tasks} equal tasks, {workers} workers need {math.ceil(tasks / workers)} rounds, "
                     f"so {staircase_bound(tasks, workers):.2f}× is the best possible.")
    if cpu_bound and cores < 2:
        text += (" This machine has 1 usable core, so CPU-bound workers can only take turns on it: "
                 "no speedup can appear here, whatever the code does.")
    elif cpu_bound and workers > cores:
        text += (f" Only {cores:g} cores are usable here, so beyond {cores:g} workers they take turns "
                 "and CPU-bound work cannot get faster.")
    elif speedup_value < 0.9:
        text += (" Slower than the baseline: the workers cost more than they saved (starting them, handing them "
                 "work, or taking turns for the GIL or the cores).")
    elif speedup_value < 1.1 and workers > 1:
        text += (" No real speedup: overhead, the GIL (for threads running pure Python) or a busy machine "
                 "ate the gain.")
    elif speedup_value > 1.1 * workers:
        text += (" More than ideal, which usually means the baseline was slowed by something else "
                 "(another program, a first-time import): run it again.")
    elif speedup_value < 0.8 * ideal:
        text += (" A real gain, less than ideal: the costs of handing out work, a part that does not run "
                 "in parallel, or other programs on the cores eat into it.")
    else:
        text += " Close to ideal."
    if busy is not None:
        text += " " + explain_gap(speedup_value, ideal, busy, cpu_bound)
    return text


def explain_gap(speedup_value: float, ideal: float, busy, cpu_bound: bool = True) -> str:
    """How much of the gap between ``ideal`` and the measured speedup other programs' CPU use explains."""
    if not cpu_bound:
        return f"(Machine during the run: {busy})"
    gap = ideal - speedup_value
    possible = max(1.0, min(ideal, busy.free_cores))
    lost = ideal - possible
    if gap <= 0.05 * ideal:
        return f"Machine during the run: {busy}"
    if lost <= 0.02:
        return f"Machine during the run: {busy} Other programs explain none of the gap to the ideal."
    share = min(1.0, lost / gap)
    return (f"Machine during the run: {busy} With about {possible:.1f} cores free, {possible:.1f}× was the best "
            f"possible, which explains about {share:.0%} of the gap to the ideal {ideal:.1f}×.")


def _fraction(value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"The parallel fraction must be between 0 and 1, not {value}.")


def _positive(seconds: float) -> float:
    if seconds <= 0:
        raise ValueError(f"A run time must be positive, not {seconds}.")
    return seconds


@dataclass
class Scaling:
    """Every measured sample of a scaling experiment: the serial loop, start-ups and steady-state maps.

    ``samples[n]`` are the seconds of mapping on a running pool of ``n`` workers (steady state),
    ``startup[n]`` the seconds to start such a pool, ``serial`` the seconds of the plain loop, and ``tasks``
    the number of equal tasks (for the staircase bound). Medians summarise; nothing is overwritten.
    """

    samples: dict[int, list[float]] = field(default_factory=dict)
    startup: dict[int, list[float]] = field(default_factory=dict)
    serial: list[float] = field(default_factory=list)
    tasks: int | None = None
    busy_before: object = None
    busy_during: object = None

    def add(self, workers: int, seconds: float) -> None:
        """Record one steady-state time measured with ``workers`` workers."""
        validate.workers(workers)
        self.samples.setdefault(workers, []).append(_positive(seconds))

    def add_startup(self, workers: int, seconds: float) -> None:
        """Record the time to start a pool of ``workers`` workers."""
        validate.workers(workers)
        self.startup.setdefault(workers, []).append(_positive(seconds))

    def add_serial(self, seconds: float) -> None:
        """Record one time of the plain serial loop (the absolute baseline)."""
        self.serial.append(_positive(seconds))

    @property
    def seconds(self) -> dict[int, float]:
        """Median steady-state seconds per worker count."""
        return {n: statistics.median(s) for n, s in sorted(self.samples.items())}

    @property
    def workers(self) -> list[int]:
        return sorted(self.samples)

    @property
    def times(self) -> list[float]:
        return [statistics.median(self.samples[n]) for n in self.workers]

    @property
    def serial_seconds(self) -> float | None:
        """Median of the plain loop, ``None`` until measured."""
        return statistics.median(self.serial) if self.serial else None

    def startup_seconds(self, workers: int) -> float | None:
        """Median start-up of a pool of ``workers`` workers, ``None`` until measured."""
        return statistics.median(self.startup[workers]) if self.startup.get(workers) else None

    def one_off_seconds(self, workers: int) -> float | None:
        """What a one-off run pays: start-up plus one steady-state map (``None`` without a start-up)."""
        start = self.startup_seconds(workers)
        return None if start is None else start + self.seconds[workers]

    @property
    def absolute_speedups(self) -> list[float]:
        """``T_serial / T(n)`` at each worker count (steady state); empty until the serial loop was measured."""
        base = self.serial_seconds
        return [] if base is None else [speedup(base, t) for t in self.times]

    @property
    def one_off_speedups(self) -> list[float | None]:
        """``T_serial / (start-up + T(n))``: the absolute speedup a one-off run gets."""
        base = self.serial_seconds
        if base is None:
            return []
        return [None if self.one_off_seconds(n) is None else base / self.one_off_seconds(n) for n in self.workers]

    @property
    def relative_speedups(self) -> list[float]:
        """``T(1) / T(n)`` against a 1-worker pool; empty until that was measured."""
        if 1 not in self.samples:
            return []
        base = statistics.median(self.samples[1])
        return [speedup(base, t) for t in self.times]

    @property
    def speedups(self) -> list[float]:
        """The speedups the course reads: absolute when the serial loop was measured, else relative."""
        return self.absolute_speedups or self.relative_speedups

    @property
    def efficiencies(self) -> list[float]:
        return [efficiency(s, n) for s, n in zip(self.speedups, self.workers, strict=False)]

    @property
    def fit(self) -> AmdahlFit:
        """The Amdahl fit of the absolute (else relative) speedups, with its verdict."""
        if not self.speedups:
            return AmdahlFit(None, {}, "No speedup measured yet.")
        return amdahl_fit(self.workers, self.speedups)

    @property
    def serial_fraction(self) -> float | None:
        """The fitted Amdahl serial fraction, or ``None`` when :attr:`fit` refuses (``fit.reason`` says why)."""
        return self.fit.fraction

    def table(self) -> str:
        """A plain-text table: steady-state seconds with their range, start-up, one-off, both speedups."""
        base = self.serial_seconds
        lines = []
        if base is not None:
            lines.append(f"plain serial loop: {base:.3f} s (median of {len(self.serial)}, "
                         f"{min(self.serial):.3f}-{max(self.serial):.3f})")
        lines.append(f"{'workers':>7}  {'kept pool s':>11}  {'range':>13}  {'start-up s':>10}  {'one-off s':>9}  "
                     f"{'absolute':>8}  {'one-off':>7}  {'relative':>8}  {'efficiency':>10}")
        nan = float("nan")
        absolute = self.absolute_speedups or [nan] * len(self.workers)
        relative = self.relative_speedups or [nan] * len(self.workers)
        one_off = self.one_off_speedups or [None] * len(self.workers)
        for n, t, a, o, r in zip(self.workers, self.times, absolute, one_off, relative, strict=True):
            start, cold = self.startup_seconds(n), self.one_off_seconds(n)
            spread = f"{min(self.samples[n]):.3f}-{max(self.samples[n]):.3f}"
            lines.append(f"{n:>7}  {t:>11.3f}  {spread:>13}  {_opt(start):>10}  {_opt(cold):>9}  {a:>7.2f}×  "
                         f"{_opt(o, '.2f') + ('×' if o else ' '):>7}  {r:>7.2f}×  {a / n:>10.0%}")
        lines.append("absolute = serial loop / kept pool; one-off = serial loop / (start-up + kept pool); "
                     "relative = 1-worker pool / n-worker pool")
        return "\n".join(lines)


def _opt(value, spec: str = ".3f") -> str:
    return "-" if value is None else format(value, spec)


def sweep(run: Callable[[int], object], worker_counts: Sequence[int], repeat: int = 3,
          progress: bool = True, serial: Callable[[], object] | None = None) -> Scaling:
    """Time ``run(n)`` for each worker count ``n``, ``repeat`` rounds in alternating order, after one warm-up.

    ``serial`` (optional) is the plain loop, timed in every round too. Each round goes through the counts
    forwards, the next backwards, so drift (a warming CPU, another program) does not land on one end.
    """
    counts = [validate.workers(n) for n in validate.items(worker_counts)]
    if 1 not in counts:
        counts = [1, *counts]
    validate.positive_int(repeat, "repeat")
    result = Scaling()
    run(counts[0])  # untimed warm-up: first-time imports, a forkserver's start
    steps = [None, *counts] if serial is not None else list(counts)
    rounds = range(repeat)
    if progress:
        from tqdm.auto import tqdm

        rounds = tqdm(rounds, desc="rounds", unit="round")
    for r in rounds:
        for n in steps if r % 2 == 0 else steps[::-1]:
            start = time.perf_counter()
            serial() if n is None else run(n)
            seconds = time.perf_counter() - start
            result.add_serial(seconds) if n is None else result.add(n, seconds)
    return result
