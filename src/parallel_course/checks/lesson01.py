"""Checkers for the exercises of lesson 01, why parallel."""

import math
import time

from parallel_course import measure, resources, workloads
from parallel_course.checks import run


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


def check_cpu_share(cpu_share) -> bool:
    """Exercise: ``cpu_share(fn, arg)`` returns CPU seconds divided by wall seconds of one call."""

    def body(check):
        # Each twice, keeping the lower: library threads started by a recent import can spin for a moment,
        # and process_time() counts them (lesson 01's pitfalls), which only ever adds CPU time.
        shares = {}
        for label, fn, arg in (("cpu_bound", workloads.cpu_bound, workloads.task_size("cpu") // 2),
                               ("io_bound", workloads.io_bound, 0.2)):
            for _ in range(2):
                value = check.call(cpu_share, fn, arg)
                if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                    check.fail(f"for {label} you returned {value!r}; expected a non-negative number.")
                shares[label] = min(value, shares.get(label, value))
        busy, idle = shares["cpu_bound"], shares["io_bound"]
        if busy < 0.5:
            check.fail(f"cpu_bound kept the CPU busy only {busy:.0%} of the time by your measure. Hint: use "
                       "time.process_time() for CPU time and time.perf_counter() for wall time, around the call.")
        if idle > 0.3:
            check.fail(f"io_bound (a sleep) used the CPU {idle:.0%} of the time by your measure. Hint: "
                       "divide CPU time by wall time, not the other way round.")
        return check.passed(f"cpu_bound: {busy:.0%} of the wall time on the CPU; io_bound: {idle:.0%}.")

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
        start = time.perf_counter()
        got = check.call(parallel_total, sizes, workers)
        parallel_seconds = time.perf_counter() - start
        if got != want or serial != want:
            check.fail(f"expected the total {want}, got {got!r}. Hint: map cpu_bound over the sizes with "
                       "backends.run('processes', ...) and add up the results.")
        cores = resources.usable_cores()
        ratio = serial_seconds / parallel_seconds
        if cores < 2:
            speed = "With 1 usable core no speedup is possible, so the speed part is skipped."
        else:
            speed = (f"Serial {serial_seconds:.2f} s, parallel with {workers} workers "
                     f"{parallel_seconds:.2f} s ({ratio:.2f}×).")
            if ratio < 0.5:
                speed += " That is much slower than serial: is each task big enough to pay for the pool?"
        return check.passed(speed)

    return run("Parallel total", body)
