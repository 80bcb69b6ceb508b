"""Conditioning a network on the task: the four schemes of the lecture as Keras layers.

Taught in notebook 04 (section 6). A task descriptor ``z_i`` (here a one-hot of the task index,
or any meta-data vector of ``m`` numbers) enters the model ``f_theta(y | x, z_i)``. Each layer
takes ``[x, z]`` with ``x`` of shape ``(batch, d)`` and ``z`` of shape ``(batch, m)``::

    concatenation    y = act([x, z] K + b)                       K in R^{(d+m) x u}
    additive         y = act(x W + z U + b)                      W in R^{d x u}, U in R^{m x u}
    multi-head       y = sum_k z_k act(x W_k + b_k)              one head (W_k, b_k) per task
    multiplicative   y = act(sum_k z_k (x W_k + b_k))            W(z) = sum_k z_k W_k: weights from z

Two facts the notebook proves and ``tests/layers/test_conditioning.py`` checks:

- Concatenation and additive conditioning are the same function: ``[x, z] K = x K[:d] + z K[d:]``,
  so ``W = K[:d]`` and ``U = K[d:]``. Everything is shared except a task-dependent bias ``z U``.
- Multiplicative conditioning with a one-hot ``z = e_i`` uses ``W_i, b_i`` only: stacked at every
  layer it is ``T`` independent networks (a task's loss has zero gradient on every other task's
  slice); at the last layer only, on a shared trunk, it is independent heads (multi-head). With
  other descriptors (a few features per task, soft mixtures) it interpolates between them.

(Multiplicative interactions in general: Jayakumar et al., "Multiplicative Interactions and Where
to Find Them", ICLR 2020; the four schemes: Stanford CS330, "Multi-task & meta-learning basics".)
"""

import keras
from keras import ops

__all__ = ["AdditiveConditioning", "ConcatenationConditioning", "MultiHeadConditioning",
           "MultiplicativeConditioning"]


class _Conditioning(keras.layers.Layer):
    """Shared arguments: ``units``, ``activation``, ``seed``; inputs ``[x, z]``."""

    def __init__(self, units, activation=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(units, bool) or int(units) != units or units < 1:
            raise ValueError(f"units must be a positive integer. Received: units={units!r}")
        if seed is not None and (isinstance(seed, bool) or int(seed) != seed or seed < 0):
            raise ValueError(f"seed must be a non-negative integer or None. Received: seed={seed!r}")
        self.units = int(units)
        self.activation = keras.activations.get(activation)
        self.seed = None if seed is None else int(seed)

    def _initializer(self, offset):
        return keras.initializers.GlorotUniform(None if self.seed is None else self.seed + offset)

    @staticmethod
    def _shapes(input_shape):
        if not isinstance(input_shape, (list, tuple)) or len(input_shape) != 2 or \
                not all(isinstance(s, (list, tuple)) for s in input_shape):
            raise ValueError(f"Conditioning layers take [x, z]. Received: input_shape={input_shape!r}")
        x_shape, z_shape = input_shape
        if x_shape[-1] is None or z_shape[-1] is None:
            raise ValueError(f"The last axes of x and z must be known. Received: input_shape={input_shape!r}")
        return int(x_shape[-1]), int(z_shape[-1])

    def _inputs(self, inputs):
        x, z = inputs
        return ops.cast(x, self.compute_dtype), ops.cast(z, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return (*input_shape[0][:-1], self.units)

    def get_config(self):
        return {**super().get_config(), "units": self.units,
                "activation": keras.activations.serialize(self.activation), "seed": self.seed}


@keras.saving.register_keras_serializable(package="course_lib")
class ConcatenationConditioning(_Conditioning):
    """Concatenate the task descriptor to the input: ``y = act([x, z] K + b)``.

    All parameters are shared except the rows of ``K`` that multiply ``z``. Equal to
    :class:`AdditiveConditioning` with ``W = K[:d]`` and ``U = K[d:]``.

    Args:
        units: output width ``u``.
        activation: applied to the result (default none: linear).
        seed: seeds the Glorot-uniform kernel (default ``None``: unseeded).
        **kwargs: base layer arguments (``name``, ``dtype``).

    Input shape:
        ``[x, z]``: ``(batch, d)`` and ``(batch, m)``.

    Output shape:
        ``(batch, units)``.

    Example:

    >>> import numpy as np
    >>> layer = ConcatenationConditioning(4, seed=0)
    >>> tuple(layer([np.ones((2, 3)), np.eye(2)]).shape), tuple(layer.kernel.shape)
    ((2, 4), (5, 4))
    """

    def build(self, input_shape):
        d, m = self._shapes(input_shape)
        self.kernel = self.add_weight(name="kernel", shape=(d + m, self.units), initializer=self._initializer(0))
        self.bias = self.add_weight(name="bias", shape=(self.units,), initializer="zeros")

    def call(self, inputs):
        x, z = self._inputs(inputs)
        return self.activation(ops.matmul(ops.concatenate([x, z], axis=-1), self.kernel) + self.bias)


@keras.saving.register_keras_serializable(package="course_lib")
class AdditiveConditioning(_Conditioning):
    """Add a task-dependent vector to a shared layer: ``y = act(x W + z U + b)``.

    With a one-hot ``z = e_i``, ``z U`` is row ``U_i``: a learned bias per task. Equal to
    :class:`ConcatenationConditioning` with ``K = [W; U]``.

    Args:
        units: output width ``u``.
        activation: applied to the result (default none: linear).
        seed: ``W`` is Glorot-uniform with ``seed``, ``U`` with ``seed + 1`` (default ``None``).
        **kwargs: base layer arguments (``name``, ``dtype``).

    Input shape:
        ``[x, z]``: ``(batch, d)`` and ``(batch, m)``.

    Output shape:
        ``(batch, units)``.

    Example:

    >>> import numpy as np
    >>> layer = AdditiveConditioning(4, seed=0)
    >>> tuple(layer([np.ones((2, 3)), np.eye(2)]).shape), tuple(layer.task_kernel.shape)
    ((2, 4), (2, 4))
    """

    def build(self, input_shape):
        d, m = self._shapes(input_shape)
        self.kernel = self.add_weight(name="kernel", shape=(d, self.units), initializer=self._initializer(0))
        self.task_kernel = self.add_weight(name="task_kernel", shape=(m, self.units), initializer=self._initializer(1))
        self.bias = self.add_weight(name="bias", shape=(self.units,), initializer="zeros")

    def call(self, inputs):
        x, z = self._inputs(inputs)
        return self.activation(ops.matmul(x, self.kernel) + ops.matmul(z, self.task_kernel) + self.bias)


@keras.saving.register_keras_serializable(package="course_lib")
class MultiHeadConditioning(_Conditioning):
    """One head per task, the descriptor picks it: ``y = sum_k z_k act(x W_k + b_k)``.

    With a one-hot ``z = e_i`` the output is head ``i``'s; the other heads get no gradient from
    that example. Every head is computed and weighted, so a soft ``z`` mixes the heads. ``z`` must
    have ``num_tasks`` columns. Head ``k`` is a ``Dense`` seeded with ``seed + k``.

    Args:
        units: width of every head.
        num_tasks: number of heads ``T`` (the width of ``z``).
        activation: of every head (default none: linear).
        seed: seed of head 0; head ``k`` gets ``seed + k`` (default ``None``: unseeded).
        **kwargs: base layer arguments (``name``, ``dtype``).

    Input shape:
        ``[x, z]``: ``(batch, d)`` and ``(batch, num_tasks)``.

    Output shape:
        ``(batch, units)``.

    Example:

    >>> import numpy as np
    >>> layer = MultiHeadConditioning(4, num_tasks=3, seed=0)
    >>> y = layer([np.ones((2, 5)), np.eye(3)[[0, 2]]])
    >>> tuple(y.shape), len(layer.heads)
    ((2, 4), 3)
    """

    def __init__(self, units, num_tasks, activation=None, seed=None, **kwargs):
        super().__init__(units, activation=activation, seed=seed, **kwargs)
        if isinstance(num_tasks, bool) or int(num_tasks) != num_tasks or num_tasks < 1:
            raise ValueError(f"num_tasks must be a positive integer. Received: num_tasks={num_tasks!r}")
        self.num_tasks = int(num_tasks)
        self.heads = [keras.layers.Dense(self.units, activation=self.activation, kernel_initializer=self._initializer(k),
                                         dtype=self.dtype_policy, name=f"head_{k}") for k in range(self.num_tasks)]

    def build(self, input_shape):
        d, m = self._shapes(input_shape)
        if m != self.num_tasks:
            raise ValueError(f"z must have num_tasks={self.num_tasks} columns. Received: input_shape={input_shape!r}")
        for head in self.heads:
            head.build(input_shape[0])

    def call(self, inputs):
        x, z = self._inputs(inputs)
        heads = ops.stack([head(x) for head in self.heads], axis=1)  # (batch, T, units)
        return ops.sum(heads * z[:, :, None], axis=1)

    def get_config(self):
        return {**super().get_config(), "num_tasks": self.num_tasks}


def _per_task_glorot(seed, count):
    """An initializer of a ``(count, d, u)`` kernel: slice ``k`` is Glorot-uniform ``(d, u)`` with ``seed + k``."""
    def initialize(shape, dtype=None):
        return ops.stack([keras.initializers.GlorotUniform(None if seed is None else seed + k)(shape[1:], dtype=dtype)
                          for k in range(count)], axis=0)
    return initialize


@keras.saving.register_keras_serializable(package="course_lib")
class MultiplicativeConditioning(_Conditioning):
    """Weights generated from the descriptor: ``y = act(x W(z) + b(z))``, ``W(z) = sum_k z_k W_k``.

    A bilinear layer, ``y_j = act(sum_{a,k} x_a z_k W_{k,a,j} + sum_k z_k b_{k,j})``. With a one-hot
    ``z = e_i`` it is the layer ``(W_i, b_i)`` of task ``i`` alone: at every layer, independent
    networks; at the last layer, independent heads. With a descriptor of ``m < T`` features per
    task, or a soft ``z``, the tasks' weights are combinations of ``m`` shared weight sets.

    Args:
        units: output width ``u``.
        activation: applied to the result (default none: linear).
        seed: slice ``k`` of the kernel is Glorot-uniform ``(d, u)`` with ``seed + k`` (default
            ``None``: unseeded); biases start at zero.
        **kwargs: base layer arguments (``name``, ``dtype``).

    Input shape:
        ``[x, z]``: ``(batch, d)`` and ``(batch, m)``.

    Output shape:
        ``(batch, units)``.

    Example:

    >>> import numpy as np
    >>> layer = MultiplicativeConditioning(4, seed=0)
    >>> y = layer([np.ones((2, 5)), np.eye(3)[[0, 2]]])
    >>> tuple(y.shape), tuple(layer.kernel.shape)
    ((2, 4), (3, 5, 4))
    """

    def build(self, input_shape):
        d, m = self._shapes(input_shape)
        self.kernel = self.add_weight(name="kernel", shape=(m, d, self.units), initializer=_per_task_glorot(self.seed, m))
        self.bias = self.add_weight(name="bias", shape=(m, self.units), initializer="zeros")

    def call(self, inputs):
        x, z = self._inputs(inputs)
        m, d = self.kernel.shape[0], self.kernel.shape[1]
        # sum_{k,a} z_k x_a W_{k,a,:}: the outer product z x (batch, m * d) times the kernel (m * d, u)
        outer = ops.reshape(z[:, :, None] * x[:, None, :], (-1, m * d))
        return self.activation(ops.matmul(outer, ops.reshape(self.kernel, (m * d, self.units)))
                               + ops.matmul(z, self.bias))
