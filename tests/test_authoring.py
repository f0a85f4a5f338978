import nbformat
import pytest

from parallel_course.tools import authoring

SOLUTION_CELL = '''def f(x):
    ### BEGIN SOLUTION: Double it.
    y = 2 * x
    return y
    ### END SOLUTION

check_f(f)'''


def solution_notebook(*sources):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# title")] + [nbformat.v4.new_code_cell(s) for s in sources]
    return nb


def test_region_becomes_an_indented_stub_with_the_hint():
    source, count = authoring.stub_source(SOLUTION_CELL)
    assert count == 1
    assert source == "def f(x):\n    raise NotImplementedError('Double it.')\n\ncheck_f(f)"


def test_default_hint_and_top_level_region():
    source, _ = authoring.stub_source("### BEGIN SOLUTION\nanswer = 42\n### END SOLUTION")
    assert source == f"raise NotImplementedError({authoring.DEFAULT_HINT!r})"


def test_generated_stub_raises_when_run():
    source, _ = authoring.stub_source(SOLUTION_CELL)
    namespace = {"check_f": lambda f: f(1)}
    with pytest.raises(NotImplementedError, match="Double it"):
        exec(source, namespace)


def test_exercise_notebook_is_tagged_stripped_and_bannered():
    nb = solution_notebook("import os", SOLUTION_CELL)
    nb.cells[2].outputs = [nbformat.v4.new_output("stream", text="old")]
    nb.cells[2].execution_count = 3
    exercise = authoring.make_exercise(nb, "99_test.ipynb")
    assert "solutions/99_test.ipynb" in exercise.cells[1].source
    stubbed = exercise.cells[3]
    assert stubbed.metadata["tags"] == ["raises-exception"]
    assert stubbed.outputs == [] and stubbed.execution_count is None
    assert "tags" not in exercise.cells[2].metadata
    assert "y = 2 * x" in nb.cells[2].source  # the solution itself is untouched


@pytest.mark.parametrize(("source", "message"), [
    ("### BEGIN SOLUTION\nx = 1", "without an END"),
    ("x = 1\n### END SOLUTION", "without a BEGIN"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION", "inside another"),
])
def test_unpaired_markers_are_reported(source, message):
    with pytest.raises(authoring.AuthoringError, match=message):
        authoring.stub_source(source)


def test_a_notebook_without_regions_is_refused():
    with pytest.raises(authoring.AuthoringError, match="no '### BEGIN SOLUTION' region"):
        authoring.make_exercise(solution_notebook("x = 1"), "x.ipynb")


def test_write_and_detect_drift(tmp_path):
    solutions, exercises = tmp_path / "solutions", tmp_path / "exercises"
    solutions.mkdir()
    nbformat.write(solution_notebook(SOLUTION_CELL), solutions / "01_a.ipynb")
    (exercises).mkdir()
    (exercises / "02_orphan.ipynb").write_text("{}")
    assert authoring.out_of_date(solutions, exercises) == ["01_a.ipynb", "02_orphan.ipynb"]
    authoring.write_exercises(solutions, exercises)
    assert authoring.out_of_date(solutions, exercises) == []
    assert not (exercises / "02_orphan.ipynb").exists()
    nbformat.write(solution_notebook(SOLUTION_CELL.replace("2 * x", "x + x")), solutions / "01_a.ipynb")
    assert authoring.out_of_date(solutions, exercises) == ["01_a.ipynb"]


def test_strip_outputs(tmp_path):
    nb = solution_notebook("print(1)")
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", text="1\n")]
    path = tmp_path / "n.ipynb"
    nbformat.write(nb, path)
    assert authoring.strip_outputs(path) is True
    assert authoring.strip_outputs(path) is False
    assert nbformat.read(path, as_version=4).cells[1].outputs == []
