"""Experts and gates: the expert bank of OMoE and MMoE, computed as one batched operation.

Taught in notebook 07 (learning what to share). Ma et al., *Modeling Task Relationships in
Multi-task Learning with Multi-gate Mixture-of-Experts* (KDD 2018)::

    f_i(x)   = act(x W_i + b_i)                       # expert i = 1..n, W_i of shape (d, u)
    g^k(x)   = softmax(x W_gk)                        # one gate per task k (MMoE), one for all (OMoE)
    f^k(x)   = sum_i g^k_i(x) f_i(x)                  # the input of tower k

:class:`Experts` holds the n kernels as one ``(n, d, u)`` weight and computes all experts with one
matmul. Two details public implementations get wrong, both handled here:

- **One seed per expert.** A seeded Keras initializer returns the same values on every call, so
  experts (and gates, towers) built from one seeded initializer start identical and stay alike.
  :func:`stacked_initializer` gives slice ``i`` its own seed ``seed + i``.
- **The fan-in of a stacked kernel.** Keras computes the fans of a kernel of rank > 2 like a
  convolution's (``fan_in = shape[-2] * prod(shape[:-2])``), so a ``(n, d, u)`` kernel initialised
  in one call gets ``fan_in = n d``, and a ``(d, u, n)`` one ``fan_in = u d``: the initial scale is
  too small. :func:`stacked_initializer` initialises every ``(d, u)`` slice on its own.

``expert_dropout`` answers the gate polarisation the YouTube case study reports (about a 20 %
chance, in distributed training, that a gate puts all its weight on one expert): while training,
each expert is dropped from every gate's softmax with probability ``expert_dropout`` (per
example), and the remaining weights renormalise.
"""

import keras
import numpy as np  # noqa: F401 (the examples use it)
from keras import ops

__all__ = ["Experts", "Gates", "MixtureOfExperts", "gate_softmax", "stacked_initializer", "stacked_matmul"]


def stacked_initializer(initializer, count, seed):
    """A callable ``(shape, dtype) -> tensor`` that initialises ``count`` slices, each on its own.

    ``shape[0]`` must be ``count``; slice ``i`` comes from ``initializer`` re-seeded with
    ``seed + i`` (unseeded when ``seed`` is ``None``) on ``shape[1:]``, so its fans are those of
    one ``(d, u)`` kernel and no two slices repeat each other's values.
    """
    config = keras.initializers.serialize(keras.initializers.get(initializer))

    def initialize(shape, dtype=None):
        if shape[0] != count:
            raise ValueError(f"The first axis must have {count} slices. Received: shape={shape}")
        slices = []
        for i in range(count):
            one = dict(config, config=dict(config["config"]))
            if "seed" in one["config"]:
                one["config"]["seed"] = None if seed is None else seed + i
            slices.append(keras.initializers.deserialize(one)(tuple(shape[1:]), dtype=dtype))
        return ops.stack(slices, axis=0)

    return initialize


def stacked_matmul(inputs, kernel):
    """``(batch, d) x (m, d, u) -> (batch, m, u)``: every slice of a stacked kernel on the same inputs.

    ``y[b, i] = inputs[b] @ kernel[i]``, computed as one ``(batch, d) x (d, m u)`` matmul (the
    slices side by side: one ``Dense`` of width ``m u``), then a reshape. TensorFlow's einsums
    for it (``"bd,idu->biu"``, or ``"bkd,kdu->bku"`` on the inputs repeated once per slice) are
    slower on CPU, mostly in their gradients: with them CGC's and PLE's training steps took about
    twice as long (``bench/multitask_speed.py``).

    Example:

    >>> x, kernel = np.ones((2, 3), "float32"), np.arange(24, dtype="float32").reshape(4, 3, 2)
    >>> y = stacked_matmul(x, kernel)
    >>> tuple(y.shape), bool(np.allclose(y[:, 1], x @ kernel[1]))
    ((2, 4, 2), True)
    """
    m, d, u = kernel.shape
    wide = ops.reshape(ops.transpose(kernel, (1, 0, 2)), (d, m * u))
    return ops.reshape(ops.matmul(inputs, wide), (-1, m, u))


def _seed(seed):
    if seed is not None and (int(seed) != seed or seed < 0):
        raise ValueError(f"seed must be a non-negative integer or None. Received: seed={seed!r}")
    return None if seed is None else int(seed)


def _positive(**values):
    for name, value in values.items():
        if int(value) != value or value < 1:
            raise ValueError(f"{name} must be a positive integer. Received: {name}={value!r}")


def _rate(expert_dropout):
    if not 0 <= expert_dropout < 1:
        raise ValueError(f"expert_dropout must be in [0, 1). Received: expert_dropout={expert_dropout!r}")
    return float(expert_dropout)


def gate_softmax(logits, rate=0.0, training=False, seed_generator=None):
    """``softmax`` over the last axis, with experts dropped at ``rate`` while training.

    A dropped expert's logit becomes ``-inf`` (its weight 0) and the others renormalise; an
    example whose every expert is dropped keeps them all.
    """
    if not training or rate == 0:
        return ops.softmax(logits, axis=-1)
    keep = keras.random.uniform(ops.shape(logits), seed=seed_generator) >= rate
    keep = ops.logical_or(keep, ops.logical_not(ops.any(keep, axis=-1, keepdims=True)))
    masked = ops.where(keep, logits, ops.full_like(logits, -1e4))
    return ops.softmax(masked, axis=-1)


@keras.saving.register_keras_serializable(package="course_lib")
class Experts(keras.layers.Layer):
    """A bank of ``n`` one-layer experts computed at once: ``f_i(x) = act(x W_i + b_i)``.

    ``y[b, i] = act(x[b] W_i + b_i)`` with the ``n`` kernels stacked in one ``(n, d, u)`` weight,
    computed as one ``(batch, d) x (d, n u)`` matmul; the same outputs as ``n`` separate ``Dense``
    layers (tested).
    Expert ``i`` starts from ``kernel_initializer`` seeded ``seed + i`` (see
    :func:`stacked_initializer`).

    Args:
        num_experts: ``n``.
        units: ``u``, the width of every expert.
        activation: of every expert. Default ``"relu"``.
        kernel_initializer: of every expert's ``(d, u)`` slice. Default ``"glorot_uniform"``.
        seed: expert ``i`` gets ``seed + i``. Default ``None`` (unseeded).

    Input shape:
        ``(batch, d)``.

    Output shape:
        ``(batch, n, u)``.

    Example:

    >>> experts = Experts(num_experts=3, units=4, seed=0)
    >>> tuple(experts(np.ones((2, 5))).shape)
    (2, 3, 4)
    """

    def __init__(self, num_experts, units, activation="relu", kernel_initializer="glorot_uniform", seed=None,
                 **kwargs):
        super().__init__(**kwargs)
        _positive(num_experts=num_experts, units=units)
        self.num_experts, self.units, self.seed = int(num_experts), int(units), _seed(seed)
        self.activation = keras.activations.get(activation)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, input_shape):
        if input_shape[-1] is None:
            raise ValueError(f"The last axis of the input must be known. Received: input_shape={input_shape}")
        init = stacked_initializer(self.kernel_initializer, self.num_experts, self.seed)
        self.kernel = self.add_weight(name="kernel", shape=(self.num_experts, input_shape[-1], self.units),
                                      initializer=init)
        self.bias = self.add_weight(name="bias", shape=(self.num_experts, self.units), initializer="zeros")

    def call(self, inputs):
        # bench/multitask_speed.py times it against a loop of n Dense layers.
        return self.activation(stacked_matmul(inputs, self.kernel) + self.bias)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.num_experts, self.units)

    def get_config(self):
        config = super().get_config()
        config.update({
            "num_experts": self.num_experts, "units": self.units, "seed": self.seed,
            "activation": keras.activations.serialize(self.activation),
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
        })
        return config


@keras.saving.register_keras_serializable(package="course_lib")
class Gates(keras.layers.Layer):
    """``K`` softmax gates over ``n`` experts: ``g^k(x) = softmax(x W_gk)``, as one ``(K, d, n)`` kernel.

    Gate ``k`` starts from ``kernel_initializer`` seeded ``seed + k``. No bias, as in the MMoE
    paper. ``expert_dropout`` drops experts from the softmax while training (see
    :func:`gate_softmax`).

    Args:
        num_gates: ``K`` (the number of tasks for MMoE, 1 for OMoE).
        num_experts: ``n``.
        expert_dropout: probability of dropping an expert while training. Default 0.
        kernel_initializer: default ``"glorot_uniform"``.
        seed: gate ``k`` gets ``seed + k``; the dropout draws from a generator seeded ``seed``.

    Input shape:
        ``(batch, d)``.

    Output shape:
        ``(batch, K, n)``, every row summing to 1.

    Example:

    >>> g = Gates(num_gates=2, num_experts=3, seed=0)(np.ones((4, 5)))
    >>> tuple(g.shape), np.allclose(np.sum(g, axis=-1), 1)
    ((4, 2, 3), True)
    """

    def __init__(self, num_gates, num_experts, expert_dropout=0.0, kernel_initializer="glorot_uniform", seed=None,
                 **kwargs):
        super().__init__(**kwargs)
        _positive(num_gates=num_gates, num_experts=num_experts)
        self.num_gates, self.num_experts, self.seed = int(num_gates), int(num_experts), _seed(seed)
        self.expert_dropout = _rate(expert_dropout)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.seed_generator = keras.random.SeedGenerator(self.seed)

    def build(self, input_shape):
        init = stacked_initializer(self.kernel_initializer, self.num_gates, self.seed)
        self.kernel = self.add_weight(name="kernel", shape=(self.num_gates, input_shape[-1], self.num_experts),
                                      initializer=init)

    def call(self, inputs, training=False):
        logits = stacked_matmul(inputs, self.kernel)
        return gate_softmax(logits, self.expert_dropout, training, self.seed_generator)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.num_gates, self.num_experts)

    def get_config(self):
        config = super().get_config()
        config.update({
            "num_gates": self.num_gates, "num_experts": self.num_experts, "seed": self.seed,
            "expert_dropout": self.expert_dropout,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
        })
        return config


@keras.saving.register_keras_serializable(package="course_lib")
class MixtureOfExperts(keras.layers.Layer):
    """MMoE (one gate per task) or OMoE (one gate for all): ``f^k(x) = sum_i g^k_i(x) f_i(x)``.

    ``num_gates = num_tasks`` is MMoE; ``num_gates = 1`` is OMoE, whose single mixture is
    repeated for every task, so both give one input per tower. The experts start from seeds
    ``seed .. seed + n - 1``, the gates from ``seed + n ..``.

    Args:
        num_tasks: ``K``, the number of towers fed.
        num_experts: ``n``.
        units: width of every expert.
        num_gates: ``K`` (MMoE, default ``None`` = ``num_tasks``) or 1 (OMoE).
        expert_dropout: see :class:`Gates`. Default 0.
        activation: of the experts. Default ``"relu"``.
        seed: default ``None``.

    Input shape:
        ``(batch, d)``.

    Output shape:
        ``(batch, K, units)``: row ``k`` is tower ``k``'s input. :meth:`gate_values` gives the
        gates ``(batch, num_gates, n)``.

    Example:

    >>> mmoe = MixtureOfExperts(num_tasks=2, num_experts=3, units=4, seed=0)
    >>> tuple(mmoe(np.ones((5, 6))).shape), tuple(mmoe.gate_values(np.ones((5, 6))).shape)
    ((5, 2, 4), (5, 2, 3))
    """

    def __init__(self, num_tasks, num_experts, units, num_gates=None, expert_dropout=0.0, activation="relu",
                 seed=None, **kwargs):
        super().__init__(**kwargs)
        _positive(num_tasks=num_tasks)
        num_gates = num_tasks if num_gates is None else num_gates
        if num_gates not in (1, num_tasks):
            raise ValueError(f"num_gates must be 1 (OMoE) or num_tasks={num_tasks} (MMoE). Received: num_gates={num_gates!r}")
        self.num_tasks, self.num_gates, self.seed = int(num_tasks), int(num_gates), _seed(seed)
        self.experts = Experts(num_experts, units, activation=activation, seed=seed, dtype=self.dtype_policy,
                               name="experts")
        self.gates = Gates(num_gates, num_experts, expert_dropout=expert_dropout,
                           seed=None if seed is None else self.seed + num_experts, dtype=self.dtype_policy,
                           name="gates")

    def build(self, input_shape):
        self.experts.build(input_shape)
        self.gates.build(input_shape)

    def gate_values(self, inputs, training=False):
        """The gates ``(batch, num_gates, n)`` for ``inputs``."""
        return self.gates(inputs, training=training)

    def call(self, inputs, training=False):
        mixed = ops.einsum("bkn,bnu->bku", self.gates(inputs, training=training), self.experts(inputs))
        if self.num_gates == 1:
            mixed = ops.repeat(mixed, self.num_tasks, axis=1)
        return mixed

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.num_tasks, self.experts.units)

    def get_config(self):
        config = super().get_config()
        config.update({
            "num_tasks": self.num_tasks, "num_experts": self.experts.num_experts, "units": self.experts.units,
            "num_gates": self.num_gates, "expert_dropout": self.gates.expert_dropout,
            "activation": keras.activations.serialize(self.experts.activation), "seed": self.seed,
        })
        return config
