"""Experts, Gates, MixtureOfExperts (MMoE, OMoE): the layer check, NumPy references, seeds, fan-in."""

import doctest

import keras
import numpy as np
import pytest

from course_lib.layers import Experts, Gates, MixtureOfExperts
from course_lib.layers import experts as experts_module
from tests.layers.check import check_layer


def inputs(batch=6, width=5, seed=0):
    return np.random.default_rng(seed).normal(size=(batch, width)).astype("float32")


def softmax(z):
    z = np.exp(z - z.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


def slices(weight):
    return [weight[i] for i in range(weight.shape[0])]


def test_experts_pass_the_layer_check_and_match_numpy():
    out = check_layer(lambda: Experts(4, 3, seed=1), inputs(), sub_weights=lambda layer: slices(layer.kernel))
    layer = Experts(4, 3, seed=1)
    layer(inputs())
    w, b = np.asarray(layer.kernel), np.asarray(layer.bias)
    np.testing.assert_allclose(out, np.maximum(np.einsum("bd,idu->biu", inputs(), w) + b, 0), rtol=1e-5, atol=1e-6)


def test_batched_experts_equal_a_loop_of_dense_layers():
    layer = Experts(3, 4, activation="tanh", seed=0)
    batched = np.asarray(layer(inputs()))
    for i in range(3):
        dense = keras.layers.Dense(4, activation="tanh")
        dense.build((None, 5))
        dense.set_weights([np.asarray(layer.kernel[i]), np.asarray(layer.bias[i])])
        np.testing.assert_allclose(batched[:, i], np.asarray(dense(inputs())), rtol=1e-5, atol=1e-6)


def test_each_expert_slice_has_the_fan_in_of_one_dense_kernel():
    d, u, n = 512, 64, 8
    layer = Experts(n, u, seed=0)
    layer.build((None, d))
    limit = np.sqrt(6 / (d + u))  # Glorot-uniform of one (d, u) kernel
    kernel = np.asarray(layer.kernel)
    assert np.abs(kernel).max() <= limit and np.abs(kernel).max() > 0.95 * limit
    # One call on the stacked shape would use Keras's conv-style fans: a scale sqrt(n) too small.
    naive = np.asarray(keras.initializers.GlorotUniform(seed=0)((n, d, u)))
    assert np.abs(naive).max() < 0.5 * limit


def test_one_seeded_initializer_makes_identical_experts_and_ours_do_not():
    same = [np.asarray(keras.initializers.GlorotUniform(seed=1024)((5, 3))) for _ in range(2)]
    np.testing.assert_array_equal(*same)  # the pitfall
    layer = Experts(2, 3, seed=1024)
    layer.build((None, 5))
    assert not np.allclose(layer.kernel[0], layer.kernel[1])


def test_gates_pass_the_layer_check_and_are_softmaxes():
    out = check_layer(lambda: Gates(3, 4, seed=2), inputs(), sub_weights=lambda layer: slices(layer.kernel))
    layer = Gates(3, 4, seed=2)
    layer(inputs())
    np.testing.assert_allclose(out, softmax(np.einsum("bd,kdn->bkn", inputs(), np.asarray(layer.kernel))), rtol=1e-5)


def sub_networks(layer):
    return slices(layer.experts.kernel) + slices(layer.gates.kernel)


@pytest.mark.parametrize("num_gates", [None, 1])
def test_mixture_passes_the_layer_check_and_matches_numpy(num_gates):
    factory = lambda: MixtureOfExperts(3, 4, 2, num_gates=num_gates, seed=5)  # noqa: E731
    out = check_layer(factory, inputs(), sub_weights=sub_networks)
    layer = factory()
    layer(inputs())
    f = np.maximum(np.einsum("bd,idu->biu", inputs(), np.asarray(layer.experts.kernel)) + np.asarray(layer.experts.bias), 0)
    g = softmax(np.einsum("bd,kdn->bkn", inputs(), np.asarray(layer.gates.kernel)))  # (batch, gates, n)
    expected = np.stack([sum(g[:, k % g.shape[1], i, None] * f[:, i] for i in range(4)) for k in range(3)], axis=1)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)  # f^k = sum_i g_i^k f_i
    if num_gates == 1:  # OMoE: every tower gets the same mixture
        np.testing.assert_allclose(out[:, 0], out[:, 2])


def test_mmoe_with_tied_gates_is_omoe():
    mmoe, omoe = MixtureOfExperts(3, 4, 2, seed=0), MixtureOfExperts(3, 4, 2, num_gates=1, seed=0)
    mmoe(inputs()), omoe(inputs())
    omoe.experts.set_weights(mmoe.experts.get_weights())
    tied = np.repeat(np.asarray(omoe.gates.kernel), 3, axis=0)
    mmoe.gates.kernel.assign(tied)
    np.testing.assert_allclose(mmoe(inputs()), omoe(inputs()), rtol=1e-6)


def test_expert_dropout_drops_experts_only_while_training():
    layer = Gates(2, 4, expert_dropout=0.5, seed=0)
    x = inputs(batch=200)
    train, test = np.asarray(layer(x, training=True)), np.asarray(layer(x, training=False))
    assert np.all(test > 0)
    zero = train == 0
    assert 0.3 < zero.mean() < 0.6 and not np.any(zero.all(axis=-1))
    np.testing.assert_allclose(train.sum(axis=-1), 1, rtol=1e-5)


@pytest.mark.parametrize(
    "make, text",
    [
        (lambda: Experts(0, 3), "num_experts"),
        (lambda: Experts(2, 3, seed=-1), "seed"),
        (lambda: Gates(2, 3, expert_dropout=1.0), "expert_dropout"),
        (lambda: MixtureOfExperts(3, 2, 4, num_gates=2), "num_gates"),
        (lambda: experts_module.stacked_initializer("zeros", 2, 0)((3, 4)), "2 slices"),
    ],
)
def test_bad_arguments_name_the_problem(make, text):
    with pytest.raises(ValueError, match=text):
        make()


def test_docstring_examples_run():
    result = doctest.testmod(experts_module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
