"""Figures of the course: scaling (time, speedup, efficiency against workers) and the two laws.

Colours are the Okabe-Ito palette, which stays distinguishable with every common colour-vision deficiency.
"""

import matplotlib.pyplot as plt
import numpy as np

from parallel_course.measure import Scaling, amdahl, gustafson

OKABE_ITO = {"blue": "#0072B2", "orange": "#E69F00", "green": "#009E73", "vermillion": "#D55E00",
             "purple": "#CC79A7", "sky": "#56B4E9", "black": "#000000"}


def scaling_figure(scaling: Scaling, max_workers: int, title: str = "Measured scaling", amdahl_fit: bool = True):
    """Three panels: wall time, speedup (with the ideal line and, for CPU-bound work, an Amdahl fit) and efficiency.

    Amdahl's law models computing that is split over cores; for waiting (I/O-bound) work pass
    ``amdahl_fit=False``, since its speedup is limited by other things (the server, the network).
    """
    fig, (ax_time, ax_speed, ax_eff) = plt.subplots(1, 3, figsize=(12, 3.6), layout="constrained")
    fig.suptitle(title)
    n = np.arange(1, max_workers + 1)
    ax_time.plot(scaling.workers, scaling.times, "o-", color=OKABE_ITO["blue"], label="measured")
    ax_time.set(title="Run time", xlabel="workers", ylabel="wall time (s)", ylim=(0, None))

    ax_speed.plot(n, n, "--", color=OKABE_ITO["black"], lw=1, label="ideal (S = n)")
    if scaling.speedups:
        ax_speed.plot(scaling.workers, scaling.speedups, "o-", color=OKABE_ITO["blue"], label="measured")
        ax_eff.plot(scaling.workers, scaling.efficiencies, "o-", color=OKABE_ITO["blue"], label="measured")
    serial = scaling.serial_fraction if amdahl_fit else None
    if serial is not None:
        ax_speed.plot(n, amdahl(1 - serial, n), ":", color=OKABE_ITO["vermillion"],
                      label=f"Amdahl fit (serial {serial:.0%})")
    ax_speed.set(title="Speedup", xlabel="workers", ylabel="speedup (T1 / Tn, ×)", ylim=(0, max_workers + 0.5))
    ax_eff.axhline(1, ls="--", color=OKABE_ITO["black"], lw=1, label="ideal")
    ax_eff.set(title="Efficiency", xlabel="workers", ylabel="efficiency (speedup / n)", ylim=(0, 1.2))
    for ax in (ax_time, ax_speed, ax_eff):
        ax.set_xlim(0.5, max_workers + 0.5)
        ax.set_xticks(n if max_workers <= 16 else np.linspace(1, max_workers, 8, dtype=int))
        ax.grid(alpha=0.3)
        ax.legend(loc="best", fontsize="small")
    return fig


def laws_figure(parallel_fraction: float, max_workers: int = 64):
    """Amdahl's (fixed job) and Gustafson's (job grows with workers) speedups for one parallel fraction."""
    n = np.arange(1, max_workers + 1)
    fig, ax = plt.subplots(figsize=(6.5, 4), layout="constrained")
    ax.plot(n, n, "--", color=OKABE_ITO["black"], lw=1, label="ideal (S = n)")
    ax.plot(n, gustafson(parallel_fraction, n), color=OKABE_ITO["green"], label="Gustafson (job grows)")
    ax.plot(n, amdahl(parallel_fraction, n), color=OKABE_ITO["vermillion"], label="Amdahl (fixed job)")
    if parallel_fraction < 1:
        ax.axhline(1 / (1 - parallel_fraction), ls=":", color=OKABE_ITO["vermillion"],
                   label=f"Amdahl's ceiling 1/(1-p) = {1 / (1 - parallel_fraction):.1f}")
    ax.set(title=f"Speedup laws for a parallel fraction p = {parallel_fraction:.0%}", xlabel="workers",
           ylabel="speedup (×)", xlim=(1, max_workers), ylim=(0, max_workers))
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize="small")
    return fig
