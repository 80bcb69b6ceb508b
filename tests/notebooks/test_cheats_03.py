"""The exercise checks of notebooks 03a and 03b fail on the stub and on each known cheat.

Each notebook runs once, in one kernel, cell by cell as far as the exercise under test (an
exercise is a code cell holding ``### BEGIN SOLUTION`` and the check cell after it). For every exercise, the solution cell is replaced by the student
edition's stub (the lines between the markers become ``raise NotImplementedError()``) and by each
cheat below, and the check cell (the code cell right after the solution) must raise. Last, the
real solution runs and its check must pass, so a check fails on a cheat for the cheat's sake.

Cheats are whole solution cells: the shortcut a student might try, or a common mistake. The one
named in issue 12 is 03a exercise 3 "the solver at each alpha".
"""

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"

CHEATS = {
    ("03a_lasso.ipynb", 1): {
        "the lasso alone (drops the l2 term)": """
def beta_enet(x, y, lam1, lam2):
    return beta_l1(x, y, lam1)
""",
        "ridge alone (drops the l1 term)": """
def beta_enet(x, y, lam1, lam2):
    return beta_l2(x, y, lam2)
""",
        "soft-threshold at lam1, not lam1 / 2": """
def beta_enet(x, y, lam1, lam2):
    return sparsity.soft_threshold(x @ y, lam1) / (x @ x + lam2)
""",
    },
    ("03a_lasso.ipynb", 2): {
        "one alpha for every k": """
def alpha_for_k(X, y, k, steps=60):
    return 1.2
""",
        "alpha_max / k": """
def alpha_for_k(X, y, k, steps=60):
    return sparsity.alpha_max(X, y) / k
""",
    },
    ("03a_lasso.ipynb", 3): {
        "the solver at each alpha": """
def path_segment(alpha_ref, alphas):
    return np.stack([sparsity.lasso(X, y, a, tol=1e-14) for a in alphas], axis=1)
""",
        "a straight line between the solver at the two ends": """
def path_segment(alpha_ref, alphas):
    ends = np.stack([sparsity.lasso(X, y, a, tol=1e-14) for a in (alphas[0], alphas[-1])], axis=1)
    weight = (np.asarray(alphas) - alphas[0]) / (alphas[-1] - alphas[0])
    return ends[:, :1] * (1 - weight) + ends[:, 1:] * weight
""",
    },
    ("03b_shared_sparsity.ipynb", 1): {
        "the l1 prox": """
def prox_linf(v, t):
    return sparsity.soft_threshold(v, t)
""",
        "the l2 prox": """
def prox_linf(v, t):
    return sparsity.block_soft_threshold(v[None, :], t)[0]
""",
        "clipping at t": """
def prox_linf(v, t):
    return np.clip(v, -t, t)
""",
    },
    ("03b_shared_sparsity.ipynb", 2): {
        "block soft-threshold only": """
def prox_sparse_group(v, t1, t2):
    return sparsity.block_soft_threshold(v[None, :], t1 + t2)[0]
""",
        "soft-threshold only": """
def prox_sparse_group(v, t1, t2):
    return sparsity.soft_threshold(v, t1 + t2)
""",
        "the two steps in the wrong order": """
def prox_sparse_group(v, t1, t2):
    return sparsity.soft_threshold(sparsity.block_soft_threshold(v[None, :], t2)[0], t1)
""",
    },
    ("03b_shared_sparsity.ipynb", 3): {
        "part 5's shared survivors for every vertical": """
def vertical_probe(vertical):
    return (prox_rows > 0).astype(np.float64)


probes = {vertical: vertical_probe(vertical) for vertical in probed}
audio_share = {vertical: float(np.mean(is_audio[beta != 0])) for vertical, beta in probes.items()}
""",
        "one fixed alpha for every vertical": """
def vertical_probe(vertical):
    y_v = (Y_train[:2000, groups[vertical]].sum(1) > 0).astype(np.float64)
    return sparsity.lasso(X_probe, y_v - y_v.mean(), 0.01)


probes = {vertical: vertical_probe(vertical) for vertical in probed}
audio_share = {vertical: float(np.mean(is_audio[beta != 0])) for vertical, beta in probes.items()}
""",
        "raw features, not standardised": """
def vertical_probe(vertical):
    X_raw = X_train[:2000].astype(np.float64)
    y_v = (Y_train[:2000, groups[vertical]].sum(1) > 0).astype(np.float64)
    y_v -= y_v.mean()
    return sparsity.lasso(X_raw, y_v, 0.5 * sparsity.alpha_max(X_raw, y_v))


probes = {vertical: vertical_probe(vertical) for vertical in probed}
audio_share = {vertical: float(np.mean(is_audio[beta != 0])) for vertical, beta in probes.items()}
""",
    },
}


def stub(source):
    """The student edition's cell: every marked block replaced by a stub at its indentation."""
    pattern = re.compile(rf"^([ \t]*){re.escape(BEGIN)}\n.*?^[ \t]*{re.escape(END)}[ \t]*$", re.M | re.S)
    return pattern.sub(lambda m: f"{m[1]}# YOUR CODE HERE\n{m[1]}raise NotImplementedError()", source)


def exercises(notebook):
    """[(exercise number, solution cell, check cell)] in order; the check is the next code cell."""
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    found = []
    for i, cell in enumerate(code):
        if BEGIN in cell.source:
            found.append((len(found) + 1, cell, code[i + 1]))
    return found


class Kernel:
    """One kernel running a notebook's code cells in order, as far as the exercise under test."""

    def __init__(self, name):
        self.notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
        self.code = [cell for cell in self.notebook.cells if cell.cell_type == "code"]
        self.done = 0  # code cells run so far
        self.client = NotebookClient(self.notebook, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(NOTEBOOKS)}})
        self.manager = self.client.setup_kernel()
        self.manager.__enter__()

    def advance(self, solution):
        """Run every code cell before ``solution`` not run yet (earlier solutions and checks too)."""
        target = next(i for i, cell in enumerate(self.code) if cell is solution)
        for cell in self.code[self.done:target]:
            self.run(cell.source)
        self.done = max(self.done, target)

    def run(self, source):
        cell = nbformat.v4.new_code_cell(source)
        self.client.execute_cell(cell, 0)

    def fails(self, source):
        try:
            self.run(source)
        except CellExecutionError:
            return True
        return False

    def close(self):
        self.manager.__exit__(None, None, None)


@pytest.fixture(scope="module")
def kernels():
    started = {}
    yield lambda name: started.setdefault(name, Kernel(name))
    for kernel in started.values():
        kernel.close()


NAMES = sorted({name for name, _ in CHEATS})


@pytest.mark.parametrize("name", NAMES)
def test_every_exercise_has_cheats_and_a_check(name):
    found = exercises(nbformat.read(NOTEBOOKS / name, as_version=4))
    assert len(found) >= 3, f"{name}: fewer than three exercises"
    assert [number for number, _, _ in found] == sorted(n for nb, n in CHEATS if nb == name)
    for number, solution, check in found:
        assert solution.metadata.get("jupyter", {}).get("source_hidden"), f"{name} exercise {number}: not hidden"
        assert f"Exercise {number}: correct" in check.source, f"{name} exercise {number}: no check message"
        assert BEGIN not in stub(solution.source) and "raise NotImplementedError()" in stub(solution.source)


CASES = [(name, number, cheat) for (name, number), cheats in CHEATS.items() for cheat in ["the stub", *cheats]]


@pytest.mark.parametrize("name, number, cheat", CASES, ids=[f"{n[:3]}-ex{e}-{c}" for n, e, c in CASES])
def test_check_fails_on_cheat(kernels, name, number, cheat):
    kernel = kernels(name)
    _, solution, check = exercises(kernel.notebook)[number - 1]
    kernel.advance(solution)
    source = stub(solution.source) if cheat == "the stub" else CHEATS[name, number][cheat]
    try:
        kernel.fails(source)  # the stub raises here already when its function is called in the cell
        assert kernel.fails(check.source), f"{name} exercise {number}: the check passes on {cheat!r}"
    finally:
        kernel.run(solution.source)
        kernel.run(check.source)  # and passes on the solution
