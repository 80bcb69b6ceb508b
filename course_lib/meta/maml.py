"""MAML (Finn et al. 2017), optimisation-based meta-learning, on the paper's sinusoid regression.

Taught in notebook 08. The adapted parameters of task i are one (or a few) gradient steps from a
shared initialisation theta, and theta is trained through those steps::

    phi_i  = theta - alpha * grad_theta L(theta, D_i^tr)                     (inner step, alpha = 0.01)
    theta <- theta - beta * grad_theta sum_i L(phi_i, D_i^ts)                (outer step, Adam)

The network is the paper's: 1 -> 40 -> 40 -> 1 with ReLU. Its weights are ordinary Keras weights,
but the forward pass takes them as arguments (``forward(params, x)``) so that the same code runs
with theta or with each task's phi_i. The meta-batch is adapted at once: theta is tiled to one copy
per task, and the gradient of the *sum* of the per-task losses with respect to the copies is each
task's own gradient. ``inner_steps=0`` gives phi_i = theta: plain multi-task pre-training on all
tasks, the paper's baseline.

Tasks (the paper's): y = A sin(x - b), A ~ U[0.1, 5], b ~ U[0, pi], x ~ U[-5, 5], K = 10 support
and K query points per task, mean squared error.
"""

import keras
import numpy as np
import tensorflow as tf
from keras import ops

AMPLITUDE, PHASE, X_RANGE = (0.1, 5.0), (0.0, np.pi), (-5.0, 5.0)


def sinusoid_tasks(num_tasks, num_support=10, num_query=10, seed=0):
    """``num_tasks`` sinusoid tasks: a dict of ``support_x``, ``support_y`` ``(T, K, 1)``,
    ``query_x``, ``query_y`` ``(T, Q, 1)`` (float32), ``amplitude`` and ``phase`` ``(T,)``."""
    rng = np.random.default_rng(seed)
    amplitude = rng.uniform(*AMPLITUDE, num_tasks)
    phase = rng.uniform(*PHASE, num_tasks)
    x = rng.uniform(*X_RANGE, (num_tasks, num_support + num_query, 1))
    y = amplitude[:, None, None] * np.sin(x - phase[:, None, None])
    f = lambda a: a.astype(np.float32)  # noqa: E731
    return {"support_x": f(x[:, :num_support]), "support_y": f(y[:, :num_support]),
            "query_x": f(x[:, num_support:]), "query_y": f(y[:, num_support:]),
            "amplitude": amplitude, "phase": phase}


def forward(params, x):
    """The regressor with explicit parameters: ``params`` = [W1, b1, W2, b2, W3, b3], each with a
    leading task axis (``(T, in, out)``, ``(T, out)``); ``x`` ``(T, M, 1)`` -> ``(T, M, 1)``."""
    h = x
    for layer in range(0, len(params), 2):
        h = ops.einsum("tmi,tio->tmo", h, params[layer]) + params[layer + 1][:, None, :]
        if layer < len(params) - 2:
            h = ops.relu(h)
    return h


def task_losses(params, x, y):
    """Mean squared error of each task, ``(T,)``."""
    return ops.mean(ops.square(forward(params, x) - y), axis=(1, 2))


@keras.saving.register_keras_serializable(package="course_lib")
class MAML(keras.Model):
    """A 1 -> 40 -> 40 -> 1 ReLU regressor meta-trained with MAML's inner step inside ``train_step``.

    Args:
        hidden_units: widths of the hidden layers. Default (40, 40) (the paper's).
        inner_steps: gradient steps of the adaptation during meta-training. Default 1; 0 trains the
            pre-trained baseline (phi_i = theta).
        inner_learning_rate: alpha. Default 0.01.
        first_order: drop the second derivatives (first-order MAML). Default False.
        seed: seeds the initialisers (each layer its own).

    Input shape:
        A dict ``{"support_x": (T, K, 1), "support_y": (T, K, 1), "query_x": (T, Q, 1)}``.

    Output shape:
        ``(T, Q, 1)``: predictions at the query points after ``inner_steps`` steps on the support.

    ``fit`` takes ``(inputs, query_y)`` pairs; ``loss`` is the query MSE after adaptation.

    Example:

    >>> model = MAML()
    >>> tasks = sinusoid_tasks(3)
    >>> model({k: tasks[k] for k in ("support_x", "support_y", "query_x")}).shape
    TensorShape([3, 10, 1])
    """

    def __init__(self, hidden_units=(40, 40), inner_steps=1, inner_learning_rate=0.01, first_order=False, seed=0,
                 **kwargs):
        super().__init__(**kwargs)
        if int(inner_steps) != inner_steps or inner_steps < 0:
            raise ValueError(f"inner_steps must be a non-negative integer. Received: inner_steps={inner_steps!r}")
        if not inner_learning_rate > 0:
            raise ValueError(f"inner_learning_rate must be positive. Received: inner_learning_rate={inner_learning_rate!r}")
        self.hidden_units, self.inner_steps = tuple(int(u) for u in hidden_units), int(inner_steps)
        self.inner_learning_rate, self.first_order, self.seed = float(inner_learning_rate), bool(first_order), seed
        widths = (1,) + self.hidden_units + (1,)
        self.params = []
        for i, (fan_in, fan_out) in enumerate(zip(widths[:-1], widths[1:])):
            self.params.append(self.add_weight(name=f"kernel_{i}", shape=(fan_in, fan_out),
                                               initializer=keras.initializers.GlorotUniform(seed=seed + i)))
            self.params.append(self.add_weight(name=f"bias_{i}", shape=(fan_out,), initializer="zeros"))
        self.loss_tracker = keras.metrics.Mean(name="loss")

    def adapt(self, support_x, support_y, steps=None, learning_rate=None):
        """phi_i for every task: ``steps`` gradient steps (default ``inner_steps``) from theta on the support."""
        steps = self.inner_steps if steps is None else steps
        alpha = self.inner_learning_rate if learning_rate is None else learning_rate
        tasks = ops.shape(support_x)[0]
        params = [ops.tile(ops.expand_dims(ops.convert_to_tensor(p), 0), (tasks,) + (1,) * len(p.shape))
                  for p in self.params]
        for _ in range(steps):
            with tf.GradientTape() as tape:
                tape.watch(params)
                loss = ops.sum(task_losses(params, support_x, support_y))  # sum: each copy gets its own gradient
            gradients = tape.gradient(loss, params)
            if self.first_order:
                gradients = [ops.stop_gradient(g) for g in gradients]
            params = [p - alpha * g for p, g in zip(params, gradients)]
        return params

    def call(self, inputs, training=False):
        params = self.adapt(inputs["support_x"], inputs["support_y"])
        return forward(params, inputs["query_x"])

    def train_step(self, data):
        inputs, query_y = data
        with tf.GradientTape() as tape:
            params = self.adapt(inputs["support_x"], inputs["support_y"])
            loss = ops.mean(task_losses(params, inputs["query_x"], query_y))
        self.optimizer.apply(tape.gradient(loss, self.trainable_weights), self.trainable_weights)
        self.loss_tracker.update_state(loss)
        return {"loss": self.loss_tracker.result()}

    def test_step(self, data):
        inputs, query_y = data
        self.loss_tracker.update_state(ops.mean(task_losses(self.adapt(inputs["support_x"], inputs["support_y"]),
                                                            inputs["query_x"], query_y)))
        return {"loss": self.loss_tracker.result()}

    @property
    def metrics(self):
        return [self.loss_tracker]

    def get_config(self):
        return {**super().get_config(), "hidden_units": self.hidden_units, "inner_steps": self.inner_steps,
                "inner_learning_rate": self.inner_learning_rate, "first_order": self.first_order, "seed": self.seed}


def task_dataset(tasks, batch_size):
    """``(inputs, query_y)`` batches of ``batch_size`` tasks (the meta-batch) from :func:`sinusoid_tasks`."""
    inputs = {k: tasks[k] for k in ("support_x", "support_y", "query_x")}
    return tf.data.Dataset.from_tensor_slices((inputs, tasks["query_y"])).batch(batch_size, drop_remainder=True)


def adapted_mse(model, tasks, steps=1, learning_rate=0.01):
    """Query MSE per task after ``steps`` gradient steps on each task's support, ``(T,)`` NumPy."""
    params = model.adapt(tasks["support_x"], tasks["support_y"], steps=steps, learning_rate=learning_rate)
    return ops.convert_to_numpy(task_losses(params, tasks["query_x"], tasks["query_y"]))
