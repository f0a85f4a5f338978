"""Helper package of the Parallel Python course.

Keep this file light: every worker process imports it, so it must not pull in matplotlib,
ipywidgets or the cluster libraries. Import what you need from the submodules instead::

    from parallel_course.workloads import cpu_bound
    from parallel_course.widgets import WorkerPanel
"""

__version__ = "0.1.0"
