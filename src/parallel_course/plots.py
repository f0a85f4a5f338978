"""Figures of the course: scaling (time, speedup, efficiency against workers) and the two laws.

Colours are the Okabe-Ito palette, which stays distinguishable with every common colour-vision deficiency.
"""

import matplotlib.pyplot as plt
import numpy as np

from parallel_course.measure import Scaling, amdahl, gustafson, staircase_bound

OKABE_ITO = {"blue": "#0072B2", "orange": "#E69F00", "green": "#009E73", "vermillion": "#D55E00",
             "purple": "#CC79A7", "sky": "#56B4E9", "black": "#000000"}


def scaling_figure(scaling: Scaling, max_workers: int, title: str = "Measured scaling", amdahl_fit: bool = True,
                   physical: int | None = None):
    """Three panels: wall time, speedup and efficiency against the worker count, every sample shown.

    The time panel draws each steady-state sample (dots), their median (line), the one-off time with
    start-up (hollow squares) and the plain serial loop (a horizontal line with its range). The speedup
    panel draws the absolute speedup (against the serial loop) with its spread, the relative one (against
    1 worker) dashed, the ideal, the ``ceil(tasks / n)`` bound where it is below the ideal, and an Amdahl
    fit only where :attr:`Scaling.fit` accepts one. ``physical`` draws a vertical line at the physical
    core count (hyper-threads beyond it add little). For waiting work pass ``amdahl_fit=False``.
    """
    fig, (ax_time, ax_speed, ax_eff) = plt.subplots(1, 3, figsize=(12, 3.8), layout="constrained")
    fig.suptitle(title)
    n = np.arange(1, max_workers + 1)
    blue, orange = OKABE_ITO["blue"], OKABE_ITO["orange"]
    workers = scaling.workers
    for count in workers:
        ax_time.plot([count] * len(scaling.samples[count]), scaling.samples[count], ".", color=blue, alpha=0.5)
    if workers:
        ax_time.plot(workers, scaling.times, "o-", color=blue, label="kept pool (median, dots: every run)")
        cold = [(c, scaling.one_off_seconds(c)) for c in workers if scaling.one_off_seconds(c) is not None]
        if cold:
            ax_time.plot(*zip(*cold, strict=True), "s", mfc="none", color=OKABE_ITO["vermillion"],
                         label="one-off run (start-up + map)")
    base = scaling.serial_seconds
    if base is not None:
        ax_time.axhline(base, color=OKABE_ITO["black"], lw=1, label="plain serial loop")
        ax_time.axhspan(min(scaling.serial), max(scaling.serial), color=OKABE_ITO["black"], alpha=0.08)
    ax_time.set(title="Run time", xlabel="workers", ylabel="wall time (s)", ylim=(0, None))

    ax_speed.plot(n, n, "--", color=OKABE_ITO["black"], lw=1, label="ideal (S = n)")
    if scaling.tasks is not None and any(staircase_bound(scaling.tasks, k) < k for k in n):
        ax_speed.step(n, [staircase_bound(scaling.tasks, k) for k in n], where="mid", color=OKABE_ITO["purple"],
                      lw=1, label=f"best with {scaling.tasks} equal tasks")
    speeds = scaling.speedups
    label = "absolute (serial loop / n)" if scaling.absolute_speedups else "relative (1 worker / n)"
    if speeds:
        reference = base if base is not None else scaling.seconds[1]
        for count in workers:
            values = [reference / t for t in scaling.samples[count]]
            ax_speed.vlines(count, min(values), max(values), color=blue, alpha=0.6)
        ax_speed.plot(workers, speeds, "o-", color=blue, label=label)
        ax_eff.plot(workers, scaling.efficiencies, "o-", color=blue, label=label.split(" (")[0])
    if scaling.absolute_speedups and scaling.relative_speedups:
        ax_speed.plot(workers, scaling.relative_speedups, "^--", color=orange, label="relative (1 worker / n)")
    serial = scaling.serial_fraction if amdahl_fit else None
    if serial is not None:
        ax_speed.plot(n, amdahl(1 - serial, n), ":", color=OKABE_ITO["vermillion"],
                      label=f"Amdahl fit (serial {serial:.0%})")
    ax_speed.set(title="Speedup", xlabel="workers", ylabel="speedup (×)", ylim=(0, max_workers + 0.5))
    ax_eff.axhline(1, ls="--", color=OKABE_ITO["black"], lw=1, label="ideal")
    ax_eff.set(title="Efficiency", xlabel="workers", ylabel="efficiency (speedup / n)", ylim=(0, 1.2))
    for ax in (ax_time, ax_speed, ax_eff):
        if physical is not None and physical < max_workers:
            ax.axvline(physical + 0.5, color=OKABE_ITO["green"], lw=1, ls="-.",
                       label=f"{physical} physical cores" if ax is ax_speed else None)
        ax.set_xlim(0.5, max_workers + 0.5)
        ax.set_xticks(n if max_workers <= 16 else np.linspace(1, max_workers, 8, dtype=int))
        ax.grid(alpha=0.3)
        ax.legend(loc="best", fontsize="x-small")
    return fig


def laws_figure(parallel_fraction: float, max_workers: int = 64, gustafson_fraction: float | None = None):
    """Amdahl's (fixed job) and Gustafson's (job grows with workers) speedups.

    Amdahl's ``p`` is the parallel share of the job run on 1 worker; Gustafson's is the parallel share of
    the run on ``n`` workers. ``gustafson_fraction`` defaults to the same number, which is what one gets
    when the serial part stays fixed and only the parallel part grows.
    """
    gp = parallel_fraction if gustafson_fraction is None else gustafson_fraction
    n = np.arange(1, max_workers + 1)
    fig, ax = plt.subplots(figsize=(6.5, 4), layout="constrained")
    ax.plot(n, n, "--", color=OKABE_ITO["black"], lw=1, label="ideal (S = n)")
    ax.plot(n, gustafson(gp, n), color=OKABE_ITO["green"], label=f"Gustafson (job grows), p = {gp:.0%}")
    ax.plot(n, amdahl(parallel_fraction, n), color=OKABE_ITO["vermillion"],
            label=f"Amdahl (fixed job), p = {parallel_fraction:.0%}")
    if parallel_fraction < 1:
        ax.axhline(1 / (1 - parallel_fraction), ls=":", color=OKABE_ITO["vermillion"],
                   label=f"Amdahl's ceiling 1/(1-p) = {1 / (1 - parallel_fraction):.1f}")
    ax.set(title="Speedup laws", xlabel="workers", ylabel="speedup (×)", xlim=(1, max_workers), ylim=(0, max_workers))
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize="small")
    return fig
