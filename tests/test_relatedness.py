"""Tests for course_lib.relatedness: samples differ only in the knob, roles and groups come from the
generator's truth, by_role and gate_grouping against hand-computed values."""

import doctest
import json

import numpy as np
import pytest

from course_lib import relatedness
from course_lib.data import synthetic
from course_lib.data.vocabulary import slugify


@pytest.fixture(scope="module")
def samples(tmp_path_factory):
    return relatedness.write_samples(tmp_path_factory.mktemp("sweep"), (0.0, 0.5, 1.0), videos=20)


def test_samples_share_the_structure_and_differ_in_the_cosine(samples):
    assert list(samples) == [0.0, 0.5, 1.0]
    truths = {r: relatedness.read_truth(folder) for r, folder in samples.items()}
    for r, truth in truths.items():
        assert sorted(p.name for p in samples[r].glob("*.tfrecord")) == ["train0000.tfrecord", "validate0000.tfrecord"]
        manifest = json.loads((samples[r] / "SYNTHETIC.json").read_text())
        assert manifest["videos"] == 20 and manifest["relatedness"] == r
        exported = synthetic.task_structure(relatedness=r)  # the embedded sample's seed, the default
        exported.pop("_coordinates")
        assert truth == exported
        for key in ("group", "sign", "label_noise", "strength"):
            assert truth[key] == truths[0.0][key], key
        cosine, group, sign = np.array(truth["cosine"]), np.array(truth["group"]), np.array(truth["sign"])
        same = (group[:, None] == group[None, :]) & ~np.eye(len(group), dtype=bool)
        np.testing.assert_allclose(cosine[same], (r * sign[:, None] * sign[None, :])[same], atol=1e-6)
        np.testing.assert_allclose(cosine[group[:, None] != group[None, :]], 0, atol=1e-6)


def test_write_samples_rejects_a_value_outside_0_1(tmp_path):
    with pytest.raises(ValueError, match="Received: values"):
        relatedness.write_samples(tmp_path, (0.5, 1.5), videos=20)


def test_read_truth_names_a_folder_without_manifest(tmp_path):
    with pytest.raises(ValueError, match="SYNTHETIC.json: no such file"):
        relatedness.read_truth(tmp_path)


def test_roles_follow_the_truth():
    truth = synthetic.task_structure(seed=3, relatedness=0.7)
    roles = relatedness.vertical_roles(truth)
    for v, role in enumerate(roles):
        assert role == ("conflicting" if truth["sign"][v] < 0 else "noisy" if truth["label_noise"][v] > 0 else "aligned")
    for g in range(synthetic.NUM_GROUPS):  # one conflicting and one noisy vertical per group of five
        members = [roles[v] for v in range(len(roles)) if truth["group"][v] == g]
        assert sorted(members) == ["aligned"] * 3 + ["conflicting", "noisy"]


def test_by_role_averages_each_role_by_name_slug_or_order():
    truth = synthetic.task_structure(seed=3)
    roles = relatedness.vertical_roles(truth)
    values = np.arange(len(roles), dtype=float)
    expected = {role: float(np.mean([x for x, r in zip(values, roles) if r == role])) for role in relatedness.ROLES}
    by_name = dict(zip(truth["verticals"], values))
    by_slug = {slugify(name): x for name, x in by_name.items()}
    assert relatedness.by_role(list(values), truth) == pytest.approx(expected)
    assert relatedness.by_role(by_name, truth) == pytest.approx(expected)
    assert relatedness.by_role(by_slug, truth) == pytest.approx(expected)
    with_none = dict(by_slug, **{slugify(truth["verticals"][roles.index("noisy")]): None})
    noisy = [x for x, r in zip(values, roles) if r == "noisy"][1:]
    assert relatedness.by_role(with_none, truth)["noisy"] == pytest.approx(np.mean(noisy))
    with pytest.raises(ValueError, match="no value for"):
        relatedness.by_role({"games": 1.0}, truth)
    with pytest.raises(ValueError, match="one entry per vertical"):
        relatedness.by_role([1.0, 2.0], truth)


def test_gate_grouping_by_hand():
    rng = np.random.default_rng(0)
    truth = {"group": [0, 0, 1, 1, 2]}
    gates = rng.dirichlet(np.ones(4), size=5)
    centred = gates - gates.mean(axis=0)
    unit = centred / np.linalg.norm(centred, axis=1, keepdims=True)
    same = [unit[0] @ unit[1], unit[2] @ unit[3]]
    other = [unit[a] @ unit[b] for a in range(5) for b in range(a + 1, 5) if truth["group"][a] != truth["group"][b]]
    result = relatedness.gate_grouping(gates, truth)
    assert result == pytest.approx({"same group": np.mean(same), "other groups": np.mean(other)})
    with pytest.raises(ValueError, match="Received: shape"):
        relatedness.gate_grouping(gates[:3], truth)


def test_docstring_examples():
    assert doctest.testmod(relatedness).failed == 0
