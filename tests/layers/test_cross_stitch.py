"""CrossStitch: the shared layer check, a by-hand reference, the starts, learning, and bad arguments."""

import doctest

import keras
import numpy as np
import pytest

from course_lib.layers import CrossStitch
from course_lib.layers import cross_stitch as cross_stitch_module
from course_lib.layers.cross_stitch import cross_stitch_matrix
from tests.layers.check import check_layer


def activations(tasks=3, batch=4, width=5, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(batch, width)).astype("float32") for _ in range(tasks)]


def by_hand(alpha, xs):
    """x~_t[n, c] = sum_s alpha[t, s, c] x_s[n, c], one loop per index."""
    T, (N, C) = len(xs), xs[0].shape
    alpha = alpha if alpha.ndim == 3 else np.repeat(alpha[:, :, None], C, axis=2)
    out = np.zeros((T, N, C))
    for t in range(T):
        for s in range(T):
            for n in range(N):
                for c in range(C):
                    out[t, n, c] += alpha[t, s, c] * xs[s][n, c]
    return list(out)


@pytest.mark.parametrize("granularity", ["channel", "layer"])
def test_cross_stitch_passes_the_layer_check(granularity):
    outputs = check_layer(lambda: CrossStitch(granularity=granularity), activations())
    assert len(outputs) == 3 and all(y.shape == (4, 5) for y in outputs)


@pytest.mark.parametrize("granularity", ["channel", "layer"])
def test_outputs_match_the_by_hand_sums_for_any_alpha(granularity):
    xs = activations(tasks=3)
    unit = CrossStitch(granularity=granularity)
    unit(xs)
    alpha = np.random.default_rng(1).normal(size=tuple(unit.alpha.shape)).astype("float32")
    unit.alpha.assign(alpha)
    for got, want in zip(unit(xs), by_hand(alpha, xs)):
        np.testing.assert_allclose(np.asarray(got), want, rtol=1e-5, atol=1e-6)


def test_alpha_shapes_per_channel_and_per_layer():
    xs = activations(tasks=2, width=7)
    channel, layer = CrossStitch(), CrossStitch(granularity="layer")
    channel(xs), layer(xs)
    assert channel.mixing().shape == (2, 2, 7) and layer.mixing().shape == (2, 2)
    assert channel.alpha.path.endswith("alpha")  # what a learning-rate multiplier matches


def test_the_default_start_is_the_papers_convex_one():
    unit = CrossStitch()
    unit(activations(tasks=2))
    np.testing.assert_allclose(unit.mixing()[:, :, 0], [[0.9, 0.1], [0.1, 0.9]], rtol=1e-6)
    assert np.all(unit.mixing() == unit.mixing()[:, :, :1])  # the same matrix in every channel
    three = cross_stitch_matrix(3, self_weight=0.8)
    np.testing.assert_allclose(three.sum(axis=1), 1, rtol=1e-6)  # rows are convex combinations
    np.testing.assert_allclose(np.diag(three), 0.8)


def test_identity_start_is_independent_networks_and_uniform_is_hard_sharing():
    xs = activations(tasks=3)
    identity, uniform = CrossStitch(init="identity"), CrossStitch(init="uniform")
    for y, x in zip(identity(xs), xs):
        np.testing.assert_allclose(np.asarray(y), x, rtol=1e-6)
    outputs = [np.asarray(y) for y in uniform(xs)]
    np.testing.assert_allclose(outputs[0], np.mean(xs, axis=0), rtol=1e-5, atol=1e-6)
    for y in outputs[1:]:
        np.testing.assert_array_equal(y, outputs[0])  # every task gets the same input


def test_an_all_ones_start_sums_the_tasks_at_t_times_the_scale():
    xs = [np.ones((2, 3), "float32")] * 4
    for y in CrossStitch(init="ones")(xs):
        np.testing.assert_allclose(np.asarray(y), 4.0)


def test_two_units_built_alike_do_not_share_state():
    xs = activations(tasks=2)
    first, second = CrossStitch(), CrossStitch()
    first(xs), second(xs)
    assert first.alpha is not second.alpha
    first.alpha.assign(np.zeros(first.alpha.shape, "float32"))
    np.testing.assert_allclose(second.mixing()[:, :, 0], [[0.9, 0.1], [0.1, 0.9]], rtol=1e-6)


def test_alpha_learns_to_mix_when_the_target_needs_it():
    # Task 0's target is task 1's input: only alpha_01 can deliver it.
    rng = np.random.default_rng(0)
    x0, x1 = rng.normal(size=(256, 4)).astype("float32"), rng.normal(size=(256, 4)).astype("float32")
    inputs = [keras.Input((4,)), keras.Input((4,))]
    mixed = CrossStitch(granularity="layer", name="stitch")(inputs)
    model = keras.Model(inputs, mixed[0])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    model.fit([x0, x1], x1, epochs=30, batch_size=32, verbose=0)
    np.testing.assert_allclose(model.get_layer("stitch").mixing()[0], [0.0, 1.0], atol=0.02)


def test_mixed_float16_keeps_alpha_float32():
    from course_lib.precision import dtype_policy

    with dtype_policy("mixed_float16"):
        unit = CrossStitch()
        outputs = unit(activations(tasks=2))
    assert unit.alpha.dtype == "float32" and all(keras.backend.standardize_dtype(y.dtype) == "float16" for y in outputs)


def test_bad_arguments_and_inputs_name_the_problem():
    with pytest.raises(ValueError, match="Received: granularity='pixel'"):
        CrossStitch(granularity="pixel")
    with pytest.raises(ValueError, match="Received: init='zeros'"):
        CrossStitch(init="zeros")
    with pytest.raises(ValueError, match="Received: self_weight=1.5"):
        CrossStitch(self_weight=1.5)
    with pytest.raises(ValueError, match="at least 2 tasks"):
        cross_stitch_matrix(1)
    with pytest.raises(ValueError, match="T >= 2"):
        CrossStitch()(activations(tasks=1))
    with pytest.raises(ValueError, match="one shape"):
        CrossStitch()([np.ones((2, 3)), np.ones((2, 4))])


def test_docstring_examples_run():
    assert doctest.testmod(cross_stitch_module, extraglobs={"np": np}).failed == 0
