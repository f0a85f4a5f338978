import pytest

from parallel_course import resources


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in ("CPU_LIMIT", "MEM_LIMIT", "PARALLEL_COURSE_CORES"):
        monkeypatch.delenv(name, raising=False)


def test_usable_cores_is_at_least_one_and_at_most_logical():
    assert 1 <= resources.usable_cores() <= resources.logical_cores()


def test_binder_cpu_limit_lowers_usable_cores(monkeypatch):
    monkeypatch.setenv("CPU_LIMIT", "1.0")
    assert resources.usable_cores() == 1


def test_fractional_limit_rounds_up(monkeypatch):
    monkeypatch.setattr(resources, "affinity_cores", lambda: 8)
    monkeypatch.setattr(resources, "cgroup_cpu_limit", lambda: None)
    monkeypatch.setenv("CPU_LIMIT", "1.5")
    assert resources.usable_cores() == 2


def test_affinity_is_honoured(monkeypatch):
    monkeypatch.setattr(resources.os, "sched_getaffinity", lambda pid: {0}, raising=False)
    assert resources.affinity_cores() == 1
    assert resources.usable_cores() == 1


def test_cgroup_v2_quota(tmp_path):
    (tmp_path / "cpu.max").write_text("150000 100000\n")
    assert resources.cgroup_cpu_limit(tmp_path) == 1.5
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert resources.cgroup_cpu_limit(tmp_path) is None


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
    assert {"usable cores", "logical cores", "physical cores", "/dev/shm free", "Binder"} <= set(names)


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
