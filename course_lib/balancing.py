"""Weighting the task losses of a multi-output model: fixed weights, uncertainty weighting, MGDA.

Taught in notebook 06. :class:`BalancedModel` wraps any Keras model whose outputs are a dict (every
model of :mod:`course_lib.models`) and trains it with ``fit`` on one loss per named output, the
losses combined in one of four ways::

    "fixed"        sum_t w_t L_t                               (the weights are chosen by hand)
    "uncertainty"  sum_t c_t exp(-s_t) L_t + s_t / 2           (Kendall et al. 2018; s_t learned,
                                                                layers.UncertaintyWeighting)
    "mgda"         alpha = argmin_{alpha in simplex} || sum_t alpha_t grad_shared L_t ||^2
                   the shared weights step along sum_t alpha_t grad L_t (Sener & Koltun 2018)
    "mgda_ub"      the same alpha from the gradients of L_t with respect to the shared
                   representation Z (one output of a named layer), not to the shared weights

The weights that only one task reaches (its head) get that task's own gradient, unweighted, as in
Sener & Koltun's Algorithm 2; ``alpha`` weighs the shared weights only. (Their reference code
scales the heads by ``alpha`` too, which leaves a task whose ``alpha`` is 0 with a head that never
trains.)

MGDA's alpha is the point of the convex hull of the task gradients closest to the origin. If it is
not zero, minus it is a direction that decreases every task's loss to first order; if it is zero
the weights are Pareto-stationary (the KKT conditions of the multi-objective problem). Two tasks
have a closed form (:func:`min_norm_two`); more tasks are solved by Frank-Wolfe with a fixed
number of steps (:func:`min_norm_weights`), which always stops and compiles under XLA (the
reference implementation's solver loops until a tolerance is met, which can take forever).
MGDA-UB needs one backward pass through the trunk instead of one per task: the gradients of the
tasks with respect to Z go through the heads only, and the weighted sum is then differentiated
once (``output_gradients``).

Under ``tf.distribute`` the weights are computed from the gradients of the global batch: MGDA
all-reduces the per-task gradients of the shared weights, MGDA-UB the Gram matrix (``Z``'s rows
are examples, so the Gram matrix of the whole batch is the sum of the replicas').
"""

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from course_lib.layers.uncertainty import UncertaintyWeighting

__all__ = ["WEIGHTINGS", "BalancedModel", "gram_matrix", "min_norm_two", "min_norm_weights"]

WEIGHTINGS = ("fixed", "uncertainty", "mgda", "mgda_ub")
SOLVER_STEPS = 50


def min_norm_two(g1, g2):
    """The ``gamma`` in [0, 1] minimising ``|| gamma g1 + (1 - gamma) g2 ||^2`` (two-task MGDA).

    .. math:: \\gamma = \\mathrm{clip}\\Big(\\frac{(g_2 - g_1)^\\top g_2}{\\|g_1 - g_2\\|^2}, 0, 1\\Big)

    Args:
        g1, g2: gradients of any (equal) shape; flattened.

    Returns:
        A float32 scalar tensor (``0.5`` when ``g1 == g2``, where every ``gamma`` is a minimiser).

    Example:

    >>> float(min_norm_two(np.array([1.0, 0.0]), np.array([0.0, 1.0])))  # the midpoint is closest
    0.5
    >>> float(min_norm_two(np.array([1.0, 0.0]), np.array([3.0, 0.0])))  # g1 itself
    1.0
    """
    g1 = ops.reshape(ops.cast(g1, "float32"), (-1,))
    g2 = ops.reshape(ops.cast(g2, "float32"), (-1,))
    return _segment(ops.sum(g1 * g1), ops.sum(g1 * g2), ops.sum(g2 * g2))


def _segment(uu, uv, vv):
    """The weight on ``u`` of the min-norm point of the segment ``[u, v]``, from the dot products."""
    denominator = uu - 2.0 * uv + vv
    safe = ops.where(denominator > 0, denominator, ops.ones_like(denominator))
    return ops.where(denominator > 0, ops.clip((vv - uv) / safe, 0.0, 1.0), 0.5 * ops.ones_like(denominator))


def min_norm_weights(gram, steps=SOLVER_STEPS):
    """``alpha`` in the simplex minimising ``alpha^T M alpha`` = ``|| sum_t alpha_t g_t ||^2``.

    ``M`` is the Gram matrix ``M_ij = g_i . g_j`` of the task gradients. Two tasks: the closed form
    of :func:`min_norm_two`. More: Frank-Wolfe from the best pair of tasks (the two-task solution of
smallest norm), ``steps`` times: the vertex
    ``e_t`` with the smallest ``(M alpha)_t`` (the direction of steepest descent of the quadratic),
    then an exact line search on the segment ``[alpha, e_t]`` (:func:`min_norm_two`'s formula on
    the dot products ``alpha^T M alpha``, ``(M alpha)_t`` and ``M_tt``). A fixed number of steps
    (a ``fori_loop``): no loop that waits for a tolerance.

    Args:
        gram: ``(T, T)`` symmetric positive semi-definite matrix, ``T`` known statically.
        steps: Frank-Wolfe steps for ``T > 2``. Default 50.

    Returns:
        ``(T,)`` float32 weights, non-negative, summing to 1.

    Example:

    >>> gram = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])  # three orthonormal gradients
    >>> [round(a, 3) for a in ops.convert_to_numpy(min_norm_weights(gram, steps=200)).tolist()]
    [0.333, 0.333, 0.333]
    """
    if int(steps) != steps or steps < 1:
        raise ValueError(f"steps must be a positive integer. Received: steps={steps!r}")
    gram = ops.cast(ops.convert_to_tensor(gram), "float32")
    tasks = gram.shape[0]
    if tasks is None or gram.shape != (tasks, tasks):
        raise ValueError(f"gram must be a square matrix of static shape (T, T). Received: shape={gram.shape}")
    if tasks == 1:
        return ops.ones((1,), "float32")
    if tasks == 2:
        gamma = _segment(gram[0, 0], gram[0, 1], gram[1, 1])
        return ops.stack([gamma, 1.0 - gamma])

    start = _best_pair(gram, tasks)

    def step(_, alpha):
        m_alpha = ops.matmul(gram, alpha)
        vertex = ops.one_hot(ops.argmin(m_alpha), tasks, dtype="float32")
        gamma = _segment(ops.sum(alpha * m_alpha), ops.sum(vertex * m_alpha), ops.sum(vertex * ops.matmul(gram, vertex)))
        return gamma * alpha + (1.0 - gamma) * vertex

    return ops.fori_loop(0, int(steps), step, start)


def _best_pair(gram, tasks):
    """The min-norm point of the best pair of tasks (the reference implementation's start, exact
    when alpha lies on an edge): every pair ``i < j`` at once, in row order, so that the graph
    stays small for 25 tasks (300 pairs)."""
    pairs = [(i, j) for i in range(tasks) for j in range(i + 1, tasks)]
    first, second = [i for i, _ in pairs], [j for _, j in pairs]
    diagonal = ops.diagonal(gram)
    uu, vv = ops.take(diagonal, first), ops.take(diagonal, second)
    uv = ops.take(ops.reshape(gram, (-1,)), [i * tasks + j for i, j in pairs])
    gamma = _segment(uu, uv, vv)
    norms = gamma ** 2 * uu + 2.0 * gamma * (1.0 - gamma) * uv + (1.0 - gamma) ** 2 * vv
    best = ops.argmin(norms)  # the first smallest, as over the pairs one by one
    weight = ops.take(gamma, best)
    return (weight * ops.one_hot(ops.take(ops.convert_to_tensor(first), best), tasks, dtype="float32")
            + (1.0 - weight) * ops.one_hot(ops.take(ops.convert_to_tensor(second), best), tasks, dtype="float32"))


def gram_matrix(gradients):
    """``M_ij = g_i . g_j`` (float32) of ``T`` gradients, each a tensor or a list of tensors (``None`` = 0)."""
    flat = []
    for gradient in gradients:
        parts = gradient if isinstance(gradient, (list, tuple)) else [gradient]
        flat.append(parts)
    tasks = len(flat)
    rows = [[ops.zeros((), "float32") for _ in range(tasks)] for _ in range(tasks)]
    for i in range(tasks):
        for j in range(i, tasks):
            value = ops.zeros((), "float32")
            for a, b in zip(flat[i], flat[j]):
                if a is not None and b is not None:
                    value = value + ops.sum(ops.cast(a, "float32") * ops.cast(b, "float32"))
            rows[i][j] = rows[j][i] = value
    return ops.stack([ops.stack(row) for row in rows])


def _replicas():
    return tf.distribute.get_strategy().num_replicas_in_sync


def _all_reduce(values):
    """Sum ``values`` over the replicas of the current ``tf.distribute`` strategy (identity on one)."""
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return values
    return context.all_reduce(tf.distribute.ReduceOp.SUM, values)


@keras.saving.register_keras_serializable(package="course_lib")
class BalancedModel(keras.Model):
    """A multi-output model trained on a weighted sum of its task losses, the weights fixed or found.

    Args:
        network: a Keras model whose outputs are a dict; the tasks are the keys of ``losses``
            (other outputs, such as ``labels``, are predicted but not trained on directly).
        losses: ``{output name: Keras loss}``: a ``keras.losses.Loss`` or its class name
            (``"MeanSquaredError"``); each gives the batch mean of its output's loss.
        weighting: ``"fixed"`` (default), ``"uncertainty"``, ``"mgda"`` or ``"mgda_ub"``.
        task_weights: ``{output name: w_t}`` for ``"fixed"`` (default 1 each).
        kinds: ``{output name: "regression" or "classification"}`` for ``"uncertainty"``.
        regularizer, initial_log_variance: of the :class:`~course_lib.layers.UncertaintyWeighting`
            (``"log"`` or ``"positive"``; ``s`` at the start, default 0).
        shared: for ``"mgda_ub"``, the name of the layer of ``network`` whose output is the shared
            representation ``Z`` (every task's output must depend on ``Z``).
        solver_steps: Frank-Wolfe steps when there are more than two tasks. Default 50.

    ``fit(x, y)`` takes ``y`` as a dict ``{output name: target}`` holding every task. The history has
    ``loss`` (the weighted total; for MGDA ``sum_t alpha_t L_t``), ``<task>_loss`` and
    ``<task>_weight`` (``w_t``, ``c_t exp(-s_t)`` or ``alpha_t``, averaged over the epoch's steps),
    and the compiled metrics. Works with ``jit_compile=True`` and under ``tf.distribute``.

    Example:

    >>> inputs = keras.Input((3,))
    >>> z = keras.layers.Dense(4, name="trunk")(inputs)
    >>> net = keras.Model(inputs, {"a": keras.layers.Dense(1, name="a")(z), "b": keras.layers.Dense(1, name="b")(z)})
    >>> model = BalancedModel(net, {"a": "MeanSquaredError", "b": "MeanSquaredError"}, weighting="mgda_ub", shared="trunk")
    >>> model.compile(optimizer="sgd")
    >>> x = np.ones((8, 3), "float32")
    >>> history = model.fit(x, {"a": np.ones((8, 1)), "b": -np.ones((8, 1))}, epochs=1, verbose=0)
    >>> sorted(history.history)
    ['a_loss', 'a_weight', 'b_loss', 'b_weight', 'loss']
    """

    def __init__(self, network, losses, weighting="fixed", task_weights=None, kinds=None, regularizer="log",
                 initial_log_variance=0.0, shared=None, solver_steps=SOLVER_STEPS, **kwargs):
        super().__init__(**kwargs)
        if weighting not in WEIGHTINGS:
            raise ValueError(f"weighting must be one of {', '.join(WEIGHTINGS)}. Received: weighting={weighting!r}")
        outputs = _output_names(network)
        if not losses or any(name not in outputs for name in losses):
            raise ValueError(f"losses must name outputs of the network ({', '.join(outputs)}). Received: "
                             f"losses={sorted(losses or {})}")
        self.network, self.weighting, self.tasks = network, weighting, list(losses)
        self.task_losses = {name: _loss(loss) for name, loss in losses.items()}
        self.task_weights = {name: float((task_weights or {}).get(name, 1.0)) for name in self.tasks}
        self.kinds, self.shared, self.solver_steps = dict(kinds or {}), shared, int(solver_steps)
        self.regularizer, self.initial_log_variance = regularizer, initial_log_variance
        if task_weights and set(task_weights) - set(self.tasks):
            raise ValueError(f"task_weights must name tasks ({', '.join(self.tasks)}). Received: {sorted(task_weights)}")
        self.uncertainty = None
        if weighting == "uncertainty":
            if set(self.kinds) != set(self.tasks):
                raise ValueError(f"kinds must give one kind per task ({', '.join(self.tasks)}). Received: kinds={kinds!r}")
            self.uncertainty = UncertaintyWeighting([self.kinds[name] for name in self.tasks], regularizer=regularizer,
                                                    initial_log_variance=initial_log_variance, name="uncertainty")
            self.uncertainty.build((len(self.tasks),))
        self._with_shared = None
        if weighting == "mgda_ub":
            names = [layer.name for layer in network.layers]
            if shared not in names:
                raise ValueError(f"shared must name a layer of the network. Received: shared={shared!r}")
            self._with_shared = keras.Model(network.input, [network.output, network.get_layer(shared).output])
            self._trunk_weights = keras.Model(network.input, network.get_layer(shared).output).trainable_weights
        self.task_trackers = [keras.metrics.Mean(name=f"{name}_loss") for name in self.tasks]
        self.weight_trackers = [keras.metrics.Mean(name=f"{name}_weight") for name in self.tasks]

    def call(self, inputs, training=False):
        return self.network(inputs, training=training)

    @property
    def output(self):
        """The network's symbolic outputs (a dict): what ``train`` reads to match outputs and tasks."""
        return self.network.output

    def _task_values(self, y, y_pred):
        """The task losses, a list of float32 scalars, each divided by the replicas (as Keras does).

        A list, not a stacked tensor: the gradient of one task's loss must not reach (as zeros)
        the weights that only the other tasks use, or every weight would look shared.
        """
        return [ops.cast(self.task_losses[name](y[name], y_pred[name]), "float32") for name in self.tasks]

    def _combine(self, losses):
        """The total and the weights of the task losses for ``"fixed"`` and ``"uncertainty"``."""
        if self.weighting == "fixed":
            weights = ops.convert_to_tensor([self.task_weights[name] for name in self.tasks], "float32")
            return ops.sum(weights * losses), weights
        # the regulariser is not a data term: divide it by the replicas as Keras divides the losses
        replicas = float(_replicas())
        total = self.uncertainty(losses * replicas) / replicas
        factors = ops.convert_to_tensor([0.5 if self.kinds[n] == "regression" else 1.0 for n in self.tasks], "float32")
        return total, factors * ops.exp(-ops.cast(self.uncertainty.log_variance, "float32"))

    def train_step(self, data):
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        variables = self.trainable_weights
        if self.weighting in ("fixed", "uncertainty"):
            with tf.GradientTape() as tape:
                y_pred = self(x, training=True)
                losses = ops.stack(self._task_values(y, y_pred))
                total, weights = self._combine(losses)
                scaled = self.optimizer.scale_loss(total)
            gradients = tape.gradient(scaled, variables)
        elif self.weighting == "mgda":
            gradients, y_pred, losses, weights = self._mgda_gradients(x, y, variables)
            total = ops.sum(weights * losses)
        else:
            gradients, y_pred, losses, weights = self._mgda_ub_gradients(x, y, variables)
            total = ops.sum(weights * losses)
        self.optimizer.apply_gradients(zip(gradients, variables))
        return self._track(x, y, y_pred, total, losses, weights)

    def _mgda_gradients(self, x, y, variables):
        with tf.GradientTape(persistent=True) as tape:
            y_pred = self(x, training=True)
            losses = self._task_values(y, y_pred)
            scaled = [self.optimizer.scale_loss(loss) for loss in losses]
        per_task = [tape.gradient(loss, variables) for loss in scaled]
        del tape
        # shared: the weights that two or more tasks' losses reach
        shared = [v for v in range(len(variables)) if sum(g[v] is not None for g in per_task) >= 2]
        global_gradients = _all_reduce([[g[v] for v in shared] for g in per_task])
        weights = ops.stop_gradient(min_norm_weights(gram_matrix(global_gradients), self.solver_steps))
        gradients = []
        for v in range(len(variables)):
            # shared weights: sum_t alpha_t g_t; a task's own weights: its own gradient (Algorithm 2)
            parts = [(weights[t] if v in shared else 1.0, g[v]) for t, g in enumerate(per_task) if g[v] is not None]
            terms = [w * ops.cast(g, "float32") for w, g in parts]
            gradients.append(None if not terms else ops.cast(sum(terms[1:], terms[0]), variables[v].dtype))
        return gradients, y_pred, ops.stack(losses), weights

    def _mgda_ub_gradients(self, x, y, variables):
        with tf.GradientTape(persistent=True) as tape:
            y_pred, z = self._with_shared(x, training=True)
            losses = self._task_values(y, y_pred)
            scaled = [self.optimizer.scale_loss(loss) for loss in losses]
        z_gradients = [tape.gradient(loss, z) for loss in scaled]
        weights = ops.stop_gradient(min_norm_weights(_all_reduce(gram_matrix(z_gradients)), self.solver_steps))
        # one backward pass through the trunk: the vector-Jacobian product with the weights; the
        # heads (everything after Z) get their own task's gradient, unweighted (Algorithm 2)
        trunk = {id(w) for w in self._trunk_weights}
        shared = [w for w in variables if id(w) in trunk]
        own = [w for w in variables if id(w) not in trunk]
        shared_gradients = tape.gradient(scaled, shared, output_gradients=[weights[t] * ops.ones_like(scaled[t])
                                                                             for t in range(len(self.tasks))])
        own_gradients = tape.gradient(scaled, own)
        del tape
        by_id = {id(w): g for w, g in zip(shared + own, list(shared_gradients) + list(own_gradients))}
        return [by_id[id(w)] for w in variables], y_pred, ops.stack(losses), weights

    def test_step(self, data):
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        y_pred = self(x, training=False)
        losses = ops.stack(self._task_values(y, y_pred))
        if self.weighting in ("fixed", "uncertainty"):
            total, weights = self._combine(losses)
        else:  # no gradients at test time: report the plain sum, weights 1
            weights = ops.ones((len(self.tasks),), "float32")
            total = ops.sum(losses)
        return self._track(x, y, y_pred, total, losses, weights)

    def _track(self, x, y, y_pred, total, losses, weights):
        replicas = float(_replicas())  # Keras divides each replica's loss by the replicas
        self._loss_tracker.update_state(total * replicas)
        for t in range(len(self.tasks)):
            self.task_trackers[t].update_state(losses[t] * replicas)
            self.weight_trackers[t].update_state(weights[t])
        return self.compute_metrics(x, y, y_pred)

    def get_config(self):
        return {**super().get_config(), "network": keras.saving.serialize_keras_object(self.network),
                "losses": {name: keras.losses.serialize(loss) for name, loss in self.task_losses.items()},
                "weighting": self.weighting, "task_weights": dict(self.task_weights), "kinds": dict(self.kinds),
                "regularizer": self.regularizer,
                "initial_log_variance": np.asarray(self.initial_log_variance, "float64").tolist(),
                "shared": self.shared, "solver_steps": self.solver_steps}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["network"] = keras.saving.deserialize_keras_object(config["network"])
        config["losses"] = {name: keras.losses.deserialize(loss) for name, loss in config["losses"].items()}
        return cls(**config)


def _loss(identifier):
    """A ``keras.losses.Loss`` (mean over the batch) from an instance or a class name."""
    loss = keras.losses.get(identifier)
    if not isinstance(loss, keras.losses.Loss):
        raise ValueError("each task loss must be a keras.losses.Loss or a class name such as 'MeanSquaredError' "
                         f"(a function gives per-example values). Received: {identifier!r}")
    return loss


def _output_names(network):
    outputs = network.output
    if not isinstance(outputs, dict):
        raise ValueError(f"the network's outputs must be a dict of named outputs. Received: {type(outputs).__name__}")
    return list(outputs)
