"""Tests for course_lib.regularizers: value and gradient at zero rows, serialisation, XLA, mixed precision."""

import doctest

import keras
import numpy as np
import pytest

from course_lib import regularizers
from course_lib.precision import dtype_policy
from course_lib.regularizers import GroupLasso, SoftSharing
from tests.toy_models import small_model, tiny_regression


def test_group_lasso_value_and_zero_row_gradient():
    import tensorflow as tf

    W = np.array([[3.0, 4.0], [0.0, 0.0], [1.0, 0.0]], np.float32)
    reg = GroupLasso(0.5)
    assert float(reg(W)) == pytest.approx(0.5 * (5 + 0 + 1))
    variable = tf.Variable(W)
    with tf.GradientTape() as tape:
        value = reg(variable)
    grad = tape.gradient(value, variable).numpy()
    assert np.all(np.isfinite(grad))
    np.testing.assert_allclose(grad, 0.5 * np.array([[0.6, 0.8], [0.0, 0.0], [1.0, 0.0]]), atol=1e-6)


def test_group_lasso_rejects_negative_factor():
    with pytest.raises(ValueError, match="Received: factor"):
        GroupLasso(-1.0)


def test_group_lasso_serialisation_round_trip(tmp_path):
    reg = GroupLasso(0.03)
    config = keras.regularizers.serialize(reg)
    again = keras.regularizers.deserialize(config)
    assert isinstance(again, GroupLasso) and again.get_config() == {"factor": 0.03}

    inputs = keras.Input((6,))
    outputs = keras.layers.Dense(3, kernel_regularizer=reg, name="shared")(inputs)
    model = keras.Model(inputs, outputs)
    model.save(tmp_path / "model.keras")
    loaded = keras.models.load_model(tmp_path / "model.keras")
    assert loaded.get_layer("shared").kernel_regularizer.get_config() == {"factor": 0.03}
    np.testing.assert_allclose(loaded.losses[0], model.losses[0], rtol=1e-6)


def test_group_lasso_trains_under_xla():
    X, y = tiny_regression()
    model = small_model(regularizer=GroupLasso(0.01))
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse", jit_compile=True)
    assert model.jit_compile  # really XLA (Keras falls back silently when op determinism is on)
    history = model.fit(X, y, batch_size=16, epochs=3, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_group_lasso_under_mixed_float16():
    X, y = tiny_regression()
    with dtype_policy("mixed_float16"):
        model = small_model(regularizer=GroupLasso(0.01))
        model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
        history = model.fit(X, y, batch_size=16, epochs=2, verbose=0)
        assert model.get_layer("shared").compute_dtype == "float16"
        assert np.all(np.isfinite(history.history["loss"]))
        assert model.losses[0].dtype == "float32"  # the penalty is computed on the float32 kernel


def test_docstring_examples():
    result = doctest.testmod(regularizers, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_soft_sharing_is_the_pairwise_sum_by_hand_and_t_times_the_spread_around_the_mean():
    rng = np.random.default_rng(0)
    weights = [rng.normal(size=(4, 3)).astype("float32") for _ in range(4)]
    by_hand = sum(np.sum((weights[i] - weights[j]) ** 2) for i in range(4) for j in range(i + 1, 4))
    np.testing.assert_allclose(float(SoftSharing(0.5)(weights)), 0.5 * by_hand, rtol=1e-5)
    mean = np.mean(weights, axis=0)
    np.testing.assert_allclose(by_hand, 4 * sum(np.sum((w - mean) ** 2) for w in weights), rtol=1e-5)
    distances = sum(np.linalg.norm(weights[i] - weights[j]) for i in range(4) for j in range(i + 1, 4))
    np.testing.assert_allclose(float(SoftSharing(1.0, squared=False)(weights)), distances, rtol=1e-5)


def test_soft_sharing_gradient_pulls_each_copy_towards_the_others():
    import tensorflow as tf

    a, b = tf.Variable([1.0, 2.0]), tf.Variable([3.0, -2.0])
    with tf.GradientTape() as tape:
        value = SoftSharing(1.0)([a, b])
    grad_a, grad_b = tape.gradient(value, [a, b])
    np.testing.assert_allclose(grad_a.numpy(), 2 * (a.numpy() - b.numpy()))
    np.testing.assert_allclose(grad_b.numpy(), -grad_a.numpy())


def test_soft_sharing_config_and_bad_inputs():
    penalty = keras.regularizers.deserialize(keras.regularizers.serialize(SoftSharing(0.2, squared=False)))
    assert isinstance(penalty, SoftSharing) and penalty.get_config() == {"factor": 0.2, "squared": False}
    assert float(SoftSharing(0.0)([np.ones(3), np.zeros(3)])) == 0.0
    with pytest.raises(ValueError, match="Received: factor=-0.1"):
        SoftSharing(-0.1)
    with pytest.raises(ValueError, match="list of T >= 2"):
        SoftSharing(1.0)([np.ones(3)])
    with pytest.raises(ValueError, match="one shape"):
        SoftSharing(1.0)([np.ones(3), np.ones(4)])
