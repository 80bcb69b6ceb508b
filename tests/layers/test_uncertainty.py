"""UncertaintyWeighting: the shared layer check, the loss by hand, the optimum sigma, sigma recovery."""

import keras
import numpy as np
import pytest

from course_lib.layers import UncertaintyWeighting
from tests.layers.check import check_layer

KINDS = ["regression", "classification", "regression"]


def task_losses(batch=5, seed=0):
    return np.random.default_rng(seed).uniform(0.1, 3.0, size=(batch, len(KINDS))).astype("float32")


def test_passes_the_layer_check():
    outputs = check_layer(lambda: UncertaintyWeighting(KINDS, initial_log_variance=[0.3, -0.2, 1.0]), task_losses(),
                          mixed_dtype="float32")
    assert outputs.shape == (5,)


@pytest.mark.parametrize("regularizer", ["log", "positive"])
def test_the_loss_by_hand(regularizer):
    s = np.array([0.3, -0.2, 1.0])
    losses = task_losses().astype("float64")
    sigma2 = np.exp(s)
    by_hand = (losses[:, 0] / (2 * sigma2[0]) + losses[:, 1] / sigma2[1] + losses[:, 2] / (2 * sigma2[2]))
    if regularizer == "log":
        by_hand += np.log(np.sqrt(sigma2)).sum()  # log sigma
    else:
        by_hand += np.log1p(sigma2).sum()  # log(1 + sigma^2), Liebel & Koerner
    layer = UncertaintyWeighting(KINDS, regularizer=regularizer, initial_log_variance=s)
    np.testing.assert_allclose(layer(losses), by_hand, rtol=1e-6)
    np.testing.assert_allclose(layer.sigma(), np.sqrt(sigma2), rtol=1e-6)
    np.testing.assert_allclose(layer.weights_of_losses(), [0.5 / sigma2[0], 1 / sigma2[1], 0.5 / sigma2[2]], rtol=1e-6)


def test_the_batch_mean_is_the_total_of_the_means():
    layer = UncertaintyWeighting(KINDS, initial_log_variance=0.7)
    losses = task_losses(batch=16)
    np.testing.assert_allclose(np.mean(layer(losses)), layer(losses.mean(0)), rtol=1e-5)


def minimise(layer, losses, steps=400, learning_rate=0.1):
    import tensorflow as tf

    optimizer = keras.optimizers.Adam(learning_rate)
    layer(losses)
    optimizer.build([layer.log_variance])

    @tf.function
    def run():
        for _ in tf.range(steps):
            with tf.GradientTape() as tape:
                total = layer(losses)
            optimizer.apply([tape.gradient(total, layer.log_variance)], [layer.log_variance])

    run()
    return layer


def test_at_fixed_losses_sigma2_is_L_for_regression_and_2L_for_classification():
    losses = np.array([4.0, 0.25, 0.01], "float32")  # the last below 1/e: the total goes negative
    layer = minimise(UncertaintyWeighting(KINDS), losses)
    np.testing.assert_allclose(layer.sigma() ** 2, [4.0, 0.5, 0.01], rtol=1e-3)
    # at the optimum each regression term is 1/2 + 1/2 log L, the classification one 1/2 + 1/2 log 2L
    expected = 0.5 * 3 + 0.5 * np.log([4.0, 0.5, 0.01]).sum()
    np.testing.assert_allclose(float(layer(losses)), expected, rtol=1e-4)
    assert float(layer(losses)) < 0


def test_the_positive_regularizer_stays_non_negative_and_has_its_own_optimum():
    losses = np.array([4.0, 0.25, 0.01], "float32")
    layer = minimise(UncertaintyWeighting(KINDS, regularizer="positive"), losses, steps=800)
    # d/ds [c e^-s L + log(1 + e^s)] = 0  <=>  sigma^2 (sigma^2 / (1 + sigma^2)) = c L
    sigma2, c = layer.sigma() ** 2, np.array([0.5, 1.0, 0.5])
    np.testing.assert_allclose(sigma2 ** 2 / (1 + sigma2), c * losses, rtol=1e-3)
    assert float(layer(losses)) > 0


def test_recovers_the_noise_of_two_regression_tasks():
    # y_t = x w_t + noise of std sigma_t; the learned sigma_t -> the residual std (about the true one)
    from course_lib.balancing import BalancedModel

    rng = np.random.default_rng(0)
    x = rng.normal(size=(4000, 1)).astype("float32")
    sigma = np.array([3.0, 0.5])
    y = {"a": 2 * x + sigma[0] * rng.normal(size=x.shape), "b": -x + sigma[1] * rng.normal(size=x.shape)}
    inputs = keras.Input((1,))
    net = keras.Model(inputs, {name: keras.layers.Dense(1, name=name)(inputs) for name in "ab"})
    model = BalancedModel(net, {"a": "MeanSquaredError", "b": "MeanSquaredError"}, weighting="uncertainty",
                          kinds={"a": "regression", "b": "regression"})
    model.compile(optimizer=keras.optimizers.Adam(0.05))
    keras.utils.set_random_seed(0)
    model.fit(x, {k: v.astype("float32") for k, v in y.items()}, batch_size=500, epochs=60, verbose=0)
    np.testing.assert_allclose(model.uncertainty.sigma(), sigma, rtol=0.05)


@pytest.mark.parametrize("arguments, message", [
    ({"kinds": ["regression", "ranking"]}, "kinds"),
    ({"kinds": []}, "kinds"),
    ({"kinds": ["regression"], "regularizer": "clip"}, "regularizer"),
    ({"kinds": ["regression"], "initial_log_variance": float("nan")}, "initial_log_variance"),
])
def test_bad_arguments_are_named(arguments, message):
    with pytest.raises(ValueError, match=message):
        UncertaintyWeighting(**arguments)


def test_the_input_must_hold_one_loss_per_task():
    with pytest.raises(ValueError, match="3 task losses"):
        UncertaintyWeighting(KINDS)(np.ones((2, 2), "float32"))
