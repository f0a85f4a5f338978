"""``python -m parallel_course bench``: a scaling table and a per-task overhead table, measured here.

Both follow the course's measuring rules: the plain serial loop is the baseline, each pool is started
(and its start-up timed) apart from the steady state, one untimed warm-up map runs first, and every point
is repeated in alternating order with its range shown.
"""

import statistics
import time

from parallel_course import backends, resources, settings, validate, workloads
from parallel_course.measure import Scaling


def scaling(kind: str = "cpu", backend: str = "processes", tasks: int | None = None,
            max_workers: int | None = None, repeat: int = 3) -> str:
    """Time ``tasks`` tasks of workload ``kind`` on 1..max_workers kept workers of ``backend``, and the serial loop."""
    max_workers = resources.worker_cap() if max_workers is None else validate.workers(max_workers)
    items = workloads.panel_tasks(kind, cap=max_workers) if tasks is None else workloads.tasks(kind, tasks)
    fn = workloads.function(kind)
    result = Scaling(tasks=len(items))
    busy = resources.busy_reading(0.3)
    fn(items[0])  # untimed warm-up of the serial loop
    pools = {}
    try:
        for n in range(1, max_workers + 1):
            pools[n] = backends.open_pool(backend, n, warm=fn)
            result.add_startup(n, pools[n].startup_seconds)
            pools[n].map(fn, items[:n])  # untimed warm-up map
        steps = [None, *range(1, max_workers + 1)]
        for r in range(validate.positive_int(repeat, "repeat")):
            for step in steps if r % 2 == 0 else steps[::-1]:
                start = time.perf_counter()
                backends.serial(fn, items) if step is None else pools[step].map(fn, items)
                seconds = time.perf_counter() - start
                result.add_serial(seconds) if step is None else result.add(step, seconds)
    finally:
        for pool in pools.values():
            pool.close()
    return (f"{len(items)} × {fn.__name__}({items[0]}) on {backend}, usable cores {resources.usable_cores()}, "
            f"start method {settings.start_method()}, {repeat} rounds\n"
            f"before: {busy if busy is not None else 'no busy reading on this platform'}\n"
            f"{result.table()}\nAmdahl: {result.fit.reason}")


def overhead(tasks: int = 200, workers: int = 2, repeat: int = 3) -> str:
    """Milliseconds per tiny task (``square``) on each backend's kept pool, start-up shown apart."""
    lines = [f"{'backend':>10}  {'ms per task':>11}  {'start-up ms':>11}  "
             f"({tasks} tiny tasks, {workers} workers, median of {repeat} maps on a warm pool)"]
    for name in backends.ADAPTERS:
        with backends.open_pool(name, workers, warm=workloads.square) as pool:
            pool.map(workloads.square, range(workers))  # untimed warm-up
            runs = []
            for _ in range(repeat):
                start = time.perf_counter()
                pool.map(workloads.square, range(tasks))
                runs.append(time.perf_counter() - start)
        lines.append(f"{name:>10}  {statistics.median(runs) / tasks * 1000:>11.3f}  "
                     f"{pool.startup_seconds * 1000:>11.1f}")
    return "\n".join(lines)


def main(kind: str, backend: str, max_workers: int | None) -> int:
    print(scaling(kind, backend, max_workers=max_workers), end="\n\n")
    print(overhead())
    return 0
