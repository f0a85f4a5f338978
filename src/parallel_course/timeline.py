"""Record which worker ran which task, and when; then draw it.

A *span* says that one worker (a thread or a process) was busy with one task from ``start`` to ``end``.
Wrap a worker function in :class:`Traced` (one span per call) or :class:`Chunked` (one span per stretch
of uninterrupted progress, which shows threads taking turns), run it with :func:`run`, and draw the
result with :func:`timeline_figure`::

    from parallel_course import timeline, workloads

    rec = timeline.run("threads", workloads.io_bound, [0.1] * 4, workers=2)
    print(rec.wall, timeline.concurrency(rec.spans))
    timeline.timeline_figure(rec, title="4 waits on 2 threads")

The wrappers are plain classes defined here, so they pickle by reference and work in process pools under
fork, spawn and forkserver, as long as the wrapped function lives in a module too.

**The clock.** Every time stamp comes from :func:`clock`, which is ``time.perf_counter``. On Linux, macOS
and Windows it reads one system-wide monotonic clock (``CLOCK_MONOTONIC``, ``mach_absolute_time`` /
``CLOCK_UPTIME_RAW``, ``QueryPerformanceCounter``), so stamps taken by different threads *and* different
processes of one machine can be compared. (Python's documentation promises only that differences within
one process are meaningful; on other platforms, treat cross-process timelines with care.) Stamps from
different machines cannot be compared.

This module imports matplotlib only inside the drawing functions: worker processes import it to unpickle
the wrappers and must stay light.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import statistics
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from parallel_course import backends, validate

clock = time.perf_counter
"""The clock of every span: seconds, monotonic, comparable across threads and processes of one machine."""

DEFAULT_GAP = 4.0


@dataclass(frozen=True)
class Span:
    """One worker busy with one task (``label``) from ``start`` to ``end`` (seconds of :func:`clock`)."""

    worker: str
    start: float
    end: float
    label: str = ""

    def __post_init__(self):
        for name in ("start", "end"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise TypeError(f"A span's {name} must be a number of seconds, not {type(value).__name__}.")
        if self.end < self.start:
            raise ValueError(f"A span cannot end ({self.end}) before it starts ({self.start}).")

    @property
    def duration(self) -> float:
        """Seconds from start to end."""
        return self.end - self.start


def worker_name() -> str:
    """A name for the worker running this code: its thread's name, or ``process <pid>`` in a worker process.

    Threads of a ``ThreadPoolExecutor`` are called ``ThreadPoolExecutor-<pool>_<n>``; the kernel's own
    thread is ``MainThread``. In a child process the pid comes first, so threads of different processes
    never share a name.
    """
    thread = threading.current_thread()
    if multiprocessing.parent_process() is None:
        return thread.name
    if thread is threading.main_thread():
        return f"process {os.getpid()}"
    return f"process {os.getpid()} / {thread.name}"


def slices(worker: str, ticks: Iterable[float], label: str = "", gap: float = DEFAULT_GAP) -> list[Span]:
    """Turn time stamps taken after each small piece of work into the stretches when the worker progressed.

    ``ticks`` holds the time before the first piece and after each piece. A step between two ticks that
    took more than ``gap`` times the median step was interrupted: the worker waited (for the GIL, or for
    a core) somewhere inside it, so it is left out. Consecutive short steps merge into one span.
    """
    ticks = list(ticks)
    if isinstance(gap, bool) or not isinstance(gap, int | float) or gap < 1:
        raise ValueError(f"The gap factor must be a number of at least 1, not {gap!r}.")
    if any(b < a for a, b in zip(ticks, ticks[1:], strict=False)):
        raise ValueError("The time stamps must never go backwards.")
    if len(ticks) < 2:
        return []
    steps = [b - a for a, b in zip(ticks, ticks[1:], strict=False)]
    limit = gap * statistics.median(steps)
    spans, begin = [], None
    for i, step in enumerate(steps):
        if step <= limit:
            begin = ticks[i] if begin is None else begin
        elif begin is not None:
            spans.append(Span(worker, begin, ticks[i], label))
            begin = None
    if begin is not None:
        spans.append(Span(worker, begin, ticks[-1], label))
    return spans


class Traced:
    """Wrap ``fn`` so that each call returns ``(result, [span])``: who ran it, from when to when.

    The span covers the whole call, waiting included: use :class:`Chunked` to see *when inside* a task
    the worker really made progress.
    """

    def __init__(self, fn: Callable):
        if not callable(fn):
            raise TypeError(f"The task must be a function, not {type(fn).__name__}.")
        self.fn = fn

    def __call__(self, item, label: str = ""):
        start = clock()
        result = self.fn(item)
        return result, [Span(worker_name(), start, clock(), label)]

    def __repr__(self):
        return f"Traced({getattr(self.fn, '__name__', self.fn)!r})"


class Chunked:
    """Wrap ``fn`` so that one task runs ``fn(item)`` ``pieces`` times and records its progress.

    Each call returns ``(results, spans)``: the ``pieces`` results, and the stretches in which the worker
    made progress (see :func:`slices`). Choose pieces much shorter than what you want to see: to see
    threads take turns every few milliseconds, each piece should take well under a millisecond.
    """

    def __init__(self, fn: Callable, pieces: int, gap: float = DEFAULT_GAP):
        if not callable(fn):
            raise TypeError(f"The task must be a function, not {type(fn).__name__}.")
        self.fn = fn
        self.pieces = validate.positive_int(pieces, "The number of pieces")
        slices("check", [], gap=gap)  # validates the gap factor
        self.gap = gap

    def __call__(self, item, label: str = ""):
        fn, results = self.fn, []
        ticks = [clock()]
        for _ in range(self.pieces):
            results.append(fn(item))
            ticks.append(clock())
        return results, slices(worker_name(), ticks, label, self.gap)

    def __repr__(self):
        return f"Chunked({getattr(self.fn, '__name__', self.fn)!r}, pieces={self.pieces})"


class _Labelled:
    """Calls a traced task on ``(index, item)`` and labels its spans ``task <index>`` (picklable)."""

    def __init__(self, task):
        self.task = task

    def __call__(self, pair):
        index, item = pair
        return self.task(item, label=f"task {index}")


@dataclass(repr=False)
class Recording:
    """The results and spans of one :func:`run`, and when it started and ended (seconds of :func:`clock`)."""

    results: list
    spans: list[Span]
    start: float
    end: float
    backend: str = ""
    workers: int = 1

    def __repr__(self):
        return (f"Recording({self.backend}, {self.workers} worker(s): {len(self.results)} results, "
                f"{len(self.spans)} spans, wall {self.wall:.3f} s)")

    @property
    def wall(self) -> float:
        """Wall-clock seconds of the whole run, starting the pool included."""
        return self.end - self.start

    @property
    def worker_names(self) -> list[str]:
        """The workers that appear in the spans, in the order they first started."""
        return ordered_workers(self.spans)


def run(backend: str, task, items, workers: int = 1, repeat: int = 1) -> Recording:
    """Run ``task`` over ``items`` on ``workers`` workers of ``backend`` and record every span.

    ``task`` is a :class:`Traced` or :class:`Chunked` wrapper, or a plain function (then it is traced).
    ``backend`` is ``"serial"``, ``"threads"`` or ``"processes"``, as in :mod:`parallel_course.backends`.
    The results keep the order of ``items``; spans are labelled ``task 0``, ``task 1``, ...
    With ``repeat`` above 1 the whole run is repeated and the fastest recording is returned: the one
    that other programs on the machine disturbed least (the choice :mod:`timeit` makes too).
    """
    if not isinstance(task, Traced | Chunked):
        task = Traced(task)
    pairs = list(enumerate(validate.items(items)))
    validate.positive_int(repeat, "The number of repeats")
    best = None
    for _ in range(repeat):
        start = clock()
        outputs = backends.run(backend, _Labelled(task), pairs, workers)
        end = clock()
        if best is None or end - start < best[2] - best[1]:
            best = (outputs, start, end)
    outputs, start, end = best
    results = [result for result, _ in outputs]
    spans = sorted((span for _, spans in outputs for span in spans), key=lambda s: s.start)
    return Recording(results, spans, start, end, backend, workers)


def _check_spans(spans) -> list[Span]:
    if isinstance(spans, Recording):
        spans = spans.spans
    if isinstance(spans, str | bytes) or not isinstance(spans, Iterable):
        raise TypeError(f"Give a list of spans (or a Recording), not {type(spans).__name__}.")
    spans = list(spans)
    if not spans:
        raise ValueError("There are no spans: record some work first (timeline.run).")
    for span in spans:
        if not isinstance(span, Span):
            raise TypeError(f"Every item must be a timeline.Span, not {type(span).__name__}.")
    return spans


def ordered_workers(spans) -> list[str]:
    """The workers of ``spans`` in the order they first started."""
    first: dict[str, float] = {}
    for span in _check_spans(spans):
        first[span.worker] = min(first.get(span.worker, span.start), span.start)
    return sorted(first, key=first.__getitem__)


def busy_seconds(spans) -> float:
    """The sum of the spans' durations: seconds of progress, summed over all workers."""
    return sum(span.duration for span in _check_spans(spans))


def concurrency(spans, start: float | None = None, end: float | None = None) -> float:
    """How many workers made progress at once, on average: busy seconds divided by elapsed seconds.

    Elapsed runs from ``start`` to ``end`` (default: the first start to the last end of the spans).
    1.0 means one at a time (taking turns); 2.0 means two at a time all along.
    """
    spans = _check_spans(spans)
    start = min(s.start for s in spans) if start is None else start
    end = max(s.end for s in spans) if end is None else end
    if end <= start:
        raise ValueError("The spans take no time at all, so their concurrency is undefined.")
    return busy_seconds(spans) / (end - start)


def overlap_fraction(spans) -> float:
    """Of the time when at least one span was running, the fraction when two or more ran at once.

    0.0: the workers strictly took turns. 1.0: whenever one ran, another ran too. Spans that only touch
    (one ends as the next starts) do not overlap.
    """
    spans = _check_spans(spans)
    events = sorted([(s.start, 1) for s in spans] + [(s.end, -1) for s in spans])  # ends (-1) sort first
    active, last, any_time, overlap_time = 0, None, 0.0, 0.0
    for moment, change in events:
        if last is not None and active >= 1:
            any_time += moment - last
            if active >= 2:
                overlap_time += moment - last
        active += change
        last = moment
    return overlap_time / any_time if any_time > 0 else 0.0


def turns(spans) -> list[Span]:
    """Merge spans into *turns*: a turn runs from when one worker starts making progress until another does.

    With the GIL, threads hand the GIL over from one to the next: each turn is one stretch of holding it,
    and its length follows the switch interval. A pause inside a turn (the operating system gave the core
    to another program) does not cut it in two. The last turn ends with its last span. Each turn keeps the
    label of its first span. Meaningful for workers that take turns; overlapping spans give tiny turns.
    """
    ordered = sorted(_check_spans(spans), key=lambda s: (s.start, s.end))
    merged, current, end = [], ordered[0], ordered[0].end
    for span in ordered[1:]:
        if span.worker == current.worker:
            end = max(end, span.end)
            continue
        merged.append(Span(current.worker, current.start, span.start, current.label))
        current, end = span, span.end
    merged.append(Span(current.worker, current.start, end, current.label))
    return merged


_POOL_THREAD = re.compile(r"^ThreadPoolExecutor-\d+_(\d+)$")


def display_names(workers: list[str]) -> dict[str, str]:
    """Short labels for a figure: ``ThreadPoolExecutor-7_1`` becomes ``thread 1`` when that is unambiguous."""
    short = {w: (f"thread {m.group(1)}" if (m := _POOL_THREAD.match(w)) else w) for w in workers}
    if len(set(short.values())) < len(short):
        return {w: w for w in workers}
    return short


def _panels(panels) -> list[tuple[str, list[Span], float | None, float | None]]:
    if isinstance(panels, Recording) or not isinstance(panels, Mapping):
        panels = {"": panels}
    if not panels:
        raise ValueError("There is nothing to draw: give a Recording, a list of spans, or a dict of them.")
    out = []
    for name, value in panels.items():
        wall = value.wall if isinstance(value, Recording) else None
        origin = value.start if isinstance(value, Recording) else None
        out.append((str(name), _check_spans(value), origin, wall))
    return out


def timeline_figure(panels, title: str = "Timeline: which worker ran when", color_by: str = "label",
                    xlim: tuple[float, float] | None = None, origin: float | None = None):
    """Draw one timeline panel per entry: a row per worker, a bar per span, time on the x axis.

    ``panels`` is a :class:`Recording`, a list of spans, or a dict ``{panel title: Recording or spans}``;
    panels share the time axis so their lengths compare directly. Time runs from each recording's start
    (or from ``origin``, or the first span). A recording's wall time is written in its panel's title.
    ``color_by`` is ``"label"`` (one colour per task) or ``"worker"``. Returns the matplotlib figure.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    from parallel_course.plots import OKABE_ITO

    if color_by not in ("label", "worker"):
        raise ValueError(f"color_by must be 'label' or 'worker', not {color_by!r}.")
    entries = _panels(panels)
    colours = [c for name, c in OKABE_ITO.items() if name != "black"] + [OKABE_ITO["black"]]
    heights = [1.0 + 0.45 * len(ordered_workers(spans)) for _, spans, _, _ in entries]
    fig, axes = plt.subplots(len(entries), 1, figsize=(9, 0.9 + sum(heights)), sharex=True, squeeze=False,
                             layout="constrained", gridspec_kw={"height_ratios": heights})
    fig.suptitle(title)
    for ax, (name, spans, own_origin, wall) in zip(axes[:, 0], entries, strict=True):
        zero = origin if origin is not None else own_origin if own_origin is not None else min(
            s.start for s in spans)
        workers = ordered_workers(spans)
        names = display_names(workers)
        keys = sorted({s.label if color_by == "label" else s.worker for s in spans},
                      key=lambda k: (len(k), k))
        colour_of = {k: colours[i % len(colours)] for i, k in enumerate(keys)}
        for row, worker in enumerate(workers):
            mine = [s for s in spans if s.worker == worker]
            ax.broken_barh([(s.start - zero, s.duration) for s in mine], (row - 0.35, 0.7),
                           facecolors=[colour_of[s.label if color_by == "label" else s.worker] for s in mine])
        ax.set_yticks(range(len(workers)), [names[w] for w in workers])
        ax.set_ylim(len(workers) - 0.5, -0.5)
        ax.set_ylabel("worker")
        parts = [name] if name else []
        if wall is not None:
            parts.append(f"wall time {wall:.3f} s")
        ax.set_title(": ".join(parts) if len(parts) == 2 else (parts[0] if parts else ""), fontsize="medium")
        ax.grid(axis="x", alpha=0.3)
        if 1 < len(keys) <= 8:
            ax.legend(handles=[Patch(color=colour_of[k], label=k) for k in keys], fontsize="small",
                      loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    axes[-1, 0].set_xlabel("time since start (s)")
    if xlim is not None:
        axes[-1, 0].set_xlim(*xlim)
    else:
        axes[-1, 0].set_xlim(left=0)
    return fig

