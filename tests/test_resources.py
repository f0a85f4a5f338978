import pytest

from parallel_course import resources


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in ("CPU_LIMIT", "MEM_LIMIT", "PARALLEL_COURSE_CORES", "PYTHON_CPU_COUNT"):
        monkeypatch.delenv(name, raising=False)


def test_usable_cores_is_at_least_one_and_at_most_logical():
    assert 1 <= resources.usable_cores() <= resources.logical_cores()


def test_binder_cpu_limit_lowers_usable_cores(monkeypatch):
    monkeypatch.setenv("CPU_LIMIT", "1.0")
    assert resources.usable_cores() == 1


def test_fractional_limit_is_not_rounded_up(monkeypatch):
    monkeypatch.setattr(resources, "affinity_cores", lambda: 8)
    monkeypatch.setattr(resources, "cgroup_cpu_limit", lambda: None)
    monkeypatch.setenv("CPU_LIMIT", "1.5")
    assert resources.cpu_limit() == 1.5
    assert resources.usable_cores() == 1  # one whole core; the half core is not a second one
    assert resources.worker_cap() == 2  # but two workers can use the 1.5 cores together


def test_affinity_is_honoured(monkeypatch):
    monkeypatch.setattr(resources.os, "sched_getaffinity", lambda pid: {0}, raising=False)
    assert resources.affinity_cores() == 1
    assert resources.usable_cores() == 1


def test_cgroup_v2_quota(tmp_path):
    (tmp_path / "cpu.max").write_text("150000 100000\n")
    assert resources.cgroup_cpu_limit(tmp_path) == 1.5
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert resources.cgroup_cpu_limit(tmp_path) is None


def _cgroup_tree(tmp_path, own="/user.slice/app.scope", quotas=None):
    root, proc = tmp_path / "cgroup", tmp_path / "proc"
    (root / own.lstrip("/")).mkdir(parents=True)
    (root / "cgroup.controllers").write_text("cpu memory\n")
    for directory, text in (quotas or {}).items():
        (root / directory.lstrip("/") / "cpu.max").write_text(text)
    (proc / "self").mkdir(parents=True)
    (proc / "self" / "cgroup").write_text(f"0::{own}\n")
    return root, proc


def test_cgroup_v2_quota_of_the_own_cgroup(tmp_path):
    root, proc = _cgroup_tree(tmp_path, quotas={"/user.slice/app.scope": "250000 100000\n"})
    assert resources.own_cgroup(proc, root) == root / "user.slice" / "app.scope"
    assert resources.cgroup_cpu_limit(root, proc) == 2.5


def test_cgroup_v2_quota_on_an_ancestor_and_the_smallest_wins(tmp_path):
    root, proc = _cgroup_tree(tmp_path, quotas={"/user.slice": "150000 100000\n",
                                                "/user.slice/app.scope": "max 100000\n"})
    assert resources.cgroup_cpu_limit(root, proc) == 1.5
    (root / "user.slice" / "app.scope" / "cpu.max").write_text("120000 100000\n")
    assert resources.cgroup_cpu_limit(root, proc) == 1.2
    (root / "cpu.max").write_text("max 100000\n")  # an unlimited root changes nothing
    assert resources.cgroup_cpu_limit(root, proc) == 1.2


def test_cgroup_v2_unlimited_and_unknown_path(tmp_path):
    root, proc = _cgroup_tree(tmp_path)
    assert resources.cgroup_cpu_limit(root, proc) is None
    (proc / "self" / "cgroup").write_text("0::/not/here\n")  # another namespace: fall back to the root
    (root / "cpu.max").write_text("50000 100000\n")
    assert resources.own_cgroup(proc, root) == root
    assert resources.cgroup_cpu_limit(root, proc) == 0.5


def test_python_cpu_count_is_honoured(monkeypatch):
    monkeypatch.setattr(resources, "affinity_cpus", lambda: list(range(8)))
    monkeypatch.setattr(resources, "cgroup_cpu_limit", lambda: None)
    monkeypatch.setenv("PYTHON_CPU_COUNT", "3")
    assert resources.python_cpu_count() == 3 and resources.usable_cores() == 3
    monkeypatch.setenv("PYTHON_CPU_COUNT", "default")
    assert resources.python_cpu_count() is None and resources.usable_cores() == 8
    monkeypatch.setenv("PYTHON_CPU_COUNT", "many")
    with pytest.raises(ValueError, match="PYTHON_CPU_COUNT must be a whole number"):
        resources.python_cpu_count()


def test_hyper_threads_are_counted_apart(tmp_path):
    # cpu0 and cpu2 are two hyper-threads of core 0; cpu1 and cpu3 of core 1.
    for cpu, core in enumerate([0, 1, 0, 1]):
        topology = tmp_path / f"cpu{cpu}" / "topology"
        topology.mkdir(parents=True)
        (topology / "core_id").write_text(f"{core}\n")
        (topology / "physical_package_id").write_text("0\n")
    assert resources.usable_physical_cores([0, 1, 2, 3], tmp_path) == 2
    assert resources.usable_physical_cores([0, 2], tmp_path) == 1
    assert resources.usable_physical_cores([7], tmp_path) is None


STAT = "cpu  0 0 0 0 0 0 0 0\ncpu0 {u0} 0 0 {i0} 0 0 0 {s0}\ncpu1 {u1} 0 0 {i1} 0 0 0 0\nintr 1 2 3\n"


def test_busy_reading_from_a_fake_proc_stat(tmp_path):
    (tmp_path / "stat").write_text(STAT.format(u0=0, i0=0, s0=0, u1=0, i1=0))
    own = iter([0.0, 0.5])  # this process tree used 0.5 CPU seconds meanwhile
    meter = resources.BusyMeter(tmp_path, cpus=[0, 1], own=lambda: next(own)).start()
    hz = resources.os.sysconf("SC_CLK_TCK")
    # 2 CPUs x 1 s: cpu0 busy 0.8 s and stolen 0.2 s, cpu1 busy 0.2 s and idle 0.8 s.
    (tmp_path / "stat").write_text(STAT.format(u0=int(0.8 * hz), i0=0, s0=int(0.2 * hz),
                                               u1=int(0.2 * hz), i1=int(0.8 * hz)))
    reading = meter.stop()
    assert reading.cpus == 2
    assert reading.steal_percent == pytest.approx(10, abs=1)
    assert reading.own_percent == pytest.approx(25, abs=1)
    assert reading.others_percent == pytest.approx(25, abs=1)  # 1.0 s busy - 0.5 s ours, of 2 CPU seconds
    assert reading.busy and "25%" in str(reading) and "steal" in str(reading)


def test_busy_reading_here_is_in_range():
    reading = resources.busy_reading(0.1)
    if reading is None:
        pytest.skip("no /proc/stat on this platform")
    assert 0 <= reading.others_percent <= 100 and 0 <= reading.steal_percent <= 100
    assert reading.cpus == len(resources.affinity_cpus()) and str(reading).startswith("Over 0.1 s")
    with pytest.raises(ValueError, match="positive number of seconds"):
        resources.busy_reading(0)


def test_cgroup_v1_quota(tmp_path):
    (tmp_path / "cpu").mkdir()
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("200000\n")
    (tmp_path / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
    assert resources.cgroup_cpu_limit(tmp_path) == 2.0
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("-1\n")
    assert resources.cgroup_cpu_limit(tmp_path) is None


def test_quota_takes_the_smallest(monkeypatch):
    monkeypatch.setattr(resources, "affinity_cores", lambda: 16)
    monkeypatch.setattr(resources, "cgroup_cpu_limit", lambda: 4.0)
    assert resources.usable_cores() == 4


def test_forced_cores_override_and_bad_value(monkeypatch):
    monkeypatch.setenv("PARALLEL_COURSE_CORES", "1")
    assert resources.usable_cores() == 1
    assert resources.worker_cap() == 2  # a 1-core learner can still try 2 workers
    monkeypatch.setenv("PARALLEL_COURSE_CORES", "zero")
    with pytest.raises(ValueError, match="PARALLEL_COURSE_CORES must be a whole number"):
        resources.usable_cores()


def test_physical_and_logical_are_reported():
    machine = resources.machine()
    assert machine.logical_cores >= 1
    assert machine.physical_cores is None or 1 <= machine.physical_cores <= machine.logical_cores
    names = [name for name, _ in machine.rows()]
    assert {"usable cores", "logical cores", "physical cores", "usable physical", "PYTHON_CPU_COUNT",
            "/dev/shm free", "Binder"} <= set(names)


def test_memory_limit_from_cgroup_and_env(tmp_path, monkeypatch):
    (tmp_path / "memory.max").write_text(str(2 * 2**30))
    assert resources.memory_limit_bytes(tmp_path) == 2 * 2**30
    monkeypatch.setenv("MEM_LIMIT", str(2**30))
    assert resources.memory_limit_bytes(tmp_path) == 2**30


def test_binder_detection(monkeypatch):
    for key in [k for k in resources.os.environ if k.startswith("BINDER_")]:
        monkeypatch.delenv(key)
    assert not resources.on_binder()
    monkeypatch.setenv("BINDER_LAUNCH_HOST", "https://mybinder.org/")
    assert resources.on_binder()
