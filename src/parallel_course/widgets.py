"""The worker-count panel: pick a number of workers, press Run, watch time, speedup and efficiency.

Each run is measured on this machine, and the points accumulate, so a learner builds the scaling curve
one slider position at a time. In a script or a test, call :meth:`WorkerPanel.run` directly.

How a run measures (the rules of lesson 01):

- the **plain serial loop** is timed too: it is the baseline of the *absolute* speedup the panel reads;
  the *relative* speedup against a 1-worker pool is shown beside it;
- pools are **kept warm**: the panel starts a pool once per worker count, times that start-up apart, and
  then times ``map`` on the running pool (the steady state); "one-off" figures add the start-up back;
- each new pool gets one **untimed warm-up** map before the first timed point;
- ``repeat`` rounds (3 by default) in **alternating order** (serial, 1, n, then n, 1, serial, ...), every
  sample kept and drawn as a spread;
- **how busy the machine is** is read before the run and during it (:func:`resources.busy_reading`).
"""

import html
import io
import time
import weakref

import ipywidgets as w
import matplotlib.pyplot as plt
from IPython.display import display

from parallel_course import backends, resources, validate
from parallel_course.measure import Scaling, describe_speedup
from parallel_course.plots import scaling_figure


def _close_pools(pools: dict) -> None:
    for pool in pools.values():
        pool.close()
    pools.clear()


class WorkerPanel:
    """A slider (1 to the worker cap), a Run button, a progress bar and the scaling plot.

    ``fn`` runs once per item of ``items`` on ``backend`` (``"processes"``, ``"threads"`` or ``"serial"``).
    Set ``cpu_bound=False`` for waiting (I/O) work, where more workers than cores still help, and raise
    ``cap``. The panel keeps at most two pools running (1 worker and the last count); :meth:`close` stops
    them, and so does the end of the kernel.
    """

    def __init__(self, fn, items, backend: str = "processes", cap: int | None = None,
                 title: str | None = None, repeat: int = 3, cpu_bound: bool = True):
        if backend not in backends.ADAPTERS:
            raise ValueError(f"The backend must be one of {', '.join(backends.ADAPTERS)}, not {backend!r}.")
        if not callable(fn):
            raise TypeError(f"The task must be a function, not {type(fn).__name__}.")
        self.fn, self.items, self.backend = fn, validate.items(items), backend
        self.cap = validate.positive_int(cap, "The worker cap") if cap is not None else resources.worker_cap()
        self.repeat = validate.positive_int(repeat, "repeat")
        self.cpu_bound = cpu_bound
        self.title = title or f"{getattr(fn, '__name__', 'task')} × {len(self.items)} on {backend}"
        self.scaling = Scaling(tasks=len(self.items))
        self.redraw_seconds: float | None = None
        self.pools: dict[int, backends.Pool] = {}
        self._finalizer = weakref.finalize(self, _close_pools, self.pools)
        self._warmed = False
        self._current = 1

        self.slider = w.IntSlider(value=min(2, self.cap), min=1, max=self.cap, description="workers",
                                  continuous_update=False)
        self.button = w.Button(description="Run", button_style="primary", icon="play",
                               tooltip="Measure with this many workers")
        self.progress = w.IntProgress(value=0, min=0, max=len(self.items), description="tasks")
        self.status = w.HTML()
        # The plot is a PNG in an Image widget and the table plain HTML: unlike an Output widget, these need
        # no help from the front end to capture output, so they behave the same in JupyterLab, nbval, nbclient.
        self.plot = w.Image(format="png", layout=w.Layout(max_width="100%"))
        self.table = w.HTML()
        self.button.on_click(lambda _: self.run(self.slider.value))
        self.widget = w.VBox([w.HBox([self.slider, self.button, self.progress]), self.status, self.plot, self.table])
        self._say(f"Usable cores here: <b>{resources.usable_cores()}</b>. Pick a worker count and press Run.")

    def _ipython_display_(self):
        display(self.widget)

    def _say(self, text: str) -> None:
        self.status.value = text

    def _tick(self) -> None:
        self.progress.value += 1

    def pool(self, workers: int) -> backends.Pool:
        """The kept pool of ``workers`` workers, started (start-up timed and recorded) and warmed if new.

        Only the 1-worker pool and the latest count stay running: a pool at another count is closed first.
        """
        validate.workers(workers, self.cap)
        for n in [n for n in self.pools if n not in (1, workers, self._current)]:
            self.pools.pop(n).close()
        if workers not in self.pools:
            self._say(f"Starting a pool of {workers} worker(s)…")
            pool = backends.open_pool(self.backend, workers, warm=self.fn)
            self.scaling.add_startup(workers, pool.startup_seconds)
            pool.map(self.fn, self.items[:workers])  # untimed warm-up map on the new pool
            self.pools[workers] = pool
        return self.pools[workers]

    def _time(self, step) -> float:
        self.progress.value = 0
        start = time.perf_counter()
        if step is None:
            backends.serial(self.fn, self.items, on_result=self._tick)
        else:
            self.pools[step].map(self.fn, self.items, on_result=self._tick)
        return time.perf_counter() - start

    def measure(self, workers: int) -> float:
        """Time the serial loop, 1 worker and ``workers`` workers in ``repeat`` alternating rounds.

        Every sample goes into :attr:`scaling`; returns the median steady-state seconds at ``workers``.
        """
        validate.workers(workers, self.cap)
        if not self._warmed:
            self.fn(self.items[0])  # untimed warm-up of the serial loop (first-time imports, caches)
            self._warmed = True
        steps = [None, *sorted({1, workers})]
        self._current = workers
        for n in steps[1:]:
            self.pool(n)
        meter = resources.BusyMeter()
        try:
            meter.start()
        except OSError:
            meter = None
        for r in range(self.repeat):
            for step in steps if r % 2 == 0 else steps[::-1]:
                name = "the serial loop" if step is None else f"{step} worker(s)"
                self._say(f"Round {r + 1} of {self.repeat}: {name}…")
                seconds = self._time(step)
                self.scaling.add_serial(seconds) if step is None else self.scaling.add(step, seconds)
        if meter is not None:
            try:
                self.scaling.busy_during = meter.stop()
            except OSError:
                self.scaling.busy_during = None
        return self.scaling.seconds[workers]

    def run(self, workers: int) -> Scaling:
        """Read how busy the machine is, measure ``workers`` (with both baselines), then redraw the plot."""
        validate.workers(workers, self.cap)
        self.button.disabled = True
        try:
            self._say("Reading how busy the machine is…")
            self.scaling.busy_before = resources.busy_reading(0.3)
            self.measure(workers)
            self._say(self._summary(workers))
            self.redraw()
        finally:
            self.button.disabled = False
        return self.scaling

    def _summary(self, workers: int) -> str:
        s = self.scaling
        index = s.workers.index(workers)
        absolute, relative = s.absolute_speedups[index], s.relative_speedups[index]
        one_off = s.one_off_speedups[index]
        reading = describe_speedup(absolute, workers, resources.cpu_limit(), self.cpu_bound,
                                   busy=s.busy_during, tasks=s.tasks, baseline="the plain loop")
        before = "" if s.busy_before is None else f"<br>Before the run: {html.escape(str(s.busy_before))}"
        return (f"{workers} worker(s), kept pool: <b>{s.seconds[workers]:.2f} s</b>, plain loop "
                f"{s.serial_seconds:.2f} s: <b>absolute speedup {absolute:.2f}×</b> (relative to 1 worker "
                f"{relative:.2f}×; a one-off run with start-up {s.startup_seconds(workers):.2f} s: "
                f"{one_off:.2f}×).<br>{html.escape(reading)}{before}")

    def redraw(self) -> None:
        """Draw the accumulated measurements (time, speedup, efficiency) below the controls."""
        start = time.perf_counter()
        fig = scaling_figure(self.scaling, self.cap, self.title, amdahl_fit=self.cpu_bound,
                             physical=resources.usable_physical_cores() if self.cpu_bound else None)
        png = io.BytesIO()
        fig.savefig(png, format="png", dpi=96)
        plt.close(fig)
        self.plot.value = png.getvalue()
        self.table.value = f"<pre>{html.escape(self.scaling.table())}</pre>"
        self.redraw_seconds = time.perf_counter() - start

    def close(self) -> None:
        """Stop the kept pools (the panel starts new ones if Run is pressed again)."""
        _close_pools(self.pools)
