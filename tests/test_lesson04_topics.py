"""Lessons 04 and 05: nb 04 shows how to pool a notebook function (authoring words: tests/test_lesson_text.py)."""

from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
LESSONS = [ROOT / "notebooks" / "04_multiprocessing.ipynb", ROOT / "notebooks" / "05_concurrent_futures.ipynb"]


def markdown_and_code(path: Path) -> list[str]:
    return [cell.source for cell in nbformat.read(path, as_version=4).cells]


def test_nb04_writes_its_own_module_and_cleans_up():
    sources = markdown_and_code(LESSONS[0])
    written = [s for s in sources if s.startswith("%%writefile")]
    assert written, "nb 04 should write a module with %%writefile"
    everything = "\n".join(sources)
    for needed in ("sys.path.insert", "PYTHONPATH", "shutil.rmtree", "autoreload", "cloudpickle"):
        assert needed in everything, f"nb 04 lacks {needed}"


def test_the_pickle_round_trip_figure_draws_both_processes():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from parallel_course.lessons import processes

    fig = processes.pickle_round_trip_figure()
    texts = [t.get_text() for t in fig.axes[0].texts]
    plt.close(fig)
    assert any("worker process" in t for t in texts) and any("pickle.loads" in t for t in texts)
