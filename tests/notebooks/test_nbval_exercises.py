"""nbval_exercises.py on small notebooks: the trials run right before the solution cell (in the
state the cells above left), a check that passes on the stub turns the run red, and the tests
that read the results run after the notebook whatever the command line's order."""

import os
import subprocess
import sys

from xml.etree import ElementTree

import nbformat

from .exercises import ROOT

SOLUTION = "def double(v):\n    ### BEGIN SOLUTION\n    return 2 * v\n    ### END SOLUTION"
TOP_LEVEL = "### BEGIN SOLUTION\nanswer = 2 * x\n### END SOLUTION"


def _notebook(folder, name, *exercises):
    """A notebook of ``x = 3`` then one (solution, check) pair per exercise."""
    cells = [nbformat.v4.new_code_cell("x = 3"), nbformat.v4.new_markdown_cell("## Exercises")]
    for solution, check in exercises:
        cells += [nbformat.v4.new_code_cell(solution), nbformat.v4.new_code_cell(check)]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), folder / name)
    return folder / name


def _pytest(folder, *args):
    """pytest in ``folder`` with nbval and the plugin (not the repo's conftest.py and addopts)."""
    (folder / "pytest.ini").write_text("[pytest]\nmarkers =\n    exercises: reads the trials\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "tests.notebooks.nbval_exercises",
         "--nbval", "--nbval-current-env", "--junitxml", "run.xml", *map(str, args)],
        cwd=folder, env=env, capture_output=True, text=True, timeout=300)


READER = """
from pathlib import Path

import pytest

from tests.notebooks.nbval_exercises import recorded_run


@pytest.mark.exercises
def test_reads_what_nbval_recorded():
    run = recorded_run(Path(__file__).parent / "good.ipynb")
    assert run.exercises[2].stub.startswith("NameError"), run
    assert run.exercises[1].stub.startswith("NotImplementedError"), run
    assert run.exercises[1].solution is None and run.exercises[2].solution is None and not run.errors
"""


def _outcomes(junit):
    """``[("file::name", "passed" or "failed"), ...]`` in the order pytest ran them."""
    cases = ElementTree.parse(junit).getroot().iter("testcase")
    return [(f"{case.get('classname')}::{case.get('name')}",
             "failed" if case.find("failure") is not None or case.find("error") is not None else "passed")
            for case in cases]


def test_trials_run_before_the_solution_and_red_when_a_check_passes_on_the_stub(tmp_path):
    # Exercise 2's stub leaves `answer` undefined: tried after the solution, it would pass the check.
    good = _notebook(tmp_path, "good.ipynb", (SOLUTION, "assert double(x) == 6\n'Exercise 1: correct'"),
                     (TOP_LEVEL, "assert answer == double(x)\n'Exercise 2: correct'"))
    lax = _notebook(tmp_path, "lax.ipynb", (SOLUTION, "'Exercise 1: correct'"))
    (tmp_path / "test_reader.py").write_text(READER)
    done = _pytest(tmp_path, "test_reader.py", good, lax)
    outcomes = _outcomes(tmp_path / "run.xml")
    assert [name.split("::")[1] for name, _ in outcomes] == [
        "Cell 0", "Exercise 1: stub and cheats", "Cell 1", "Cell 2", "Exercise 2: stub and cheats", "Cell 3",
        "Cell 4", "Cell 0", "Exercise 1: stub and cheats", "Cell 1", "Cell 2", "test_reads_what_nbval_recorded",
    ], outcomes
    failed = [name for name, outcome in outcomes if outcome == "failed"]
    assert failed == ["lax.ipynb::Exercise 1: stub and cheats"], done.stdout[-3000:]
    assert "exercise 1: the check passes on ['the stub']" in done.stdout
