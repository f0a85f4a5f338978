import math
import time

import pytest

from parallel_course import measure, resources, workloads


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


def test_scaling_keeps_every_sample_and_names_both_baselines():
    scaling = measure.Scaling(tasks=8)
    scaling.add(2, 1.0)
    assert scaling.speedups == []  # no baseline yet
    scaling.add(2, 1.2)
    scaling.add(1, 2.0)
    assert scaling.samples[2] == [1.0, 1.2]  # nothing overwritten
    assert scaling.relative_speedups == [1.0, pytest.approx(2.0 / 1.1)]
    scaling.add_serial(1.5)
    scaling.add_startup(2, 0.4)
    assert scaling.serial_seconds == 1.5
    assert scaling.absolute_speedups == [0.75, pytest.approx(1.5 / 1.1)]
    assert scaling.speedups == scaling.absolute_speedups  # the reading uses the absolute one
    assert scaling.one_off_seconds(2) == pytest.approx(1.5) and scaling.one_off_seconds(1) is None
    assert scaling.one_off_speedups == [None, pytest.approx(1.0)]
    table = scaling.table()
    assert "plain serial loop" in table and "absolute" in table and "relative" in table and "start-up" in table
    with pytest.raises(ValueError, match="at least 1"):
        scaling.add(0, 1.0)
    with pytest.raises(TypeError, match="whole number"):
        scaling.add(1.5, 1.0)
    with pytest.raises(ValueError, match="positive"):
        scaling.add(3, -1.0)


def test_amdahl_fit_refused_with_fewer_than_three_counts():
    fit = measure.amdahl_fit([1, 2], [1.0, 1.9])
    assert fit.fraction is None and "at least 3 worker counts" in fit.reason
    scaling = measure.Scaling()
    scaling.add(1, 2.0)
    scaling.add(2, 1.0)
    assert scaling.serial_fraction is None and "at least 3" in scaling.fit.reason


def test_amdahl_fit_needs_a_flat_karp_flatt_metric():
    workers = [1, 2, 4, 8]
    flat = measure.amdahl_fit(workers, [measure.amdahl(0.9, n) for n in workers])
    assert flat.fraction == pytest.approx(0.1) and "flat" in flat.reason
    # Overhead that grows with n: T(n) = 1/n + 0.05 n, so e(n) rises and no fit is given.
    rising = measure.amdahl_fit(workers, [1.05 / (1 / n + 0.05 * n) for n in workers])
    assert rising.fraction is None and "rises" in rising.reason


def test_staircase_bound():
    assert measure.staircase_bound(8, 3) == pytest.approx(8 / 3)
    assert measure.staircase_bound(8, 6) == 4
    assert measure.staircase_bound(8, 8) == 8


def test_timing_keeps_samples_and_cpu_share_comes_from_one_run():
    timing = measure.time_call(workloads.io_bound, 0.01, repeat=3)
    assert len(timing.walls) == len(timing.cpus) == 3 and timing.spread >= 0
    assert 0 <= timing.cpu_share <= 1.5


def test_sweep_warms_up_repeats_interleaved_and_times_the_serial_loop():
    calls = []
    result = measure.sweep(lambda n: calls.append(n) or workloads.io_bound(0.002), [2], repeat=3, progress=False,
                           serial=lambda: calls.append("serial") or workloads.io_bound(0.002))
    assert calls[0] == 1  # the untimed warm-up
    assert calls[1:] == ["serial", 1, 2, 2, 1, "serial", "serial", 1, 2]  # alternating order
    assert result.workers == [1, 2] and len(result.samples[2]) == 3 and len(result.serial) == 3
    assert math.isfinite(result.speedups[1])
    with pytest.raises(ValueError, match="empty"):
        measure.sweep(lambda n: None, [])


@pytest.mark.parametrize(("speedup", "workers", "cores", "phrase"), [
    (1.0, 2, 1, "1 usable core, so CPU-bound workers can only take turns"),
    (1.9, 4, 2, "Only 2 cores are usable here"),
    (0.6, 2, 2, "Slower than the baseline"),
    (1.05, 2, 2, "No real speedup"),
    (2.6, 2, 2, "More than ideal"),
    (1.4, 2, 2, "A real gain, less than ideal"),
    (1.95, 2, 2, "Close to ideal"),
])
def test_describe_speedup_reads_each_case(speedup, workers, cores, phrase):
    assert phrase in measure.describe_speedup(speedup, workers, cores)


def test_describe_speedup_says_how_much_of_the_gap_a_busy_machine_explains():
    busy = resources.BusyReading(seconds=1.0, cpus=2, others_percent=40.0, steal_percent=0.0, own_percent=50.0)
    text = measure.describe_speedup(1.3, 2, 2, busy=busy)
    assert "other programs used 40%" in text and "1.2 cores free" in text and "of the gap" in text
    idle = resources.BusyReading(seconds=1.0, cpus=2, others_percent=0.0, steal_percent=0.0, own_percent=90.0)
    assert "explain none of the gap" in measure.describe_speedup(1.3, 2, 2, busy=idle)
    # The staircase: 8 tasks on 3 workers need 3 rounds.
    assert "3 rounds" in measure.describe_speedup(2.5, 3, 4, tasks=8)
    # Waiting-bound work may use more workers than cores.
    assert "Close to ideal" in measure.describe_speedup(7.8, 8, 2, cpu_bound=False)
