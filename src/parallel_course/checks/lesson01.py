"""Checkers for the exercises of lesson 01, why parallel."""

import math
import os
import time

from parallel_course import measure, resources, workloads
from parallel_course.checks import POOL_TIMEOUT, probes, run


def check_amdahl(amdahl_speedup) -> bool:
    """Exercise: ``amdahl_speedup(p, n)`` returns Amdahl's speedup for parallel fraction p on n workers."""

    def body(check):
        for p, n in [(0.0, 8), (1.0, 8), (0.5, 2), (0.9, 10), (0.95, 64), (0.75, 1)]:
            got = check.call(amdahl_speedup, p, n)
            want = measure.amdahl(p, n)
            if not isinstance(got, int | float) or not math.isclose(got, want, rel_tol=1e-6):
                check.fail(f"for p={p}, n={n} you returned {got!r}, expected {want:.4f}. "
                           "Hint: the serial part (1 - p) takes the same time; the parallel part p is divided by n.")
        return check.passed("With p = 0.95 even 64 workers give only "
                            f"{measure.amdahl(0.95, 64):.1f}× — the serial 5% dominates.")

    return run("Amdahl's law", body)


def check_speedup_table(speedup_table) -> bool:
    """Exercise: ``speedup_table(times)`` maps each worker count to ``(speedup, efficiency)``."""

    def body(check):
        times = {1: 8.0, 2: 4.4, 4: 2.5, 8: 1.6}
        got = check.call(speedup_table, dict(times))
        if not isinstance(got, dict) or sorted(got) != sorted(times):
            check.fail(f"return a dict with one entry per worker count {sorted(times)}, not {got!r}.")
        for n, t in times.items():
            want = (times[1] / t, times[1] / t / n)
            entry = got[n]
            if (not isinstance(entry, tuple | list) or len(entry) != 2
                    or not all(math.isclose(a, b, rel_tol=1e-6) for a, b in zip(entry, want, strict=True))):
                check.fail(f"for {n} workers expected (speedup, efficiency) = ({want[0]:.2f}, {want[1]:.2f}), "
                           f"got {entry!r}. Hint: speedup = T1 / Tn and efficiency = speedup / n.")
        return check.passed(f"At 8 workers the efficiency is {times[1] / times[8] / 8:.0%}: "
                            "each added worker helps less.")

    return run("Speedup table", body)


def _share(fn, arg) -> float:
    """The checker's own reading: CPU seconds over wall seconds of one ``fn(arg)``."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn(arg)
    return (time.process_time() - cpu) / max(time.perf_counter() - wall, 1e-9)


def check_cpu_share(cpu_share) -> bool:
    """Exercise: ``cpu_share(fn, arg)`` returns CPU seconds divided by wall seconds of one call."""

    def body(check):
        # The learner's reading is judged against the checker's own readings of the same call, taken just
        # before and just after it: on a busy machine both drop together, so no fixed threshold is needed.
        # The learner's reading of cpu_bound keeps the higher of its two tries (other programs can only take
        # CPU away from it) and is compared with the *lowest* of the checker's readings, since under load a
        # reading can land in any slice of the machine's turns; io_bound keeps the lowest of both (library
        # threads started by a recent import can only add CPU time).
        keep = {"cpu_bound": max, "io_bound": min}
        shares, own = {}, {"cpu_bound": [], "io_bound": []}
        for label, fn, arg in (("cpu_bound", workloads.cpu_bound, workloads.task_size("cpu") // 2),
                               ("io_bound", workloads.io_bound, 0.2)):
            for _ in range(2):
                own[label].append(_share(fn, arg))
                value = check.call(cpu_share, fn, arg)
                own[label].append(_share(fn, arg))
                if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                    check.fail(f"for {label} you returned {value!r}; expected a non-negative number.")
                shares[label] = keep[label](value, shares.get(label, value))
        own = {"cpu_bound": min(own["cpu_bound"]), "io_bound": min(own["io_bound"])}
        busy, idle = shares["cpu_bound"], shares["io_bound"]
        if busy < 0.5 * own["cpu_bound"]:
            check.fail(f"cpu_bound kept the CPU busy only {busy:.0%} of the time by your measure, while the "
                       f"checker's own reading of the same call was {own['cpu_bound']:.0%}. Hint: CPU time "
                       "comes from a clock that counts only this process's work; wall time from a clock "
                       "that counts everything.")
        if idle > max(0.3, 2 * own["io_bound"]):
            check.fail(f"io_bound (a sleep) used the CPU {idle:.0%} of the time by your measure. Hint: "
                       "divide CPU time by wall time, not the other way round.")
        note = ""
        if own["cpu_bound"] < 0.8:
            note = (f" The checker's own reading was {own['cpu_bound']:.0%} too: other programs are taking "
                    "turns on the CPU with this one.")
        return check.passed(f"cpu_bound: {busy:.0%} of the wall time on the CPU; io_bound: {idle:.0%}.{note}")

    return run("CPU or I/O", body)


def check_parallel_total(parallel_total) -> bool:
    """Exercise: ``parallel_total(sizes, workers)`` sums ``cpu_bound`` over ``sizes`` with a process pool."""

    def body(check):
        sizes = [workloads.task_size("cpu") // 4] * 8
        workers = min(2, resources.worker_cap())
        want = sum(workloads.cpu_bound_expected(n) for n in sizes)
        start = time.perf_counter()
        serial = sum(workloads.cpu_bound(n) for n in sizes)
        serial_seconds = time.perf_counter() - start
        with probes.PoolProbe(rendezvous=2) as probe:
            start = time.perf_counter()
            got = check.call_within(POOL_TIMEOUT, parallel_total, list(sizes), workers)
            parallel_seconds = time.perf_counter() - start
        if probe.refused:
            check.fail(probe.refused[0])
        if got != want or serial != want:
            check.fail(f"expected the total {want}, got {got!r}. Hint: add up what cpu_bound returns for each "
                       "size, computed by worker processes.")
        if not probe.pids():
            check.fail("the total is right, but no worker process computed it: it was worked out in this "
                       "process. Hint: hand cpu_bound and the sizes to backends.run with the processes backend.")
        if len(probe.pids()) < min(2, workers):
            check.fail(f"only one worker process did any of the work, although workers={workers}. Hint: pass "
                       "workers on to the pool.")
        if os.getpid() in probe.pids():
            check.fail("some tasks ran in this process instead of a worker process.")
        cores = resources.usable_cores()
        ratio = serial_seconds / parallel_seconds
        pids = len(probe.pids())
        if cores < 2:
            speed = "With 1 usable core no speedup is possible, so the speed part is skipped."
        else:
            speed = (f"Serial {serial_seconds:.2f} s, parallel with {workers} workers (pool start included) "
                     f"{parallel_seconds:.2f} s ({ratio:.2f}×).")
            if ratio < 0.5:
                speed += " That is much slower than serial: is each task big enough to pay for the pool?"
        return check.passed(f"{pids} worker processes computed the {len(sizes)} tasks. {speed}")

    return run("Parallel total", body)
