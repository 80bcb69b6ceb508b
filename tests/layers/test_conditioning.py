"""Task conditioning layers: the shared layer check, a NumPy reference each, and the equivalences
(concatenation = additive with the kernel split; multiplicative with a one-hot z = independent
networks and independent heads)."""

import doctest

import keras
import numpy as np
import pytest

from course_lib.layers import (AdditiveConditioning, ConcatenationConditioning, MultiHeadConditioning,
                               MultiplicativeConditioning)
from course_lib.layers import conditioning
from tests.layers.check import check_layer

T, D, U = 3, 6, 4


def inputs(batch=5, seed=0, soft=False):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(batch, D)).astype("float32")
    z = rng.dirichlet(np.ones(T), batch) if soft else np.eye(T)[rng.integers(0, T, batch)]
    return [x, z.astype("float32")]


def weights(layer):
    return [np.asarray(w) for w in layer.get_weights()]


@pytest.mark.parametrize("factory, sub_weights", [
    (lambda: ConcatenationConditioning(U, activation="relu", seed=1), None),
    (lambda: AdditiveConditioning(U, activation="relu", seed=1), None),
    (lambda: MultiHeadConditioning(U, num_tasks=T, activation="tanh", seed=1), lambda l: [h.kernel for h in l.heads]),
    (lambda: MultiplicativeConditioning(U, activation="relu", seed=1), lambda l: [l.kernel[k] for k in range(T)]),
])
def test_each_layer_passes_the_layer_check(factory, sub_weights):
    outputs = check_layer(factory, inputs(soft=True), sub_weights=sub_weights)
    assert outputs.shape == (5, U)


def test_numpy_references():
    x, z = inputs(soft=True)
    concat = ConcatenationConditioning(U, seed=0)
    concat([x, z])
    K, b = weights(concat)
    np.testing.assert_allclose(concat([x, z]), np.c_[x, z] @ K + b, rtol=1e-5, atol=1e-6)

    additive = AdditiveConditioning(U, seed=0)
    additive([x, z])
    W, V, c = weights(additive)
    np.testing.assert_allclose(additive([x, z]), x @ W + z @ V + c, rtol=1e-5, atol=1e-6)

    heads = MultiHeadConditioning(U, num_tasks=T, activation="tanh", seed=0)
    heads([x, z])
    per_head = np.stack([np.tanh(x @ h.kernel.numpy() + h.bias.numpy()) for h in heads.heads], axis=1)
    np.testing.assert_allclose(heads([x, z]), np.einsum("btu,bt->bu", per_head, z), rtol=1e-5, atol=1e-6)

    mult = MultiplicativeConditioning(U, seed=0)
    mult([x, z])
    Wk, bk = weights(mult)
    np.testing.assert_allclose(mult([x, z]), np.einsum("bd,bk,kdu->bu", x, z, Wk) + z @ bk, rtol=1e-5, atol=1e-5)


def test_concatenation_is_additive_with_the_first_layers_weights_split():
    x, z = inputs(soft=True)
    concat = ConcatenationConditioning(U, activation="relu", seed=2)
    additive = AdditiveConditioning(U, activation="relu", seed=9)
    concat([x, z]), additive([x, z])
    K, b = weights(concat)
    additive.set_weights([K[:D], K[D:], b])
    np.testing.assert_allclose(additive([x, z]), concat([x, z]), rtol=1e-6, atol=1e-6)


def test_multiplicative_with_one_hot_z_is_independent_networks():
    x, z = inputs(batch=12)
    task = z.argmax(1)
    first, second = MultiplicativeConditioning(U, activation="relu", seed=0), MultiplicativeConditioning(2, seed=5)
    y = second([first([x, z]), z])
    (W1, b1), (W2, b2) = weights(first), weights(second)
    for i in range(T):
        network = keras.Sequential([keras.Input((D,)), keras.layers.Dense(U, activation="relu"), keras.layers.Dense(2)])
        network.set_weights([W1[i], b1[i], W2[i], b2[i]])  # task i's slices, alone
        np.testing.assert_allclose(y[task == i], network(x[task == i]), rtol=1e-5, atol=1e-6)


def test_with_one_hot_z_a_tasks_loss_does_not_reach_the_other_tasks_slices():
    import tensorflow as tf

    x, z = inputs(batch=8)
    z = np.eye(T, dtype="float32")[np.zeros(8, int)]  # every example is task 0
    first, second = MultiplicativeConditioning(U, activation="relu", seed=0), MultiplicativeConditioning(1, seed=5)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(second([first([x, z]), z]) ** 2)
    for grad in tape.gradient(loss, first.trainable_variables + second.trainable_variables):
        grad = grad.numpy()
        assert np.abs(grad[0]).max() > 0 and np.all(grad[1:] == 0)


def test_multiplicative_last_layer_on_a_shared_trunk_is_independent_heads():
    x, z = inputs(batch=12)
    task = z.argmax(1)
    trunk = keras.layers.Dense(U, activation="relu", kernel_initializer=keras.initializers.GlorotUniform(3))
    h = trunk(x)
    mult = MultiplicativeConditioning(2, activation="sigmoid", seed=4)
    heads = MultiHeadConditioning(2, num_tasks=T, activation="sigmoid", seed=11)
    y_mult, _ = mult([h, z]), heads([h, z])
    W, b = weights(mult)
    for k, head in enumerate(heads.heads):
        head.set_weights([W[k], b[k]])
    np.testing.assert_allclose(heads([h, z]), y_mult, rtol=1e-6, atol=1e-6)
    for i in range(T):  # and each is a plain Dense head on the trunk
        np.testing.assert_allclose(y_mult[task == i], keras.ops.sigmoid(h[task == i] @ W[i] + b[i]), rtol=1e-5, atol=1e-6)


def test_multi_head_with_one_hot_z_picks_the_head():
    x, z = inputs(batch=9)
    layer = MultiHeadConditioning(U, num_tasks=T, seed=0)
    y = layer([x, z])
    for row, k in enumerate(z.argmax(1)):
        np.testing.assert_allclose(y[row], layer.heads[k](x[row:row + 1])[0], rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("make, match", [
    (lambda: ConcatenationConditioning(0), "Received: units"),
    (lambda: AdditiveConditioning(2, seed=-1), "Received: seed"),
    (lambda: MultiHeadConditioning(2, num_tasks=0), "Received: num_tasks"),
])
def test_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_bad_inputs():
    with pytest.raises(ValueError, match="num_tasks=3"):
        MultiHeadConditioning(2, num_tasks=3)([np.ones((2, 4)), np.ones((2, 2))])
    with pytest.raises(ValueError, match=r"\[x, z\]"):
        ConcatenationConditioning(2)(np.ones((2, 4)))


def test_docstring_examples():
    assert doctest.testmod(conditioning).failed == 0
