"""Tests for course_lib.callbacks.ProximalCallback: exact zeros, one ISTA step, schedules, XLA, mixed
precision, serialisation."""

import doctest

import keras
import numpy as np
import pytest

from course_lib import callbacks, sparsity
from course_lib.precision import dtype_policy
from course_lib.callbacks import ProximalCallback
from course_lib.regularizers import GroupLasso
from tests.toy_models import small_model, tiny_regression


def test_gradient_descent_on_the_penalty_gives_no_exact_zeros_the_prox_does():
    X, y = tiny_regression()
    strength, lr, epochs = 0.15, 0.1, 30
    plain = small_model(regularizer=GroupLasso(strength))
    plain.compile(optimizer=keras.optimizers.SGD(lr), loss="mse")
    plain.fit(X, y, batch_size=16, epochs=epochs, verbose=0)
    keras.utils.set_random_seed(0)
    prox = small_model()
    prox.compile(optimizer=keras.optimizers.SGD(lr), loss="mse")
    prox.fit(X, y, batch_size=16, epochs=epochs, verbose=0, callbacks=[ProximalCallback("shared", strength)])
    plain_rows = np.linalg.norm(plain.get_layer("shared").kernel.numpy(), axis=1)
    prox_rows = np.linalg.norm(prox.get_layer("shared").kernel.numpy(), axis=1)
    assert np.all(plain_rows > 0)
    assert np.all(prox_rows[2:] == 0)  # the 6 uninformative inputs go exactly to zero
    assert np.all(prox_rows[:2] > 0)  # the two informative ones stay


def test_one_sgd_step_plus_callback_is_one_ista_step():
    import tensorflow as tf

    X, y = tiny_regression(n=16)
    model = small_model()
    lr, strength = 0.1, 0.3
    model.compile(optimizer=keras.optimizers.SGD(lr), loss="mse")
    kernel = model.get_layer("shared").kernel
    before = kernel.numpy().copy()
    with tf.GradientTape() as tape:
        loss = keras.losses.MeanSquaredError()(y, model(X))
    grad = tape.gradient(loss, kernel).numpy()
    model.fit(X, y, batch_size=16, epochs=1, verbose=0, shuffle=False,
              callbacks=[ProximalCallback(model.get_layer("shared"), strength)])
    expected = sparsity.block_soft_threshold(before - lr * grad, lr * strength)
    np.testing.assert_allclose(kernel.numpy(), expected, atol=1e-5)


def test_callback_reads_the_learning_rate_of_the_step_just_taken():
    X, y = tiny_regression(n=16)
    model = small_model()
    schedule = keras.optimizers.schedules.PiecewiseConstantDecay([0], [0.5, 0.01])  # step 0: 0.5, then 0.01
    model.compile(optimizer=keras.optimizers.SGD(schedule), loss="mse")
    seen = []

    class Spy(ProximalCallback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(self.step_learning_rate())
            super().on_train_batch_end(batch, logs)

    model.fit(X, y, batch_size=8, epochs=1, verbose=0, callbacks=[Spy("shared", 0.1)])
    assert seen == pytest.approx([0.5, 0.01])


def test_callback_l1_penalty_and_xla_and_mixed_precision():
    X, y = tiny_regression()
    with dtype_policy("mixed_float16"):
        model = small_model()
        model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse", jit_compile=True)
        assert model.jit_compile
        model.fit(X, y, batch_size=16, epochs=3, verbose=0,
                  callbacks=[ProximalCallback(["shared"], 0.5, penalty="l1")])
    kernel = model.get_layer("shared").kernel.numpy()
    assert np.all(np.isfinite(kernel)) and np.sum(kernel == 0) > kernel.size // 2


def test_callback_config_round_trip_and_validation():
    callback = ProximalCallback("shared", 1e-3, penalty="l1")
    config = callback.get_config()
    assert config == {"layers": ["shared"], "strength": 1e-3, "penalty": "l1"}
    assert ProximalCallback.from_config(config).get_config() == config
    assert keras.saving.get_registered_object("course_lib>ProximalCallback") is ProximalCallback
    with pytest.raises(ValueError, match="Received: strength"):
        ProximalCallback("shared", -1.0)
    with pytest.raises(ValueError, match="Received: penalty"):
        ProximalCallback("shared", 1.0, penalty="l2")
    with pytest.raises(ValueError, match="Received: layers"):
        ProximalCallback([3], 1.0)
    with pytest.raises(ValueError, match="Received: layers"):
        ProximalCallback([], 1.0)


def test_callback_serialises_through_keras():
    callback = ProximalCallback("shared", 0.2)
    again = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(callback))
    assert isinstance(again, ProximalCallback) and again.get_config() == callback.get_config()


def test_no_private_optimizer_attribute_and_adam_with_a_schedule():
    X, y = tiny_regression(n=32)
    model = small_model()
    schedule = keras.optimizers.schedules.ExponentialDecay(0.05, decay_steps=1, decay_rate=0.5)
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss="mse")
    seen = []

    class Spy(ProximalCallback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(self.step_learning_rate())
            super().on_train_batch_end(batch, logs)

    model.fit(X, y, batch_size=8, epochs=1, verbose=0, callbacks=[Spy("shared", 1.0)])
    assert seen == pytest.approx([0.05, 0.025, 0.0125, 0.00625])
    source = open(callbacks.__file__).read()
    assert "._learning_rate" not in source.replace("self._learning_rate", "")


def test_layer_without_kernel_is_rejected():
    X, y = tiny_regression(n=16)
    inputs = keras.Input((8,))
    model = keras.Model(inputs, keras.layers.Dense(1)(keras.layers.Dropout(0.1, name="drop")(inputs)))
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match="'drop' has no kernel"):
        model.fit(X, y, epochs=1, verbose=0, callbacks=[ProximalCallback("drop", 0.1)])


def test_docstring_examples():
    result = doctest.testmod(callbacks, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
