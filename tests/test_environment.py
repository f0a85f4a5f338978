"""The three install routes (pip, conda, Binder) install the same packages."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Conda splits dask[distributed] in two and needs pip itself and a Python; nothing else may differ.
CONDA_ONLY = {"python", "pip"}


def normalise(requirement: str) -> str:
    name = re.split(r"[\s<>=!~;\[#]", requirement.strip(), maxsplit=1)[0]
    return name.lower().replace("_", "-")


def pip_names() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = {normalise(r) for r in project["dependencies"] + project["optional-dependencies"]["test"]}
    if any(r.startswith("dask[distributed]") for r in project["dependencies"]):
        names.add("distributed")
    return names


def conda_names(path: Path) -> set[str]:
    names = set()
    dependencies = path.read_text().split("dependencies:", 1)[1]
    for line in dependencies.splitlines():
        match = re.match(r"^\s+- (?!pip:)([A-Za-z0-9_.\-\[\]]+)", line)
        if match:
            names.add(normalise(match.group(1)))
    return names - CONDA_ONLY


def test_binder_environment_is_the_root_environment():
    assert (ROOT / "binder" / "environment.yml").read_text() == (ROOT / "environment.yml").read_text()


def test_conda_and_pip_name_the_same_packages():
    conda, pip = conda_names(ROOT / "environment.yml"), pip_names()
    assert conda == pip, f"only in conda: {sorted(conda - pip)}; only in pip: {sorted(pip - conda)}"


def test_the_lock_pins_every_direct_dependency():
    locked = {normalise(line) for line in (ROOT / "requirements-lock.txt").read_text().splitlines()
              if line and not line.startswith("#")}
    missing = pip_names() - locked
    assert not missing, f"requirements-lock.txt lacks {sorted(missing)}: run `make lock`"


def test_binder_start_selects_the_small_size_and_one_blas_thread():
    start = (ROOT / "binder" / "start").read_text()
    assert "PARALLEL_COURSE_SIZE" in start and "small" in start and "OMP_NUM_THREADS=1" in start
    assert 'exec "$@"' in start
    assert "pip install" in (ROOT / "binder" / "postBuild").read_text()
