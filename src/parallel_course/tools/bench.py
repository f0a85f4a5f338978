"""``python -m parallel_course bench``: a scaling table and a per-task overhead table, measured here."""

import time

from parallel_course import backends, resources, settings, validate, workloads
from parallel_course.measure import sweep


def scaling(kind: str = "cpu", backend: str = "processes", tasks: int | None = None,
            max_workers: int | None = None) -> str:
    """Time ``tasks`` tasks of workload ``kind`` on 1..max_workers workers of ``backend``."""
    max_workers = resources.worker_cap() if max_workers is None else validate.workers(max_workers)
    items = workloads.tasks(kind, tasks or 2 * max_workers)
    fn = workloads.function(kind)
    result = sweep(lambda n: backends.run(backend, fn, items, n), range(1, max_workers + 1))
    fraction = result.serial_fraction
    fit = "n/a" if fraction is None else f"{fraction:.1%}"
    return (f"{len(items)} × {fn.__name__}({items[0]}) on {backend}, usable cores {resources.usable_cores()}, "
            f"start method {settings.start_method()}\n{result.table()}\nAmdahl serial fraction (fit): {fit}")


def overhead(tasks: int = 200, workers: int = 2) -> str:
    """Milliseconds per tiny task (``square``) on each backend: the cost of shipping work around."""
    lines = [f"{'backend':>10}  {'ms per task':>11}  ({tasks} tiny tasks, {workers} workers, pool start included)"]
    for name in backends.ADAPTERS:
        start = time.perf_counter()
        backends.run(name, workloads.square, range(tasks), workers)
        lines.append(f"{name:>10}  {(time.perf_counter() - start) / tasks * 1000:>11.3f}")
    return "\n".join(lines)


def main(kind: str, backend: str, max_workers: int | None) -> int:
    print(scaling(kind, backend, max_workers=max_workers), end="\n\n")
    print(overhead())
    return 0
