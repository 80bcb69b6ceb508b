"""SoftSharedDense: the shared layer check, the penalty as a layer loss, and what its strength does."""

import keras
import numpy as np
import pytest

from course_lib.layers import SoftSharedDense
from tests.layers.check import check_layer


def features(batch=8, width=6, seed=0):
    return np.random.default_rng(seed).normal(size=(batch, width)).astype("float32")


def test_soft_shared_dense_passes_the_layer_check():
    outputs = check_layer(lambda: SoftSharedDense(4, num_tasks=3, sharing=0.1, activation="relu", seed=2),
                          features(), sub_weights=lambda layer: [t.kernel for t in layer.towers])
    assert len(outputs) == 3 and all(h.shape == (8, 4) for h in outputs)


def test_a_list_of_inputs_passes_too():
    check_layer(lambda: SoftSharedDense(3, num_tasks=2, seed=0), [features(seed=1), features(seed=2)],
                sub_weights=lambda layer: [t.kernel for t in layer.towers])


def test_each_task_is_its_own_dense_layer():
    x = features()
    layer = SoftSharedDense(4, num_tasks=2, activation="relu", seed=0)
    for h, tower in zip(layer(x), layer.towers):
        want = np.maximum(x @ np.asarray(tower.kernel) + np.asarray(tower.bias), 0)
        np.testing.assert_allclose(np.asarray(h), want, rtol=1e-5, atol=1e-6)


def test_the_layer_loss_is_the_pairwise_penalty_by_hand():
    layer = SoftSharedDense(4, num_tasks=3, sharing=0.25, seed=0)
    layer(features())
    rng = np.random.default_rng(3)
    for tower in layer.towers:
        tower.bias.assign(rng.normal(size=4).astype("float32"))
    layer(features())
    kernels = [np.asarray(t.kernel, "float64") for t in layer.towers]
    biases = [np.asarray(t.bias, "float64") for t in layer.towers]
    want = 0.25 * sum(np.sum((a[i] - a[j]) ** 2) for a in (kernels, biases) for i in range(3) for j in range(i + 1, 3))
    assert len(layer.losses) == 1
    np.testing.assert_allclose(float(layer.losses[0]), want, rtol=1e-5)


def test_no_sharing_adds_no_loss():
    layer = SoftSharedDense(4, num_tasks=2, seed=0)
    layer(features())
    assert layer.losses == []


def train_towers(sharing, epochs=80):
    # Two tasks with different linear targets, full-batch gradient descent: the trained kernels.
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 3)).astype("float32")
    targets = [x @ W_TRUE[0], x @ W_TRUE[1]]
    inputs = keras.Input((3,))
    layer = SoftSharedDense(1, num_tasks=2, sharing=sharing, seed=0, name="towers")
    model = keras.Model(inputs, layer(inputs))
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss=["mse", "mse"])
    model.fit(x, [t.astype("float32") for t in targets], epochs=epochs, batch_size=len(x), verbose=0)
    return x, [np.asarray(t.kernel)[:, 0] for t in layer.towers]


W_TRUE = np.array([[[1.0], [0.0], [2.0]], [[1.0], [1.0], [-1.0]]], "float32")


@pytest.mark.parametrize("sharing", [0.0, 0.3, 3.0])
def test_the_penalty_shrinks_the_tasks_difference_as_the_closed_form_says(sharing):
    # Stationary point of mse_0 + mse_1 + sharing ||W_0 - W_1||^2 (targets without intercept, so the
    # biases stay near 0): S (W_t - w_t) = -+ sharing (W_0 - W_1), S = x^T x / N, whence
    # W_0 - W_1 = (S + 2 sharing I)^-1 S (w_0 - w_1): sharing 0 keeps each task's own solution,
    # a large one makes the difference vanish like 1 / (1 + 2 sharing), one shared layer.
    x, (k0, k1) = train_towers(sharing)
    S = x.T.astype("float64") @ x / len(x)
    want = np.linalg.solve(S + 2 * sharing * np.eye(3), S @ (W_TRUE[0, :, 0] - W_TRUE[1, :, 0]))
    np.testing.assert_allclose(k0 - k1, want, atol=0.02)


def test_bad_arguments_name_the_problem():
    with pytest.raises(ValueError, match="Received: num_tasks=1"):
        SoftSharedDense(4, num_tasks=1)
    with pytest.raises(ValueError, match="Received: units=0"):
        SoftSharedDense(0, num_tasks=2)
    with pytest.raises(ValueError, match="Received: factor=-1"):
        SoftSharedDense(4, num_tasks=2, sharing=-1)
    with pytest.raises(ValueError, match="one input or 2"):
        SoftSharedDense(4, num_tasks=2)([features()] * 3)
