"""pytest plugin: nbval's one execution of a notebook also tries its exercise checks.

Loaded by the repo's ``conftest.py`` (``pytest_plugins``). At collection, right before nbval's
item for each exercise's solution cell, it inserts an :class:`ExerciseTrials` item
(``notebooks/NN_x.ipynb::Exercise N: stub and cheats``) that runs, in nbval's kernel of that
notebook, the student edition's stub and then the check, and each known cheat (``cheats_NN.py``)
and then the check. nbval's own items then run the solution cell and the check cell. That is the
order :func:`exercises.run_exercises` uses (stub, check, cheats, check, solution, check, in the
state the cells before the exercise left), so every trial sees the same state, and no notebook is
executed twice. The item fails if the check passes on the stub or on a cheat.

What happened is recorded per notebook in :data:`RECORDED` as an :class:`exercises.NotebookRun`:
the trials, whether the solution passed its check (what nbval's check-cell item raised), and the
exceptions of the other cells. ``test_exercises.py`` reads it (:func:`recorded_run`) instead of
executing the notebook again; items that read it (the ``exercises`` marker on a test function)
are moved after every notebook's items. Trial items carry the ``exercises`` marker too, so
``-m "not exercises"`` runs nbval alone. Where nbval did not run a notebook in the session
(``pytest tests/notebooks``), ``test_exercises.py`` executes it with ``run_exercises`` and warns.
"""

import time
from pathlib import Path

import pytest

from .exercises import ExerciseRun, NotebookRun, exercises, known_cheats, student

RECORDED = {}  # {notebook path: NotebookRun} of the notebooks nbval ran in this session
CHECKED = {}  # {notebook path: {numbers of the exercises whose check cell nbval ran after the solution}}


def _nbval_cell(item):
    """``(notebook file collector, cell index in the notebook)`` of an nbval item, else None."""
    parent, cell = getattr(item, "parent", None), getattr(item, "cell", None)
    notebook = getattr(parent, "nb", None)
    if cell is None or notebook is None or not hasattr(parent, "kernel"):
        return None
    return parent, next(i for i, c in enumerate(notebook.cells) if c is cell)


def _record(path):
    path = Path(path).resolve()
    if path not in RECORDED:
        RECORDED[path] = NotebookRun({}, {}, 0.0)
    return RECORDED[path]


def execute(kernel, source, timeout):
    """Run ``source`` in nbval's ``kernel``; what it raised ("Name: message", cut as
    ``run_exercises`` cuts it) or None. Its outputs are not compared with anything."""
    msg_id = kernel.execute_cell_input(source, allow_stdin=False)
    kernel.await_reply(msg_id, timeout=timeout)
    error = None
    while True:
        msg = kernel.get_message(stream="iopub", timeout=timeout)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "error" and error is None:
            error = f"{msg['content']['ename']}: {msg['content']['evalue']}"[:300]
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return error


class ExerciseTrials(pytest.Item):
    """The stub and the known cheats of one exercise, each followed by the check, in nbval's
    kernel right before nbval runs the solution cell."""

    def __init__(self, *, number, solution, check, cheats, **kwargs):
        super().__init__(**kwargs)
        self.number, self.solution, self.check, self.cheats = number, solution, check, cheats
        self.add_marker(pytest.mark.exercises)

    def runtest(self):
        nb_file, cells = self.parent, self.parent.nb.cells
        kernel = nb_file.kernel
        if kernel is None or not kernel.is_alive():
            raise RuntimeError("the notebook's kernel is dead")
        timeout = self.config.option.nbval_cell_timeout
        check = cells[self.check].source
        run = ExerciseRun(self.number, self.solution, self.check)
        start = time.perf_counter()
        execute(kernel, student.stub_source(cells[self.solution].source), timeout)
        run.stub = execute(kernel, check, timeout)
        for name, answer in self.cheats.items():
            execute(kernel, answer, timeout)
            run.cheats[name] = execute(kernel, check, timeout)
        record = _record(nb_file.path)
        record.exercises[self.number] = run
        record.seconds += time.perf_counter() - start
        passed = (["the stub"] if run.stub is None else []) + [n for n, e in run.cheats.items() if e is None]
        if passed:
            raise ExerciseCheckPassed(f"exercise {self.number}: the check passes on {passed}")

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, ExerciseCheckPassed):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, None, f"{self.parent.name}::{self.name}"


class ExerciseCheckPassed(Exception):
    """A check passed on an answer it must reject."""


def _trial_items(nb_file, index):
    """The trial item to run before nbval's item for cell ``index``, or None."""
    for number, (solution, check) in exercises(nb_file.nb).items():
        if solution == index:
            return ExerciseTrials.from_parent(
                nb_file, name=f"Exercise {number}: stub and cheats", number=number, solution=solution,
                check=check, cheats=known_cheats(nb_file.path.name).get(number, {}))
    return None


@pytest.hookimpl(tryfirst=True)  # before -k and -m deselect, so that they apply to the trials
def pytest_collection_modifyitems(items):
    ordered, consumers = [], []
    for item in items:
        if (found := _nbval_cell(item)) is not None and (trials := _trial_items(*found)) is not None:
            ordered.append(trials)
        if isinstance(item, pytest.Function) and item.get_closest_marker("exercises"):
            consumers.append(item)  # reads RECORDED: after every notebook
        else:
            ordered.append(item)
    items[:] = ordered + consumers


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Records what nbval's items raised: a check cell's is its solution's result."""
    report = yield
    found = _nbval_cell(item)
    if found is not None and call.when == "call" and not isinstance(item, ExerciseTrials):
        _record_cell(*found, item, report, call)
    return report


def _record_cell(nb_file, index, item, report, call):
    outputs = getattr(item, "test_outputs", None) or []
    raised = [o for o in outputs if o.get("output_type") == "error"]
    error = f"{raised[0]['ename']}: {raised[0]['evalue']}"[:300] if raised else None
    if error is None and report.failed and "Cell outputs differ" not in str(call.excinfo.value):
        error = str(call.excinfo.value)[:300]  # a timeout, a dead kernel
    record = _record(nb_file.path)
    pairs = exercises(nb_file.nb)
    checks = {check: n for n, (_, check) in pairs.items()}
    solutions = {solution: n for n, (solution, _) in pairs.items()}
    if index in checks and checks[index] in record.exercises:
        run = record.exercises[checks[index]]
        run.solution = run.solution or error
        CHECKED.setdefault(Path(nb_file.path).resolve(), set()).add(checks[index])
    elif index in solutions and solutions[index] in record.exercises:
        record.exercises[solutions[index]].solution = error
    elif error is not None and index not in checks and index not in solutions:
        record.errors[index] = error


def recorded_run(path):
    """The :class:`NotebookRun` nbval's items recorded for ``path`` in this session, None if
    nbval did not run its exercises; raises if it ran only part of them."""
    path = Path(path).resolve()
    record = RECORDED.get(path)
    if record is None or not record.exercises:
        return None
    import nbformat

    expected = set(exercises(nbformat.read(path, as_version=4)))
    done = CHECKED.get(path, set()) & set(record.exercises)
    if done != expected:
        raise RuntimeError(f"{Path(path).name}: nbval ran exercises {sorted(done)} to the end, not "
                           f"{sorted(expected)}: see its failures above (a dead kernel, a deselected cell)")
    return record
