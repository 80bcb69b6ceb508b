"""Every notebook's exercises follow the convention, and every check tests the skill: it fails
after the student edition's stub and after each known cheat (``cheats_*.py``), and passes after
the solution. Each notebook is executed once for all of that: where nbval runs the notebook in the
same session (``make test``, or ``pytest notebooks/02_x.ipynb tests/notebooks -k 02``), its items
try every answer and these tests read what they recorded (nbval_exercises.py); run without the
notebook (``pytest tests/notebooks``), a test executes it on its own (exercises.py) and warns."""

import subprocess
import sys
import warnings

import nbformat
import pytest

from .exercises import ROOT, exercises, known_cheats, run_exercises, solution_lines, student
from .nbval_exercises import recorded_run

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
# Notebooks written before the convention (none left since 03 was split and marked, issue 12).
NOT_YET_MARKED = set()
_RUNS = {}


def _run(path):
    """What ``path``'s checks raised after each answer: as nbval's run of the notebook recorded it
    in this session, else from one execution of the notebook by ``run_exercises``."""
    if (recorded := recorded_run(path)) is not None:
        return recorded
    if path not in _RUNS:
        warnings.warn(f"{path.name} executed by run_exercises, as nbval did not run it in this session: "
                      f"with notebooks/{path.name} on the command line too, the notebook runs once for both")
        _RUNS[path] = run_exercises(path, known_cheats(path.name))
    return _RUNS[path]


def _marked(path):
    return exercises(nbformat.read(path, as_version=4))


WITH_EXERCISES = [path for path in NOTEBOOKS if path.name not in NOT_YET_MARKED]


@pytest.mark.parametrize("path", WITH_EXERCISES, ids=lambda p: p.name)
def test_at_least_three_marked_exercises(path):
    notebook = nbformat.read(path, as_version=4)
    pairs = exercises(notebook)  # raises if a marker is unpaired or a check cell is missing
    assert len(pairs) >= 3, f"{path.name}: {len(pairs)} exercises marked with ### BEGIN SOLUTION"
    for number, (solution, check) in pairs.items():
        cell = notebook.cells[solution]
        assert cell.metadata.get("jupyter", {}).get("source_hidden"), f"exercise {number}: solution not hidden"
        assert "raise NotImplementedError" not in notebook.cells[check].source


@pytest.mark.exercises
@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if _marked(p)], ids=lambda p: p.name)
def test_each_check_fails_after_its_stub_and_cheats_and_passes_after_its_solution(path):
    run = _run(path)
    assert not run.errors, f"{path.name}: cells outside the exercises raised {run.errors}"
    passed_stub = [n for n, r in run.exercises.items() if r.stub is None]
    assert not passed_stub, f"{path.name}: the check of exercises {passed_stub} passes on the stub"
    cheated = {(n, name) for n, r in run.exercises.items() for name, error in r.cheats.items() if error is None}
    assert not cheated, f"{path.name}: these cheats pass their check: {sorted(cheated)}"
    failed = {n: r.solution for n, r in run.exercises.items() if r.solution is not None}
    assert not failed, f"{path.name}: the solutions fail their checks: {failed}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_known_cheats_name_real_exercises(path):
    cheats = known_cheats(path.name)
    assert set(cheats) <= set(_marked(path)), f"{path.name}: cheats for exercises {sorted(set(cheats) - set(_marked(path)))}"


def test_student_edition_has_no_solution_text(student_folder):
    for path in NOTEBOOKS:
        source = nbformat.read(path, as_version=4)
        secret = solution_lines(source)
        edition = nbformat.read(student_folder / path.name, as_version=4)
        lines = [line.strip() for cell in edition.cells for line in cell.source.splitlines()]
        survived = sorted(secret.intersection(lines))
        assert not survived, f"{path.name}: solution lines in the student edition: {survived[:3]}"
        assert student.BEGIN not in lines and student.END not in lines
        code = [c for c in edition.cells if c.cell_type == "code"]
        assert not any(c.outputs or c.execution_count for c in code), f"{path.name}: outputs left"
        assert lines.count("raise NotImplementedError()") >= len(exercises(source))


def test_student_edition_is_current_with_the_sources(student_folder, tmp_path):
    """The generator is a function of the sources: the folder holds exactly one student notebook
    per source, equal to what the sources give, byte for byte on a rebuild; a notebook whose
    source is gone is removed. Where `make student` has run, build/student is current."""
    stale = student_folder / "00_gone.ipynb"
    stale.write_text("{}")
    rebuilt = student.write_student(NOTEBOOKS, student_folder)
    assert not stale.exists()
    assert [p.name for p in rebuilt] == [p.name for p in NOTEBOOKS]
    for path in NOTEBOOKS:
        expected = nbformat.writes(student.student_edition(nbformat.read(path, as_version=4))) + "\n"
        assert (student_folder / path.name).read_text(encoding="utf-8") == expected
    made = ROOT / "build" / "student"
    if made.is_dir() and any(made.glob("*.ipynb")):
        old = [p.name for p in NOTEBOOKS if not (made / p.name).exists()
               or (made / p.name).read_text(encoding="utf-8") != (student_folder / p.name).read_text(encoding="utf-8")]
        assert not old, f"build/student is out of date for {old}: run `make student`"


def test_stub_keeps_the_question_and_the_indentation():
    source = "def f(x):\n    y = 1\n    ### BEGIN SOLUTION\n    return x + y\n    ### END SOLUTION\nz = 2"
    assert student.stub_source(source) == (
        "def f(x):\n    y = 1\n    # YOUR CODE HERE\n    raise NotImplementedError()\nz = 2")
    for broken in ("### BEGIN SOLUTION\nx = 1", "x = 1\n### END SOLUTION",
                   "### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION"):
        with pytest.raises(student.MarkerError):
            student.stub_source(broken)


def test_a_solution_cell_needs_its_check_cell():
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("### BEGIN SOLUTION\nx = 1\n### END SOLUTION"),
        nbformat.v4.new_markdown_cell("the check should be here"),
    ])
    with pytest.raises(student.MarkerError, match="followed by its check"):
        exercises(notebook)


@pytest.fixture
def student_folder(tmp_path):
    """A student edition written by slides/student.py's command line, as `make student` runs it."""
    out = tmp_path / "student"
    done = subprocess.run([sys.executable, str(ROOT / "slides" / "student.py"), "--out", str(out),
                           *map(str, NOTEBOOKS)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return out
