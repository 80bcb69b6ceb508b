"""Every notebook is committed executed, top to bottom, without errors (nbval then re-runs them)."""

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks found in notebooks/"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_executed_in_order_without_errors(path):
    notebook = json.loads(path.read_text())
    cells = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    counts = [c.get("execution_count") for c in cells]
    assert cells and None not in counts, f"{path.name}: cells committed unexecuted"
    assert counts == list(range(1, len(counts) + 1)), f"{path.name}: not run top to bottom once: {counts}"
    errors = [i for i, c in enumerate(cells) for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, f"{path.name}: error outputs in code cells {errors}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_header_states_goals_and_runtime(path):
    first = "".join(json.loads(path.read_text())["cells"][0]["source"])
    assert "Goals" in first and "runtime" in first.lower(), f"{path.name}: header lacks goals or runtime"


def tensorflow_log_lines(notebook):
    """The committed stderr lines a student would take for failures: TensorFlow's C++ log lines
    (``I0000 ... port.cc:153] oneDNN ...``, ``E0000 ... failed call to cuInit``, Grappler's
    ``W0000 ... Skipping loop optimization``) and Abseil's ``InitializeLog`` notice."""
    from course_lib import console

    lines = [line for cell in notebook["cells"] for output in cell.get("outputs", []) if output.get("name") == "stderr"
             for line in "".join(output.get("text", "")).splitlines()]
    return [line for line in lines if line == console.ABSL_NOTICE or console.LOG_LINE.match(line)]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_tensorflow_start_up_lines_in_committed_outputs(path):
    # course_lib.console filters them when the notebook imports course_lib before tensorflow or keras
    # (re-execute with `make execute NB=...` after moving the course_lib import first).
    noise = tensorflow_log_lines(json.loads(path.read_text()))
    assert not noise, f"{path.name}: {len(noise)} TensorFlow log line(s) in outputs, first {noise[0][:120]!r}"
