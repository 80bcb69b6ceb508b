"""Towers: the layer check, a by-hand reference, one input per tower or one for all."""

import doctest

import numpy as np
import pytest

from course_lib.layers import Towers
from course_lib.layers import towers as towers_module
from tests.layers.check import check_layer

GROUPS = {"music": [2, 0, 5], "sports": [1, 3], "news": [6]}


def inputs(batch=4, width=5, seed=0, per_tower=True):
    shape = (batch, len(GROUPS), width) if per_tower else (batch, width)
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def sub_networks(layer):
    return [layer.kernel[k] for k in range(len(GROUPS))] + [head.kernel for head in layer.heads]


@pytest.mark.parametrize("per_tower", [True, False])
def test_towers_pass_the_layer_check_and_match_numpy(per_tower):
    x = inputs(per_tower=per_tower)
    out = check_layer(lambda: Towers(GROUPS, hidden_units=3, seed=1), x, mixed_dtype="float32", sub_weights=sub_networks)
    layer = Towers(GROUPS, hidden_units=3, seed=1)
    layer(x)
    rows = x if per_tower else np.repeat(x[:, None], 3, axis=1)
    for k, head in enumerate(layer.heads):
        h = np.maximum(rows[:, k] @ np.asarray(layer.kernel[k]) + np.asarray(layer.bias[k]), 0)
        p = 1 / (1 + np.exp(-(h @ np.asarray(head.kernel) + np.asarray(head.bias))))
        np.testing.assert_allclose(out[head.name], p, rtol=1e-5, atol=1e-6)
        assert out[head.name].shape == (4, len(GROUPS[head.name]))


def test_towers_without_hidden_layers_are_heads():
    out = check_layer(lambda: Towers(GROUPS, hidden_units=0, seed=0), inputs(), mixed_dtype="float32",
                      sub_weights=lambda layer: [head.kernel for head in layer.heads])
    assert sorted(out) == sorted(GROUPS)


def test_bad_arguments_name_the_problem():
    with pytest.raises(ValueError, match="hidden_units"):
        Towers(GROUPS, hidden_units=-1)
    with pytest.raises(ValueError, match="Expected"):
        Towers(GROUPS)(np.zeros((2, 2, 4)))


def test_docstring_examples_run():
    result = doctest.testmod(towers_module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
