"""ExtractionLevel (CGC) and ProgressiveLayeredExtraction (PLE): the layer check and NumPy references."""

import doctest

import numpy as np
import pytest

from course_lib.layers import ExtractionLevel, ProgressiveLayeredExtraction
from course_lib.layers import ple as ple_module
from tests.layers.check import check_layer

K, T, S, U = 3, 2, 2, 4


def inputs(batch=6, width=5, seed=0):
    return np.random.default_rng(seed).normal(size=(batch, width)).astype("float32")


def softmax(z):
    z = np.exp(z - z.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


def level_slices(level):
    weights = [level.task_kernel, level.shared_kernel, level.gate_kernel]
    if level.shared_gate_kernel is not None:
        weights.append(level.shared_gate_kernel)
    return [w[i] for w in weights for i in range(w.shape[0])]


def by_hand(level, x):
    """One level in NumPy, expert by expert and gate by gate."""
    w = {v.name: np.asarray(v) for v in level.weights}
    task_in = [x] * K if x.ndim == 2 else [x[:, k] for k in range(K)]
    shared_in = x if x.ndim == 2 else x[:, K]
    relu = lambda a: np.maximum(a, 0)  # noqa: E731
    task = [[relu(task_in[k] @ w["task_kernel"][k * T + t] + w["task_bias"][k, t]) for t in range(T)] for k in range(K)]
    shared = [relu(shared_in @ w["shared_kernel"][s] + w["shared_bias"][s]) for s in range(S)]
    out = []
    for k in range(K):
        g = softmax(task_in[k] @ w["gate_kernel"][k])  # only task k's experts and the shared ones
        out.append(sum(g[:, e, None] * f for e, f in enumerate(task[k] + shared)))
    if level.shared_gate:
        g = softmax(shared_in @ w["shared_gate_kernel"][0])  # over every expert of the level
        out.append(sum(g[:, e, None] * f for e, f in enumerate([f for fs in task for f in fs] + shared)))
    return np.stack(out, axis=1)


@pytest.mark.parametrize("shared_gate", [False, True])
def test_a_level_passes_the_layer_check_and_matches_numpy(shared_gate):
    factory = lambda: ExtractionLevel(K, T, S, U, shared_gate=shared_gate, seed=3)  # noqa: E731
    out = check_layer(factory, inputs(), sub_weights=level_slices)
    layer = factory()
    layer(inputs())
    np.testing.assert_allclose(out, by_hand(layer, inputs()), rtol=1e-5, atol=1e-6)
    assert out.shape == (6, K + int(shared_gate), U)


def test_ple_passes_the_layer_check_and_is_its_levels_by_hand():
    factory = lambda: ProgressiveLayeredExtraction(K, T, S, U, num_levels=3, seed=0)  # noqa: E731
    out = check_layer(factory, inputs(), sub_weights=lambda ple: [w for level in ple.levels for w in level_slices(level)])
    layer = factory()
    layer(inputs())
    assert [level.shared_gate for level in layer.levels] == [True, True, False]
    x = inputs()
    for level in layer.levels:
        x = by_hand(level, x)
    np.testing.assert_allclose(out, x, rtol=1e-4, atol=1e-5)


def test_the_shared_gate_feeds_the_next_levels_shared_experts():
    layer = ProgressiveLayeredExtraction(K, T, S, U, num_levels=2, seed=0)
    layer(inputs())
    before = np.asarray(layer(inputs()))
    kernel = np.asarray(layer.levels[0].shared_gate_kernel)
    layer.levels[0].shared_gate_kernel.assign(kernel + 1.0 * np.random.default_rng(0).normal(size=kernel.shape))
    assert not np.allclose(before, layer(inputs()))  # without a shared gate this would be a stacked CGC


def test_gate_values_are_softmaxes_over_the_right_experts():
    layer = ProgressiveLayeredExtraction(K, T, S, U, num_levels=2, seed=0)
    (task0, shared0), (task1, shared1) = layer.gate_values(inputs())
    assert task0.shape == (6, K, T + S) and shared0.shape == (6, K * T + S) and shared1 is None
    np.testing.assert_allclose(np.sum(task1, axis=-1), 1, rtol=1e-5)


@pytest.mark.parametrize(
    "make, text",
    [
        (lambda: ExtractionLevel(2, 0, 1, 4), "task_experts"),
        (lambda: ExtractionLevel(2, 1, 1, 4)(np.zeros((2, 2, 3))), "Expected"),
        (lambda: ProgressiveLayeredExtraction(2, 1, 1, 4, num_levels=0), "num_levels"),
    ],
)
def test_bad_arguments_name_the_problem(make, text):
    with pytest.raises(ValueError, match=text):
        make()


def test_docstring_examples_run():
    result = doctest.testmod(ple_module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
