"""Customized gate control (CGC) and progressive layered extraction (PLE).

Taught in notebook 07. Tang et al., *Progressive Layered Extraction (PLE): A Novel Multi-Task
Learning (MTL) Model for Personalized Recommendations* (RecSys 2020). Each task ``k`` has its own
``m_k`` experts ``E_k``; ``m_s`` experts ``E_s`` are shared. The gate of task ``k`` sees only the
shared experts and task ``k``'s own::

    S_k(x)   = [E_k,1(x), ..., E_k,m_k(x), E_s,1(x), ..., E_s,m_s(x)]      # (m_k + m_s, u)
    g^k(x)   = softmax(x W_gk)                                             # (m_k + m_s,)
    y^k(x)   = g^k(x)^T S_k(x)                                             # the input of tower k

That is CGC, one :class:`ExtractionLevel` with ``shared_gate=False``. PLE stacks levels: in every
level but the last, a **shared gate** selects over *all* experts of the level (every task's and
the shared ones), ``y^s = softmax(x^s W_gs)^T [E_1, ..., E_K, E_s]``, and ``y^s`` is the input of
the next level's shared experts, while ``y^k`` feeds the next level's experts of task ``k``. The
last level has task gates only. Without the shared gate a stacked CGC is not PLE: the shared
experts of the upper levels would never see what the task experts learned.

All experts of a level are computed over stacked kernels: on the first level, whose tasks all read
``x``, each stacked kernel is one matmul (:func:`course_lib.layers.experts.stacked_matmul`); above
it, one batched ``einsum`` per kernel. Every expert and gate slice is initialised with its own
seed (see :func:`course_lib.layers.experts.stacked_initializer`).
"""

import keras
import numpy as np  # noqa: F401 (the examples use it)
from keras import ops

from course_lib.layers.experts import _positive, _rate, _seed, gate_softmax, stacked_initializer, stacked_matmul

__all__ = ["ExtractionLevel", "ProgressiveLayeredExtraction"]


def _level_size(num_tasks, task_experts, shared_experts, shared_gate):
    """How many seeded slices one level uses (experts, task gates, the shared gate)."""
    return num_tasks * task_experts + shared_experts + num_tasks + int(shared_gate)


@keras.saving.register_keras_serializable(package="course_lib")
class ExtractionLevel(keras.layers.Layer):
    """One CGC / PLE level: task and shared experts, a gate per task, optionally the shared gate.

    Seeds: task ``k``'s expert ``t`` gets ``seed + k T + t``, shared expert ``s`` gets
    ``seed + K T + s``, task gate ``k`` gets ``seed + K T + S + k``, the shared gate the next.

    Args:
        num_tasks: ``K``.
        task_experts: ``T = m_k``, experts per task.
        shared_experts: ``S = m_s``.
        units: width of every expert.
        shared_gate: ``True`` for a non-last PLE level (adds the shared gate and output), ``False``
            for the last level (and for CGC). Default ``False``.
        expert_dropout: drop experts from the gates' softmax while training. Default 0.
        activation: of the experts. Default ``"relu"``.
        seed: default ``None``.

    Input shape:
        ``(batch, d)`` (the first level: every task and the shared experts read it) or
        ``(batch, K + 1, d)`` (a previous level's output: row ``k`` for task ``k``, the last row
        for the shared experts).

    Output shape:
        ``(batch, K + 1, units)`` with the shared gate, ``(batch, K, units)`` without.

    Example:

    >>> cgc = ExtractionLevel(num_tasks=2, task_experts=1, shared_experts=2, units=4, seed=0)
    >>> tuple(cgc(np.ones((3, 5))).shape), tuple(cgc.gate_values(np.ones((3, 5)))[0].shape)
    ((3, 2, 4), (3, 2, 3))
    """

    def __init__(self, num_tasks, task_experts, shared_experts, units, shared_gate=False, expert_dropout=0.0,
                 activation="relu", seed=None, **kwargs):
        super().__init__(**kwargs)
        _positive(num_tasks=num_tasks, task_experts=task_experts, shared_experts=shared_experts, units=units)
        self.num_tasks, self.task_experts, self.shared_experts = int(num_tasks), int(task_experts), int(shared_experts)
        self.units, self.shared_gate, self.seed = int(units), bool(shared_gate), _seed(seed)
        self.expert_dropout = _rate(expert_dropout)
        self.activation = keras.activations.get(activation)
        self.seed_generator = keras.random.SeedGenerator(self.seed)

    def _offset(self, n):
        return None if self.seed is None else self.seed + n

    def build(self, input_shape):
        d = input_shape[-1]
        if d is None or (len(input_shape) == 3 and input_shape[1] != self.num_tasks + 1):
            raise ValueError(f"Expected (batch, d) or (batch, {self.num_tasks + 1}, d) with d known. "
                             f"Received: input_shape={input_shape}")
        K, T, S, u = self.num_tasks, self.task_experts, self.shared_experts, self.units
        init = lambda count, offset: stacked_initializer("glorot_uniform", count, self._offset(offset))  # noqa: E731
        self.task_kernel = self.add_weight(name="task_kernel", shape=(K * T, d, u), initializer=init(K * T, 0))
        self.task_bias = self.add_weight(name="task_bias", shape=(K, T, u), initializer="zeros")
        self.shared_kernel = self.add_weight(name="shared_kernel", shape=(S, d, u), initializer=init(S, K * T))
        self.shared_bias = self.add_weight(name="shared_bias", shape=(S, u), initializer="zeros")
        self.gate_kernel = self.add_weight(name="gate_kernel", shape=(K, d, T + S), initializer=init(K, K * T + S))
        self.shared_gate_kernel = None
        if self.shared_gate:
            self.shared_gate_kernel = self.add_weight(name="shared_gate_kernel", shape=(1, d, K * T + S),
                                                      initializer=init(1, K * T + S + K))

    def _forward(self, inputs, training):
        K, T, S, u = self.num_tasks, self.task_experts, self.shared_experts, self.units
        if len(inputs.shape) == 2:  # every task reads x: each stacked kernel is one matmul, no copy of x per task
            shared_in = inputs
            task_out = ops.reshape(stacked_matmul(inputs, self.task_kernel), (-1, K, T, u))
            logits = stacked_matmul(inputs, self.gate_kernel)
        else:
            task_in, shared_in = inputs[:, :K], inputs[:, K]
            task_out = ops.einsum("bkd,ktdu->bktu", task_in, ops.reshape(self.task_kernel, (K, T, -1, u)))
            logits = ops.einsum("bkd,kde->bke", task_in, self.gate_kernel)
        task_out = self.activation(task_out + self.task_bias)
        shared_out = self.activation(stacked_matmul(shared_in, self.shared_kernel) + self.shared_bias)
        gates = gate_softmax(logits, self.expert_dropout, training, self.seed_generator)  # (batch, K, T + S)
        # y^k = sum_t g^k_t E_k,t + sum_s g^k_T+s E_s: the shared experts are not copied once per task
        outputs = ops.sum(ops.expand_dims(gates[..., :T], -1) * task_out, axis=2) + ops.matmul(gates[..., T:], shared_out)
        if not self.shared_gate:
            return outputs, gates, None
        every = ops.concatenate([ops.reshape(task_out, (-1, K * T, u)), shared_out], axis=1)
        shared_gates = gate_softmax(ops.matmul(shared_in, self.shared_gate_kernel[0]), self.expert_dropout, training,
                                    self.seed_generator)
        shared = ops.sum(ops.expand_dims(shared_gates, -1) * every, axis=1)
        return ops.concatenate([outputs, ops.expand_dims(shared, 1)], axis=1), gates, shared_gates

    def call(self, inputs, training=False):
        return self._forward(inputs, training)[0]

    def gate_values(self, inputs, training=False):
        """``(task gates (batch, K, T + S), shared gate (batch, K T + S) or None)``."""
        if not self.built:
            self(inputs)
        return self._forward(ops.convert_to_tensor(inputs, self.compute_dtype), training)[1:]

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.num_tasks + int(self.shared_gate), self.units)

    def get_config(self):
        config = super().get_config()
        config.update({
            "num_tasks": self.num_tasks, "task_experts": self.task_experts, "shared_experts": self.shared_experts,
            "units": self.units, "shared_gate": self.shared_gate, "expert_dropout": self.expert_dropout,
            "activation": keras.activations.serialize(self.activation), "seed": self.seed,
        })
        return config


@keras.saving.register_keras_serializable(package="course_lib")
class ProgressiveLayeredExtraction(keras.layers.Layer):
    """PLE: ``num_levels`` extraction levels, a shared gate in every level but the last.

    Level ``l`` is an :class:`ExtractionLevel` seeded after every slice of the levels below it,
    so no two experts or gates of the whole stack start alike. ``num_levels=1`` is CGC.

    Args:
        num_tasks, task_experts, shared_experts, units, expert_dropout, activation: of every
            level, see :class:`ExtractionLevel`.
        num_levels: default 2.
        seed: default ``None``.

    Input shape:
        ``(batch, d)``.

    Output shape:
        ``(batch, K, units)``, row ``k`` the input of tower ``k``.

    Example:

    >>> ple = ProgressiveLayeredExtraction(num_tasks=2, task_experts=1, shared_experts=2, units=4, seed=0)
    >>> tuple(ple(np.ones((3, 5))).shape), [level.shared_gate for level in ple.levels]
    ((3, 2, 4), [True, False])
    """

    def __init__(self, num_tasks, task_experts, shared_experts, units, num_levels=2, expert_dropout=0.0,
                 activation="relu", seed=None, **kwargs):
        super().__init__(**kwargs)
        _positive(num_levels=num_levels)
        self.num_levels, self.seed = int(num_levels), _seed(seed)
        self.levels, offset = [], 0
        for level in range(self.num_levels):
            shared_gate = level < self.num_levels - 1
            self.levels.append(ExtractionLevel(
                num_tasks, task_experts, shared_experts, units, shared_gate=shared_gate,
                expert_dropout=expert_dropout, activation=activation,
                seed=None if seed is None else self.seed + offset, dtype=self.dtype_policy, name=f"level_{level}"))
            offset += _level_size(num_tasks, task_experts, shared_experts, shared_gate)

    def build(self, input_shape):
        shape = tuple(input_shape)
        for level in self.levels:
            level.build(shape)
            shape = level.compute_output_shape(shape)

    def call(self, inputs, training=False):
        for level in self.levels:
            inputs = level(inputs, training=training)
        return inputs

    def gate_values(self, inputs, training=False):
        """One ``(task gates, shared gate or None)`` pair per level."""
        if not self.built:
            self(inputs)
        values, x = [], ops.convert_to_tensor(inputs, self.compute_dtype)
        for level in self.levels:
            values.append(level.gate_values(x, training))
            x = level(x, training=training)
        return values

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.levels[0].num_tasks, self.levels[0].units)

    def get_config(self):
        first = self.levels[0]
        config = super().get_config()
        config.update({
            "num_tasks": first.num_tasks, "task_experts": first.task_experts, "shared_experts": first.shared_experts,
            "units": first.units, "num_levels": self.num_levels, "expert_dropout": first.expert_dropout,
            "activation": keras.activations.serialize(first.activation), "seed": self.seed,
        })
        return config
