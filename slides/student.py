"""Write the student edition of the notebooks: every solution replaced by a stub, outputs cleared.

    python slides/student.py --out build/student notebooks/*.ipynb     (what `make student` runs)

The exercise convention (CONTRIBUTING.md, "Exercises"): an exercise is a code cell holding lines
between ``### BEGIN SOLUTION`` and ``### END SOLUTION``; the code cell right after it is its check.
In the student edition those lines become

    # YOUR CODE HERE
    raise NotImplementedError()

at the indentation of the ``### BEGIN SOLUTION`` line (lines outside the markers, such as a
``def`` line, stay), the solution cell is shown (no ``source_hidden``), every output and execution
count is cleared, and the check cells are kept as they are. The folder is rewritten whole: a student
notebook whose source is gone is removed. Same sources, same bytes.
"""

import argparse
import copy
import re
import sys
from pathlib import Path

import nbformat

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")
_MARKER = re.compile(r"^(\s*)### (BEGIN|END) SOLUTION\s*$")


class MarkerError(ValueError):
    """A solution cell whose markers do not pair up."""


def stub_source(source):
    """``source`` with every ``### BEGIN SOLUTION`` ... ``### END SOLUTION`` block (markers
    included) replaced by the stub, indented like its BEGIN line.

    >>> print(stub_source("def f(x):\\n    ### BEGIN SOLUTION\\n    return 2 * x\\n    ### END SOLUTION"))
    def f(x):
        # YOUR CODE HERE
        raise NotImplementedError()
    """
    out, indent = [], None
    for number, line in enumerate(source.splitlines(), start=1):
        marker = _MARKER.match(line)
        if marker and marker.group(2) == "BEGIN":
            if indent is not None:
                raise MarkerError(f"line {number}: {BEGIN} inside another solution")
            indent = marker.group(1)
            out += [indent + stub for stub in STUB]
        elif marker:
            if indent is None:
                raise MarkerError(f"line {number}: {END} without {BEGIN}")
            indent = None
        elif indent is None:
            out.append(line)
    if indent is not None:
        raise MarkerError(f"{BEGIN} without {END}")
    return "\n".join(out)


def is_solution(cell):
    """Whether ``cell`` is an exercise's solution cell (a code cell with a BEGIN marker)."""
    return cell.cell_type == "code" and any(
        (m := _MARKER.match(line)) and m.group(2) == "BEGIN" for line in cell.source.splitlines()
    )


def exercise_cells(notebook):
    """``[(solution index, check index), ...]``: each solution cell and the code cell right after
    it, its check. Raises MarkerError if a solution cell has no code cell after it."""
    pairs = []
    for index, cell in enumerate(notebook.cells):
        if is_solution(cell):
            following = notebook.cells[index + 1] if index + 1 < len(notebook.cells) else None
            if following is None or following.cell_type != "code" or is_solution(following):
                raise MarkerError(f"cell {index}: a solution cell must be followed by its check cell")
            pairs.append((index, index + 1))
    return pairs


def _clear(cell):
    cell.outputs, cell.execution_count = [], None
    cell.metadata.pop("execution", None)


def student_edition(notebook, keep_outputs=False):
    """A copy of ``notebook`` with every solution stubbed and shown. Outputs: all cleared, or, with
    ``keep_outputs`` (the student hand-out of an executed notebook), only those of the exercises'
    solution and check cells."""
    student = copy.deepcopy(notebook)
    exercises = {i for pair in exercise_cells(student) for i in pair}
    for index, cell in enumerate(student.cells):
        if cell.cell_type != "code":
            continue
        if is_solution(cell):
            cell.source = stub_source(cell.source)
            cell.metadata.get("jupyter", {}).pop("source_hidden", None)
            if not cell.metadata.get("jupyter", True):
                del cell.metadata["jupyter"]
        if not keep_outputs or index in exercises:
            _clear(cell)
    return student


def write_student(notebooks, out):
    """Write ``out/NAME.ipynb`` for every notebook; remove other notebooks in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    names = set()
    for path in notebooks:
        try:
            student = student_edition(nbformat.read(path, as_version=4))
        except MarkerError as error:
            raise MarkerError(f"{path}: {error}") from None
        target = out / path.name
        names.add(path.name)
        text = nbformat.writes(student) + "\n"
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            temporary = target.with_suffix(".ipynb.tmp")
            temporary.write_text(text, encoding="utf-8")
            temporary.replace(target)
    for stale in out.glob("*.ipynb"):
        if stale.name not in names:
            stale.unlink()
    return sorted(out / name for name in names)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    args = parser.parse_args(argv)
    missing = [str(path) for path in args.notebooks if not path.is_file()]
    if missing:
        print(f"slides/student.py: no such notebook: {missing[0]}", file=sys.stderr)
        return 2
    try:
        written = write_student(args.notebooks, args.out)
    except MarkerError as error:
        print(f"slides/student.py: {error}", file=sys.stderr)
        return 2
    print(f"{len(written)} student notebooks in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
