"""Tests for course_lib.optimizers: per-group steps under SGD and Adam, the gradient-scaling trap,
serialisation, XLA, mixed_float16 and tf.distribute."""

import doctest
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import numpy as np
import pytest

from course_lib import optimizers
from course_lib.optimizers import with_learning_rate_multipliers
from course_lib.precision import dtype_policy

ROOT = Path(__file__).resolve().parents[1]
MULTIPLIERS = {"head_fast": 10.0, "head_slow": 0.25}


def two_head_model():
    inputs = keras.Input((5,))
    shared = keras.layers.Dense(4, name="trunk", kernel_initializer=keras.initializers.GlorotNormal(1))(inputs)
    fast = keras.layers.Dense(2, name="head_fast", kernel_initializer=keras.initializers.GlorotNormal(2))(shared)
    slow = keras.layers.Dense(3, name="head_slow", kernel_initializer=keras.initializers.GlorotNormal(3))(shared)
    return keras.Model(inputs, {"fast": fast, "slow": slow})


def gradients(model, scale=None):
    """Gradients of a fixed loss, with the head_fast output optionally scaled by ``scale``."""
    import tensorflow as tf

    x = np.random.default_rng(0).normal(size=(8, 5)).astype("float32")
    with tf.GradientTape() as tape:
        out = model(x)
        fast = out["fast"] * (scale or 1.0)
        loss = tf.reduce_mean(tf.square(fast - 1.0)) + tf.reduce_mean(tf.square(out["slow"] + 1.0))
    return tape.gradient(loss, model.trainable_variables)


def one_step(optimizer, scale=None):
    """The change of each variable (by path) after one step of ``optimizer`` from the same start."""
    model = two_head_model()
    before = {v.path: v.numpy().copy() for v in model.trainable_variables}
    optimizer.apply(gradients(model, scale), model.trainable_variables)
    return {v.path: v.numpy() - before[v.path] for v in model.trainable_variables}


@pytest.mark.parametrize("make", [lambda: keras.optimizers.SGD(0.1, momentum=0.9), lambda: keras.optimizers.Adam(0.01)])
def test_one_step_moves_each_group_by_its_factor(make):
    plain = one_step(make())
    multiplied = one_step(with_learning_rate_multipliers(make(), MULTIPLIERS))
    assert len(plain) == 6
    for path, step in plain.items():
        factor = 10.0 if "head_fast" in path else 0.25 if "head_slow" in path else 1.0
        assert np.abs(step).max() > 0, path
        np.testing.assert_allclose(multiplied[path], factor * step, rtol=2e-5, atol=1e-8, err_msg=path)


def test_adam_first_step_is_learning_rate_times_factor_times_sign():
    steps = one_step(with_learning_rate_multipliers(keras.optimizers.Adam(0.01, epsilon=1e-12), MULTIPLIERS))
    np.testing.assert_allclose(np.abs(steps["head_fast/kernel"]), 0.1, rtol=1e-4)
    np.testing.assert_allclose(np.abs(steps["trunk/kernel"]), 0.01, rtol=1e-4)


def test_the_trap_scaling_a_heads_gradient_does_not_scale_its_adam_step():
    plain = one_step(keras.optimizers.Adam(0.01))
    scaled = one_step(keras.optimizers.Adam(0.01), scale=10.0)  # head_fast's gradient x 10 (and more)
    np.testing.assert_allclose(np.abs(scaled["head_fast/kernel"]), np.abs(plain["head_fast/kernel"]), rtol=1e-3)
    sgd_plain = one_step(keras.optimizers.SGD(0.1))
    sgd_scaled = one_step(keras.optimizers.SGD(0.1), scale=10.0)
    ratio = np.abs(sgd_scaled["head_fast/bias"]) / np.abs(sgd_plain["head_fast/bias"])
    assert ratio.min() > 9  # under SGD the same scaling does change the step


def test_first_matching_key_wins_and_unmatched_variables_keep_factor_one():
    optimizer = with_learning_rate_multipliers("sgd", {"head": 2.0, "head_fast": 5.0})
    assert optimizer.factor("head_fast/kernel") == 2.0
    assert optimizer.factor("trunk/kernel") == 1.0


@pytest.mark.parametrize("bad", [{"": 1.0}, {"head": 0.0}, {"head": -1}, {"head": "2"}, {3: 1.0}, [("head", 2.0)]])
def test_rejects_bad_multipliers(bad):
    with pytest.raises(ValueError, match="Received: multipliers"):
        with_learning_rate_multipliers(keras.optimizers.SGD(), bad)


def test_same_class_config_round_trip_and_rewrapping():
    optimizer = with_learning_rate_multipliers(keras.optimizers.Adam(0.003, beta_1=0.8), MULTIPLIERS)
    assert isinstance(optimizer, keras.optimizers.Adam)
    config = keras.optimizers.serialize(optimizer)
    assert config["registered_name"] == "course_lib>AdamWithLearningRateMultipliers"
    again = keras.optimizers.deserialize(config)
    assert type(again) is type(optimizer) and again.get_config() == optimizer.get_config()
    assert again.multipliers == MULTIPLIERS and again.beta_1 == pytest.approx(0.8)
    rewrapped = with_learning_rate_multipliers(again, {"trunk": 3.0})
    assert type(rewrapped) is type(optimizer) and rewrapped.multipliers == {"trunk": 3.0}


def test_loss_scale_optimizer_gets_its_inner_optimizer_wrapped():
    outer = keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(0.1), initial_scale=8.0)
    wrapped = with_learning_rate_multipliers(outer, MULTIPLIERS)
    assert isinstance(wrapped, keras.optimizers.LossScaleOptimizer)
    assert wrapped.inner_optimizer.multipliers == MULTIPLIERS


def test_saved_model_with_the_optimizer_loads_and_resumes(tmp_path):
    model = two_head_model()
    model.compile(optimizer=with_learning_rate_multipliers(keras.optimizers.Adam(0.01), MULTIPLIERS), loss="mse")
    x = np.random.default_rng(1).normal(size=(16, 5)).astype("float32")
    y = {"fast": np.ones((16, 2), "float32"), "slow": np.zeros((16, 3), "float32")}
    model.fit(x, y, epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    assert loaded.optimizer.multipliers == MULTIPLIERS
    assert loaded.optimizer.factor(loaded.get_layer("head_fast").kernel) == 10.0


def fit_factor(jit_compile=False, policy="float32"):
    """Each variable's one-step movement in a compiled fit, over plain SGD's."""
    def movement(multipliers):
        with dtype_policy(policy):
            keras.utils.set_random_seed(0)
            model = two_head_model()
            start = {v.path: v.numpy().copy() for v in model.trainable_variables}
            opt = with_learning_rate_multipliers(keras.optimizers.SGD(0.01), multipliers)
            model.compile(optimizer=opt, loss="mse", jit_compile=jit_compile)
            x = np.random.default_rng(2).normal(size=(8, 5)).astype("float32")
            y = {"fast": np.ones((8, 2), "float32"), "slow": np.zeros((8, 3), "float32")}
            model.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False)
            return model, {p: np.asarray(v.numpy(), "float32") - start[p] for p, v in
                           ((v.path, v) for v in model.trainable_variables)}
    _, plain = movement({})
    model, multiplied = movement(MULTIPLIERS)
    return model, {p: multiplied[p] / plain[p] for p in plain}


def test_compiled_fit_under_xla_scales_the_step():
    model, ratios = fit_factor(jit_compile=True)
    assert model.jit_compile
    np.testing.assert_allclose(ratios["head_fast/kernel"], 10.0, rtol=1e-3)
    np.testing.assert_allclose(ratios["trunk/kernel"], 1.0, rtol=1e-3)


def test_fit_under_mixed_float16_goes_through_the_loss_scale_optimizer():
    model, ratios = fit_factor(policy="mixed_float16")
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    np.testing.assert_allclose(ratios["head_slow/kernel"], 0.25, rtol=1e-3)
    np.testing.assert_allclose(ratios["head_fast/bias"], 10.0, rtol=1e-3)


def test_mirrored_strategy_on_two_cpu_devices_scales_each_replicas_update():
    script = textwrap.dedent("""
        import numpy as np, keras, tensorflow as tf
        from course_lib.project.distribute import use_cpu_devices
        use_cpu_devices(2)
        from course_lib.optimizers import with_learning_rate_multipliers
        from tests.test_optimizers import two_head_model, MULTIPLIERS
        def run(multipliers):
            with tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]).scope():
                keras.utils.set_random_seed(0)
                model = two_head_model()
                model.compile(optimizer=with_learning_rate_multipliers(keras.optimizers.SGD(0.01), multipliers), loss="mse")
            start = model.get_layer("head_fast").kernel.numpy().copy()
            x = np.random.default_rng(2).normal(size=(8, 5)).astype("float32")
            y = {"fast": np.ones((8, 2), "float32"), "slow": np.zeros((8, 3), "float32")}
            model.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False)
            return model.get_layer("head_fast").kernel.numpy() - start
        ratio = run(MULTIPLIERS) / run({})
        print("RATIO", float(ratio.min()), float(ratio.max()))
    """)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
               TF_CPP_MIN_LOG_LEVEL="3")
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    low, high = map(float, done.stdout.split("RATIO")[1].split())
    assert low == pytest.approx(10.0, rel=1e-3) and high == pytest.approx(10.0, rel=1e-3)


def test_docstring_example():
    assert doctest.testmod(optimizers, optionflags=doctest.ELLIPSIS).failed == 0
