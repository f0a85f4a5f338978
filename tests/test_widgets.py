import pytest

from parallel_course import resources, workloads
from parallel_course.widgets import WorkerPanel

ITEMS = [20_000] * 4


def test_panel_runs_processes_under_every_start_method(start_method):
    panel = WorkerPanel(workloads.cpu_bound, ITEMS, backend="processes", cap=2)
    scaling = panel.run(2)
    assert scaling.workers == [1, 2]  # the 1-worker pool is measured too
    assert panel.progress.value == len(ITEMS)
    assert "2 worker(s)" in panel.status.value
    assert panel.redraw_seconds is not None and panel.redraw_seconds > 0
    assert bytes(panel.plot.value[:4]) == b"\x89PNG" and "efficiency" in panel.table.value
    panel.close()


def test_points_accumulate_and_the_button_runs_the_slider_value():
    panel = WorkerPanel(workloads.io_bound, [0.01] * 4, backend="threads", cap=4, cpu_bound=False)
    panel.slider.value = 3
    panel.button.click()
    panel.run(4)
    assert panel.scaling.workers == [1, 3, 4]
    assert len(panel.pools) <= 2  # the 1-worker pool and the latest count
    panel.close()
    assert not panel.button.disabled


def test_slider_is_capped_by_usable_cores(monkeypatch):
    monkeypatch.setenv("PARALLEL_COURSE_CORES", "1")
    panel = WorkerPanel(workloads.square, [1, 2], backend="serial")
    assert (panel.slider.min, panel.slider.max) == (1, resources.worker_cap()) == (1, 2)
    with pytest.raises(ValueError, match="at most 2 on this machine, not 3"):
        panel.run(3)
    panel.run(2)
    assert "1 usable core" in panel.status.value
    panel.close()


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"backend": "gpu"}, ValueError, "backend must be one of"),
    ({"cap": 0}, ValueError, "worker cap must be a whole number of at least 1"),
    ({"repeat": -1}, ValueError, "repeat must be a whole number"),
])
def test_bad_panel_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        WorkerPanel(workloads.square, [1], **kwargs)


def test_empty_task_list_bad_task_and_bad_worker_type():
    with pytest.raises(ValueError, match="task list is empty"):
        WorkerPanel(workloads.square, [])
    with pytest.raises(TypeError, match="task must be a function, not int"):
        WorkerPanel(42, [1])
    panel = WorkerPanel(workloads.square, [1], backend="serial", cap=2)
    with pytest.raises(TypeError, match="whole number"):
        panel.run("2")


def test_panel_measures_serial_loop_startup_and_repeats():
    panel = WorkerPanel(workloads.cpu_bound, ITEMS, backend="processes", cap=2)
    assert panel.repeat >= 3
    scaling = panel.run(2)
    assert len(scaling.serial) == panel.repeat  # the plain loop is the absolute baseline
    assert all(len(scaling.samples[n]) == panel.repeat for n in (1, 2))
    assert set(scaling.startup) == {1, 2}  # start-up recorded apart from the kept-pool maps
    assert scaling.absolute_speedups and scaling.relative_speedups
    assert "absolute speedup" in panel.status.value and "relative" in panel.status.value
    assert "plain serial loop" in panel.table.value
    pids = panel.pools[2].worker_pids()
    panel.run(2)
    assert panel.pools[2].worker_pids() == pids  # the warm pool was reused ...
    assert len(scaling.startup[2]) == 1  # ... so it was started only once
    assert len(scaling.samples[2]) == 2 * panel.repeat
    panel.close()
    assert panel.pools == {}


def test_panel_refuses_an_amdahl_fit_with_two_counts():
    panel = WorkerPanel(workloads.io_bound, [0.002] * 4, backend="threads", cap=2)
    panel.run(2)
    assert panel.scaling.serial_fraction is None and "at least 3" in panel.scaling.fit.reason
    panel.close()
