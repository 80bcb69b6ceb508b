"""Towers: the layer check, a by-hand reference, one input per tower or one for all, normalised, prior biases."""

import doctest

import numpy as np
import pytest

from course_lib.data import load_vocabulary
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


def layer_norm(x, scale, offset):
    centred = x - x.mean(-1, keepdims=True)
    return centred / np.sqrt((centred ** 2).mean(-1, keepdims=True) + 1e-3) * scale + offset


@pytest.mark.parametrize("per_tower", [True, False])
def test_normalised_towers_with_prior_biases_pass_the_layer_check_and_match_numpy(per_tower):
    x = inputs(per_tower=per_tower)
    factory = lambda: Towers(GROUPS, hidden_units=3, normalize=True, head_bias="prior", seed=1)  # noqa: E731
    check_layer(factory, x, mixed_dtype="float32", sub_weights=sub_networks)
    layer = factory()
    layer(x)
    # trained-looking scales and offsets, so that the reference checks where each one enters
    rng = np.random.default_rng(2)
    for weight in (layer.input_scale, layer.input_offset, layer.hidden_scale, layer.hidden_offset):
        weight.assign(rng.normal(size=weight.shape).astype("float32"))
    out = {name: np.asarray(p) for name, p in layer(x).items()}
    rows = x if per_tower else np.repeat(x[:, None], 3, axis=1)
    w = {name: np.asarray(getattr(layer, name)) for name in ("input_scale", "input_offset", "hidden_scale",
                                                              "hidden_offset", "kernel")}
    for k, head in enumerate(layer.heads):
        z = layer_norm(rows[:, k], w["input_scale"][k], w["input_offset"][k]) @ w["kernel"][k]
        h = np.maximum(layer_norm(z, w["hidden_scale"][k], w["hidden_offset"][k]), 0)
        p = 1 / (1 + np.exp(-(h @ np.asarray(head.kernel) + np.asarray(head.bias))))
        np.testing.assert_allclose(out[head.name], p, rtol=1e-4, atol=1e-6)
    assert layer.bias is None  # the hidden normalisation's offset is the bias


def test_prior_biases_are_the_labels_log_prior_odds():
    layer = Towers(GROUPS, hidden_units=3, head_bias="prior", seed=0)
    layer(inputs())
    odds = load_vocabulary().log_prior_odds()
    for head in layer.heads:
        np.testing.assert_allclose(np.asarray(head.bias), odds[GROUPS[head.name]], rtol=1e-6)
    frequency = 1 / (1 + np.exp(-odds))
    np.testing.assert_allclose(frequency, load_vocabulary().train_counts / 3_888_919, rtol=1e-9)
    plain = Towers(GROUPS, hidden_units=3, seed=0)
    plain(inputs())
    assert all(not np.any(np.asarray(head.bias)) for head in plain.heads)


def hidden_units(layer, x):
    """Tower hidden activations (batch, K, h) computed by hand from the layer's starting weights."""
    kernel = np.asarray(layer.kernel)
    if not layer.normalize:
        return np.maximum(np.einsum("bku,kuh->bkh", x, kernel) + np.asarray(layer.bias), 0)
    return np.maximum(layer_norm(np.einsum("bku,kuh->bkh", layer_norm(x, 1, 0), kernel), 1, 0), 0)


def test_normalised_hidden_units_start_alive_where_plain_ones_die():
    # small, positive, alike inputs, as a softmax mixture of ReLU experts gives them
    x = inputs(batch=64, width=7) * 0.01 + 0.2
    normalised, plain = Towers(GROUPS, hidden_units=16, normalize=True, seed=0), Towers(GROUPS, hidden_units=16, seed=0)
    normalised(x), plain(x)
    alive = hidden_units(normalised, x).max(axis=0) > 0
    assert alive.all()  # every unit of every tower is active for some video
    assert (hidden_units(plain, x).max(axis=0) <= 0).mean() > 0.2  # without: units never active


def test_towers_without_hidden_layers_are_heads():
    for normalize in (False, True):
        out = check_layer(lambda: Towers(GROUPS, hidden_units=0, normalize=normalize, seed=0), inputs(),
                          mixed_dtype="float32", sub_weights=lambda layer: [head.kernel for head in layer.heads])
        assert sorted(out) == sorted(GROUPS)


def test_bad_arguments_name_the_problem():
    with pytest.raises(ValueError, match="hidden_units"):
        Towers(GROUPS, hidden_units=-1)
    with pytest.raises(ValueError, match="Expected"):
        Towers(GROUPS)(np.zeros((2, 2, 4)))
    with pytest.raises(ValueError, match="head_bias"):
        Towers(GROUPS, head_bias="ones")
    with pytest.raises(ValueError, match=r"label ids in \[0, 3862\)"):
        Towers({"big": [4000]}, head_bias="prior")


def test_docstring_examples_run():
    result = doctest.testmod(towers_module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
