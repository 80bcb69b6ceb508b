"""balancing: the min-norm solvers against brute force, and BalancedModel's steps against by-hand ones."""

import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from course_lib import balancing
from course_lib.balancing import BalancedModel, gram_matrix, min_norm_two, min_norm_weights

ROOT = Path(__file__).resolve().parents[1]


def brute_force_two(g1, g2, points=200_001):
    gammas = np.linspace(0, 1, points)
    norms = np.sum((gammas[:, None] * g1 + (1 - gammas[:, None]) * g2) ** 2, axis=1)
    return gammas[np.argmin(norms)]


def brute_force_simplex(G, points=301):
    # every alpha on a grid of the 3-simplex: the smallest ||alpha G||
    grid = np.linspace(0, 1, points)
    a, b = np.meshgrid(grid, grid)
    keep = a + b <= 1
    alphas = np.stack([a[keep], b[keep], 1 - a[keep] - b[keep]], axis=1)
    norms = np.sum((alphas @ G) ** 2, axis=1)
    return alphas[np.argmin(norms)], norms.min()


@pytest.mark.parametrize("seed", range(6))
def test_two_task_closed_form_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    g1, g2 = rng.normal(size=(2, 7))
    if seed == 4:
        g2 = 3 * g1  # same direction: the shorter one, gamma = 1
    if seed == 5:
        g2 = -g1 + 0.1 * g2  # opposed: an interior point near zero
    gamma = float(min_norm_two(g1, g2))
    np.testing.assert_allclose(gamma, brute_force_two(g1, g2), atol=1e-5)
    by_formula = np.clip((g2 - g1) @ g2 / np.sum((g1 - g2) ** 2), 0, 1)
    np.testing.assert_allclose(gamma, by_formula, rtol=1e-5)
    weights = ops.convert_to_numpy(min_norm_weights(np.array([[g1 @ g1, g1 @ g2], [g1 @ g2, g2 @ g2]])))
    np.testing.assert_allclose(weights, [gamma, 1 - gamma], atol=1e-6)


def test_equal_gradients_give_the_midpoint():
    g = np.array([1.0, 2.0])
    assert float(min_norm_two(g, g)) == 0.5


def solve(gram, steps):
    return tf.function(lambda m: min_norm_weights(m, steps=steps), jit_compile=True)(gram.astype("float32"))


@pytest.mark.parametrize("seed", range(4))
def test_frank_wolfe_matches_brute_force_over_three_tasks(seed):
    G = np.random.default_rng(seed).normal(size=(3, 5))
    if seed == 3:
        G[2] = -(G[0] + G[1]) / 2  # zero is in the hull: Pareto-stationary
    alpha = ops.convert_to_numpy(solve(G @ G.T, 2000))
    best_alpha, best_norm = brute_force_simplex(G)
    assert np.all(alpha >= 0) and abs(alpha.sum() - 1) < 1e-5
    assert np.sum((alpha @ G) ** 2) <= best_norm + 1e-4
    np.testing.assert_allclose(alpha, best_alpha, atol=0.02)


def test_frank_wolfe_stops_after_its_steps_and_compiles_under_xla():
    G = np.random.default_rng(0).normal(size=(4, 6)).astype("float32")
    gram = G @ G.T
    compiled = tf.function(lambda m: min_norm_weights(m, steps=30), jit_compile=True)
    np.testing.assert_allclose(compiled(gram), min_norm_weights(gram, steps=30), atol=1e-5)
    with pytest.raises(ValueError, match="steps"):
        min_norm_weights(gram, steps=0)



def pair_by_pair_start(gram):
    """Frank-Wolfe's start as the pairs one by one (NumPy float32): the first pair ``i < j`` (in row
    order) whose two-task min-norm point has the smallest norm, and that point."""
    tasks, best = len(gram), None
    for i in range(tasks):
        for j in range(i + 1, tasks):
            gamma = ops.convert_to_numpy(balancing._segment(gram[i, i], gram[i, j], gram[j, j]))
            norm = gamma ** 2 * gram[i, i] + 2 * gamma * (1 - gamma) * gram[i, j] + (1 - gamma) ** 2 * gram[j, j]
            if best is None or norm < best[0]:
                best = (norm, np.eye(tasks, dtype="float32")[i] * gamma + np.eye(tasks, dtype="float32")[j] * (1 - gamma))
    return best[1]


@pytest.mark.parametrize("case", ["random", "repeated", "all_equal", "zero", "integer"])
@pytest.mark.parametrize("tasks", [3, 25])
def test_frank_wolfe_starts_at_the_best_pair_taken_one_by_one(case, tasks):
    # every pair at once (a small graph for 25 tasks) gives the start of the pairs one by one, ties included
    G = np.random.default_rng(tasks).normal(size=(tasks, 7)).astype("float32")
    G = {"repeated": np.vstack([G[:1], G[:-1]]), "all_equal": np.repeat(G[:1], tasks, axis=0),
         "zero": np.vstack([G[:2], np.zeros_like(G[:1]), G[3:]]), "integer": np.round(G)}.get(case, G)
    gram = (G @ G.T).astype("float32")
    expected = pair_by_pair_start(gram)
    np.testing.assert_allclose(ops.convert_to_numpy(balancing._best_pair(gram, tasks)), expected, rtol=1e-6, atol=1e-7)
    compiled = tf.function(lambda m: balancing._best_pair(m, tasks), jit_compile=True)
    np.testing.assert_allclose(compiled(gram), expected, rtol=1e-6, atol=1e-7)

@pytest.mark.parametrize("tasks", [2, 3, 5])
def test_minus_the_min_norm_point_decreases_every_task_to_first_order(tasks):
    G = np.random.default_rng(tasks).normal(size=(tasks, 8))
    alpha = ops.convert_to_numpy(solve(G @ G.T, 500)).astype("float64")
    w = alpha @ G
    # optimality of the min-norm point: g_t . w >= ||w||^2 for every t, so d = -w is a descent direction
    # (Frank-Wolfe is approximate after a bounded number of steps: within 2 %)
    assert np.all(G @ w >= 0.98 * np.sum(w ** 2))


def test_gram_matrix_of_lists_with_missing_parts():
    a = [np.array([1.0, 2.0]), None]
    b = [np.array([3.0, 0.0]), np.array([1.0])]
    np.testing.assert_allclose(gram_matrix([a, b]), [[5.0, 3.0], [3.0, 10.0]])


# ---- BalancedModel ----

def two_head_net(seed=0):
    inputs = keras.Input((4,), name="x")
    z = keras.layers.Dense(3, activation="tanh", name="trunk", kernel_initializer=keras.initializers.GlorotUniform(seed))(inputs)
    heads = {name: keras.layers.Dense(1, name=name, kernel_initializer=keras.initializers.GlorotUniform(seed + 1 + i))(z)
             for i, name in enumerate(("a", "b"))}
    return keras.Model(inputs, heads)


def batch(n=8, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype("float32")
    return x, {"a": rng.normal(size=(n, 1)).astype("float32"), "b": rng.normal(size=(n, 1)).astype("float32")}


LOSSES = {"a": "MeanSquaredError", "b": "MeanSquaredError"}


def by_hand_step(net, x, y, weighting, lr=0.1):
    """One SGD step of the network, computed with plain tapes (no BalancedModel)."""
    variables = net.trainable_weights
    with tf.GradientTape(persistent=True) as tape:
        out = net(x)
        z = keras.Model(net.input, net.get_layer("trunk").output)(x)
        losses = [ops.mean((out[k] - y[k]) ** 2) for k in ("a", "b")]
    grads = [tape.gradient(loss, variables) for loss in losses]
    if weighting == "mgda":
        shared = [g for g, v in zip(zip(*grads), variables) if v.path.startswith("trunk")]
        g1 = np.concatenate([np.ravel(g[0]) for g in shared])
        g2 = np.concatenate([np.ravel(g[1]) for g in shared])
    else:  # mgda_ub: the gradients with respect to the trunk's output, on the same weights
        with tf.GradientTape(persistent=True) as tape2:
            z = tf.convert_to_tensor(z)
            tape2.watch(z)
            heads = {k: net.get_layer(k)(z) for k in ("a", "b")}
            zl = [ops.mean((heads[k] - y[k]) ** 2) for k in ("a", "b")]
        g1, g2 = (np.ravel(tape2.gradient(loss, z)) for loss in zl)
    gamma = brute_force_two(g1, g2)
    for v, ga, gb in zip(variables, *grads):
        if v.path.startswith("trunk"):  # shared: the min-norm combination
            total = gamma * np.asarray(ga) + (1 - gamma) * np.asarray(gb)
        else:  # a head: its own task's gradient, unweighted (Sener & Koltun's Algorithm 2)
            total = np.asarray(ga if ga is not None else gb)
        v.assign(v - lr * total)
    return gamma


@pytest.mark.parametrize("weighting", ["mgda", "mgda_ub"])
@pytest.mark.parametrize("jit", [False, True])
def test_an_mgda_step_is_the_by_hand_step(weighting, jit):
    x, y = batch()
    net, reference = two_head_net(), two_head_net()
    model = BalancedModel(net, LOSSES, weighting=weighting, shared="trunk")
    model.compile(optimizer=keras.optimizers.SGD(0.1), jit_compile=jit)
    logs = model.train_on_batch(x, y, return_dict=True)
    gamma = by_hand_step(reference, x, y, weighting)
    for got, want in zip(net.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose([logs["a_weight"], logs["b_weight"]], [gamma, 1 - gamma], atol=1e-4)


@pytest.mark.parametrize("weighting", ["fixed", "uncertainty"])
def test_fixed_and_uncertainty_steps_are_the_weighted_sum(weighting):
    x, y = batch()
    net, reference = two_head_net(), two_head_net()
    kinds = {"a": "regression", "b": "classification"}
    model = BalancedModel(net, LOSSES, weighting=weighting, task_weights={"a": 0.3, "b": 0.7} if weighting == "fixed" else None,
                          kinds=kinds, initial_log_variance=[0.5, -0.5])
    model.compile(optimizer=keras.optimizers.SGD(0.1))
    model.train_on_batch(x, y)
    weights = (0.3, 0.7) if weighting == "fixed" else (0.5 * np.exp(-0.5), np.exp(0.5))
    with tf.GradientTape() as tape:
        out = reference(x)
        total = sum(w * ops.mean((out[k] - y[k]) ** 2) for w, k in zip(weights, "ab"))
    for v, g in zip(reference.trainable_weights, tape.gradient(total, reference.trainable_weights)):
        v.assign(v - 0.1 * g)
    for got, want in zip(net.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    if weighting == "uncertainty":  # d/ds [c e^-s L + s/2] = -c e^-s L + 1/2
        L = [float(ops.mean((two_head_net()(x)[k] - y[k]) ** 2)) for k in "ab"]
        expected = np.array([0.5, -0.5]) - 0.1 * (0.5 - np.array(weights) * L)
        np.testing.assert_allclose(model.uncertainty.log_variance.numpy(), expected, rtol=1e-5)


def test_fit_history_and_evaluate():
    x, y = batch(32)
    model = BalancedModel(two_head_net(), LOSSES, weighting="mgda")
    model.compile(optimizer="adam", metrics={"a": ["mae"]})
    history = model.fit(x, y, batch_size=8, epochs=2, verbose=0, validation_data=(x, y))
    assert {"loss", "a_loss", "b_loss", "a_weight", "b_weight", "a_mae", "val_loss", "val_a_loss"} <= set(history.history)
    np.testing.assert_allclose(np.add(history.history["a_weight"], history.history["b_weight"]), 1, atol=1e-5)
    result = model.evaluate(x, y, verbose=0, return_dict=True)
    np.testing.assert_allclose(result["loss"], result["a_loss"] + result["b_loss"], rtol=1e-5)


def test_three_tasks_use_frank_wolfe():
    inputs = keras.Input((4,))
    z = keras.layers.Dense(3, name="trunk")(inputs)
    net = keras.Model(inputs, {k: keras.layers.Dense(1, name=k)(z) for k in "abc"})
    x, y = batch()
    y["c"] = -y["a"]
    model = BalancedModel(net, {k: "MeanSquaredError" for k in "abc"}, weighting="mgda_ub", shared="trunk")
    model.compile(optimizer="sgd", jit_compile=True)
    logs = model.train_on_batch(x, y, return_dict=True)
    weights = [logs[f"{k}_weight"] for k in "abc"]
    assert min(weights) >= 0 and abs(sum(weights) - 1) < 1e-5


def test_save_and_load(tmp_path):
    model = BalancedModel(two_head_net(), LOSSES, weighting="uncertainty", kinds={"a": "regression", "b": "regression"})
    model.compile(optimizer="adam")
    x, y = batch()
    model.fit(x, y, epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    for k in "ab":
        np.testing.assert_allclose(loaded.predict(x, verbose=0)[k], model.predict(x, verbose=0)[k], rtol=1e-6)
    np.testing.assert_allclose(loaded.uncertainty.sigma(), model.uncertainty.sigma(), rtol=1e-6)
    assert loaded.weighting == "uncertainty" and loaded.kinds == model.kinds


@pytest.mark.parametrize("arguments, message", [
    ({"weighting": "gradnorm"}, "weighting"),
    ({"losses": {"c": "MeanSquaredError"}}, "losses"),
    ({"losses": {"a": "mse"}}, "keras.losses.Loss"),
    ({"weighting": "uncertainty", "kinds": {"a": "regression"}}, "kinds"),
    ({"weighting": "mgda_ub", "shared": "nope"}, "shared"),
    ({"task_weights": {"c": 1.0}}, "task_weights"),
])
def test_bad_arguments_are_named(arguments, message):
    arguments = {"losses": LOSSES, **arguments}
    with pytest.raises(ValueError, match=message):
        BalancedModel(two_head_net(), **arguments)


DISTRIBUTED = """
import json, sys
import numpy as np, tensorflow as tf
tf.config.set_logical_device_configuration(tf.config.list_physical_devices("CPU")[0],
    [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()])
import keras
from course_lib.balancing import BalancedModel
from tests.test_balancing import LOSSES, batch, two_head_net

def run(weighting, strategy):
    with strategy.scope():
        model = BalancedModel(two_head_net(), LOSSES, weighting=weighting, shared="trunk",
                              kinds={"a": "regression", "b": "classification"})
        model.compile(optimizer=keras.optimizers.SGD(0.1))
    x, y = batch(16)
    logs = model.fit(x, y, batch_size=16, epochs=3, verbose=0, shuffle=False).history
    return [w.tolist() for w in model.get_weights()], {k: v[-1] for k, v in logs.items()}

mirrored = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
out = {}
for weighting in ("uncertainty", "mgda", "mgda_ub"):
    out[weighting] = [run(weighting, tf.distribute.get_strategy()), run(weighting, mirrored)]
print(json.dumps(out))
"""


def test_two_replicas_train_as_one_device():
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, "-c", DISTRIBUTED], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(done.stdout.strip().splitlines()[-1])
    for weighting, ((one_weights, one_logs), (two_weights, two_logs)) in results.items():
        for a, b in zip(one_weights, two_weights):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6, err_msg=weighting)
        for key, value in one_logs.items():
            np.testing.assert_allclose(two_logs[key], value, rtol=1e-4, err_msg=f"{weighting} {key}")


def test_module_docstring_names_the_notebook():
    assert "notebook 06" in balancing.__doc__
