"""Run a notebook's exercise checks against given answers: the stub, known cheats, the solution.

The exercise convention (CONTRIBUTING.md, "Exercises"; ``slides/student.py`` implements it): an
exercise is a code cell with lines between ``### BEGIN SOLUTION`` and ``### END SOLUTION``, and
the code cell right after it is its check. Exercises are numbered 1, 2, ... in notebook order.

:func:`run_exercises` executes a notebook once in a fresh kernel (the CI settings of the repo's
``conftest.py``, the notebook's folder as working directory). At each exercise it runs, in order:
the student edition's stub and then the check; each known cheat and then the check; the solution
and then the check (so later cells see the state they expect). Every other cell runs as it is.
It returns, per exercise, what each check run raised (``None`` if it passed).

Known cheats of a notebook live in ``tests/notebooks/cheats_<NN>.py`` (``NN`` the notebook's
number prefix, e.g. ``cheats_01.py``, ``cheats_03a.py``), two names:

    NOTEBOOK = "01_tfrecord_loading.ipynb"
    CHEATS = {1: {"counts with TFRecordDataset": "count_records = lambda blob: ..."}, ...}

``tests/notebooks/test_exercises.py`` asserts that each check fails after its stub and after each
known cheat, and passes after its solution. Where nbval runs the notebook in the same session, its
run tries the answers in the same order (``nbval_exercises.py``), so the notebook is not executed
again; this function is the run of ``pytest tests/notebooks`` alone, and of a cheat tried by hand. To try a cheat by hand,
``run_exercises(path, {1: {"my cheat": "def count_records(blob):\\n    return 2000"}})`` returns a
:class:`NotebookRun` whose ``exercises[1].cheats["my cheat"]`` is what the check raised.
"""

import importlib.util
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def _student_module():
    spec = importlib.util.spec_from_file_location("course_student", ROOT / "slides" / "student.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


student = _student_module()  # slides/student.py: stub_source, exercise_cells, student_edition


@dataclass
class ExerciseRun:
    """What the check of one exercise raised after each answer ("Name: message", or None)."""

    number: int
    solution_index: int
    check_index: int
    stub: str | None = None
    cheats: dict = field(default_factory=dict)
    solution: str | None = None


def exercises(notebook):
    """``{number: (solution cell index, check cell index)}`` of a notebook (nbformat node)."""
    return {n: pair for n, pair in enumerate(student.exercise_cells(notebook), start=1)}


def solution_lines(notebook):
    """The stripped, non-empty lines between a notebook's solution markers that appear in no
    other cell: the text its student edition must not show."""
    solutions = {index for index, _ in exercises(notebook).values()}
    public = {line.strip() for index, cell in enumerate(notebook.cells) if index not in solutions
              for line in cell.source.splitlines()}
    secret = set()
    for index in solutions:
        inside = False
        for line in notebook.cells[index].source.splitlines():
            if line.strip() in (student.BEGIN, student.END):
                inside = line.strip() == student.BEGIN
            elif inside:
                secret.add(line.strip())
    return secret - public - {""}


def known_cheats(notebook_name):
    """``{exercise number: {name: answer source}}`` from the ``cheats_*.py`` file naming it."""
    cheats = {}
    for path in sorted(HERE.glob("cheats_*.py")):
        spec = importlib.util.spec_from_file_location(f"cheats_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        if module.NOTEBOOK == notebook_name:
            for number, answers in module.CHEATS.items():
                cheats.setdefault(number, {}).update(answers)
    return cheats


def _error(cell):
    errors = [o for o in cell.outputs if o.output_type == "error"]
    return f"{errors[0].ename}: {errors[0].evalue}"[:300] if errors else None


@dataclass
class NotebookRun:
    """One execution of a notebook by :func:`run_exercises`."""

    exercises: dict  # {number: ExerciseRun}
    errors: dict  # {cell index: "Name: message"} of the cells outside the exercises
    seconds: float


def run_exercises(path, cheats=None, timeout=600):
    """Execute notebook ``path`` once, trying the stub, each cheat and the solution against every
    check; ``cheats``: ``{number: {name: answer source}}``. Returns a :class:`NotebookRun`."""
    from nbclient import NotebookClient

    path = Path(path)
    notebook = nbformat.read(path, as_version=4)
    pairs = exercises(notebook)
    by_solution = {solution: number for number, (solution, _) in pairs.items()}
    checks = {check for _, check in pairs.values()}
    cheats = cheats or {}
    client = NotebookClient(
        notebook, timeout=timeout, allow_errors=True, kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    runs, errors, start = {}, {}, time.perf_counter()

    def run(source, index):
        cell = nbformat.v4.new_code_cell(source)
        client.execute_cell(cell, index)
        return _error(cell)

    with client.setup_kernel():
        for index, cell in enumerate(notebook.cells):
            if cell.cell_type != "code" or index in checks:
                continue
            number = by_solution.get(index)
            if number is None:
                if (error := run(cell.source, index)) is not None:
                    errors[index] = error
                continue
            check = notebook.cells[pairs[number][1]].source
            result = runs[number] = ExerciseRun(number, *pairs[number])
            run(student.stub_source(cell.source), index)
            result.stub = run(check, index + 1)
            for name, answer in cheats.get(number, {}).items():
                run(answer, index)
                result.cheats[name] = run(check, index + 1)
            solution_error = run(cell.source, index)
            result.solution = solution_error or run(check, index + 1)
    return NotebookRun(runs, errors, time.perf_counter() - start)
