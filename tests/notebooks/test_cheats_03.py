"""Notebooks 03a and 03b: every exercise has known cheats, and each of them fails its check.

The cheats are in ``cheats_03a.py`` and ``cheats_03b.py``; the results are those of nbval's run of
the notebook, shared with ``test_exercises.py`` (``_run``: one execution of each notebook per session). Issue 12 named
03a exercise 3's cheat (the solver at each alpha) and asked for a check of the old "open"
exercise on verticals and audio (now 03b exercise 3).
"""

import pytest

from .exercises import ROOT, known_cheats
from .test_exercises import _run

NAMED_IN_ISSUE = {"03a_lasso.ipynb": (3, "the solver at each alpha"),
                  "03b_shared_sparsity.ipynb": (3, "part 5's shared survivors for every vertical")}


@pytest.mark.exercises
@pytest.mark.parametrize("name", sorted(NAMED_IN_ISSUE))
def test_each_known_cheat_fails_its_check(name):
    cheats = known_cheats(name)
    number, cheat = NAMED_IN_ISSUE[name]
    assert cheat in cheats.get(number, {}), f"{name}: the cheat {cheat!r} of exercise {number} is not tried"
    run = _run(ROOT / "notebooks" / name)
    assert set(cheats) == set(run.exercises), f"{name}: exercises without known cheats"
    for n, result in run.exercises.items():
        assert result.stub is not None, f"{name} exercise {n}: the check passes on the stub"
        passed = [c for c, error in result.cheats.items() if error is None]
        assert not passed, f"{name} exercise {n}: the check passes on {passed}"
        assert len(result.cheats) == len(cheats[n]) >= 2
        assert result.solution is None, f"{name} exercise {n}: the solution fails: {result.solution}"
