import math
import time

import pytest

from parallel_course import measure, workloads


def test_time_call_median_and_result():
    timing = measure.time_call(workloads.cpu_bound, 10_000, repeat=3)
    assert timing.result == workloads.cpu_bound_expected(10_000)
    assert timing.wall > 0 and timing.repeat == 3
    # process_time() counts every thread of the process, and OpenBLAS's threads busy-wait for about 0.1 s
    # after NumPy starts them (when workloads is imported): let that pass before timing a sleep.
    time.sleep(0.3)
    assert measure.time_call(workloads.io_bound, 0.05, repeat=1).cpu_share < 0.5


def test_laws():
    assert measure.amdahl(1.0, 8) == pytest.approx(8)
    assert measure.amdahl(0.0, 8) == pytest.approx(1)
    assert measure.amdahl(0.9, 10) == pytest.approx(1 / (0.1 + 0.09))
    assert measure.gustafson(0.9, 10) == pytest.approx(9.1)
    with pytest.raises(ValueError, match="between 0 and 1"):
        measure.amdahl(1.5, 2)


def test_speedup_efficiency_karp_flatt():
    s = measure.speedup(8.0, 2.5)
    assert s == pytest.approx(3.2)
    assert measure.efficiency(s, 4) == pytest.approx(0.8)
    # A pure Amdahl curve with serial fraction 0.1 has a constant Karp-Flatt metric of 0.1.
    for n in (2, 4, 8):
        assert measure.karp_flatt(measure.amdahl(0.9, n), n) == pytest.approx(0.1)
    with pytest.raises(ValueError, match="at least 2 workers"):
        measure.karp_flatt(1.0, 1)
    with pytest.raises(ValueError, match="positive"):
        measure.speedup(0, 1)


def test_fit_recovers_a_known_serial_fraction():
    workers = [1, 2, 4, 8, 16]
    assert measure.fit_serial_fraction(workers, [measure.amdahl(0.8, n) for n in workers]) == pytest.approx(0.2)
    assert measure.fit_serial_fraction([1], [1.0]) is None


def test_scaling_accumulates_and_tabulates():
    scaling = measure.Scaling()
    scaling.add(2, 1.0)
    assert scaling.speedups == []  # no baseline yet
    scaling.add(1, 2.0)
    assert scaling.workers == [1, 2] and scaling.speedups == [1.0, 2.0]
    assert scaling.efficiencies == [1.0, 1.0]
    assert scaling.serial_fraction == pytest.approx(0.0)
    assert "100%" in scaling.table()
    with pytest.raises(ValueError, match="at least 1"):
        scaling.add(0, 1.0)
    with pytest.raises(TypeError, match="whole number"):
        scaling.add(1.5, 1.0)
    with pytest.raises(ValueError, match="positive"):
        scaling.add(3, -1.0)


def test_sweep_measures_the_baseline_too():
    result = measure.sweep(lambda n: workloads.io_bound(0.01), [2], progress=False)
    assert result.workers == [1, 2] and all(t > 0 for t in result.times)
    assert math.isfinite(result.speedups[1])
    with pytest.raises(ValueError, match="empty"):
        measure.sweep(lambda n: None, [])


@pytest.mark.parametrize(("speedup", "workers", "cores", "phrase"), [
    (1.0, 2, 1, "1 usable core, so CPU-bound workers can only take turns"),
    (1.9, 4, 2, "Only 2 cores are usable here"),
    (0.6, 2, 2, "Slower than 1 worker"),
    (1.05, 2, 2, "No real speedup"),
    (2.6, 2, 2, "More than ideal"),
    (1.4, 2, 2, "A real gain, less than ideal"),
    (1.95, 2, 2, "Close to ideal"),
])
def test_describe_speedup_reads_each_case(speedup, workers, cores, phrase, monkeypatch):
    monkeypatch.setattr(measure.resources, "load_average", lambda: 0.0)
    assert phrase in measure.describe_speedup(speedup, workers, cores)


def test_describe_speedup_mentions_a_busy_machine(monkeypatch):
    monkeypatch.setattr(measure.resources, "load_average", lambda: 4.0)
    assert "load average 4.0 on 1 usable core)" in measure.describe_speedup(1.0, 2, 1)
    monkeypatch.setattr(measure.resources, "load_average", lambda: None)  # Windows has no load average
    assert "busy" not in measure.describe_speedup(1.0, 2, 1)
    # Waiting-bound work may use more workers than cores.
    assert "Close to ideal" in measure.describe_speedup(7.8, 8, 2, cpu_bound=False)
