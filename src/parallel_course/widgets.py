"""The worker-count panel: pick a number of workers, press Run, watch time, speedup and efficiency.

Each run is measured on this machine, and the points accumulate, so a learner builds the scaling curve
one slider position at a time. In a script or a test, call :meth:`WorkerPanel.run` directly.
"""

import html
import io
import time

import ipywidgets as w
import matplotlib.pyplot as plt
from IPython.display import display

from parallel_course import backends, resources, validate
from parallel_course.measure import Scaling, describe_speedup
from parallel_course.plots import scaling_figure


class WorkerPanel:
    """A slider (1 to the worker cap), a Run button, a progress bar and the scaling plot.

    ``fn`` runs once per item of ``items`` on ``backend`` (``"processes"``, ``"threads"`` or
    ``"serial"``); speedups are relative to the same backend with one worker, measured first. Set
    ``cpu_bound=False`` for waiting (I/O) work, where more workers than cores still help, and raise ``cap``.
    """

    def __init__(self, fn, items, backend: str = "processes", cap: int | None = None,
                 title: str | None = None, repeat: int = 1, cpu_bound: bool = True):
        if backend not in backends.ADAPTERS:
            raise ValueError(f"The backend must be one of {', '.join(backends.ADAPTERS)}, not {backend!r}.")
        if not callable(fn):
            raise TypeError(f"The task must be a function, not {type(fn).__name__}.")
        self.fn, self.items, self.backend = fn, validate.items(items), backend
        self.cap = validate.positive_int(cap, "The worker cap") if cap is not None else resources.worker_cap()
        self.repeat = validate.positive_int(repeat, "repeat")
        self.cpu_bound = cpu_bound
        self.title = title or f"{getattr(fn, '__name__', 'task')} × {len(self.items)} on {backend}"
        self.scaling = Scaling()
        self.redraw_seconds: float | None = None

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

    def _say(self, html: str) -> None:
        self.status.value = html

    def measure(self, workers: int) -> float:
        """Run the whole map with ``workers`` workers ``repeat`` times; record and return the median seconds."""
        validate.workers(workers, self.cap)
        times = []
        for attempt in range(1, self.repeat + 1):
            self._say(f"Running with {workers} worker(s), run {attempt} of {self.repeat}…")
            self.progress.value = 0
            start = time.perf_counter()
            backends.run(self.backend, self.fn, self.items, workers, on_result=self._tick)
            times.append(time.perf_counter() - start)
        seconds = sorted(times)[len(times) // 2]
        self.scaling.add(workers, seconds)
        return seconds

    def _tick(self) -> None:
        self.progress.value += 1

    def run(self, workers: int) -> Scaling:
        """Measure ``workers`` (and the 1-worker baseline if missing), then redraw the plot."""
        validate.workers(workers, self.cap)
        self.button.disabled = True
        try:
            if 1 not in self.scaling.seconds and workers != 1:
                self.measure(1)
            seconds = self.measure(workers)
            self._say(self._summary(workers, seconds))
            self.redraw()
        finally:
            self.button.disabled = False
        return self.scaling

    def _summary(self, workers: int, seconds: float) -> str:
        speedup = self.scaling.seconds[1] / seconds
        reading = describe_speedup(speedup, workers, resources.usable_cores(), self.cpu_bound)
        return f"{workers} worker(s): <b>{seconds:.2f} s</b>. {reading}"

    def redraw(self) -> None:
        """Draw the accumulated measurements (time, speedup, efficiency) below the controls."""
        start = time.perf_counter()
        fig = scaling_figure(self.scaling, self.cap, self.title, amdahl_fit=self.cpu_bound)
        png = io.BytesIO()
        fig.savefig(png, format="png", dpi=96)
        plt.close(fig)
        self.plot.value = png.getvalue()
        self.table.value = f"<pre>{html.escape(self.scaling.table())}</pre>"
        self.redraw_seconds = time.perf_counter() - start
