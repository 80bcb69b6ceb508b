"""One ``Dense`` layer per task, softly shared: a penalty pulls the task copies together.

Taught in notebook 05. Hard sharing uses one layer for every task; independent networks use one
layer each and nothing ties them. Soft parameter sharing keeps one layer each and adds
``lambda sum_{t<t'} ||theta_t - theta_t'||^2`` (:class:`course_lib.regularizers.SoftSharing`)
to the loss, so ``lambda`` moves the model between the two::

    h_1, ..., h_T = SoftSharedDense(64, num_tasks=T, sharing=1e-3, activation="relu", seed=0)(x)
    model.losses  # [the penalty on the T kernels and the T biases], added to the training loss
"""

import keras
import numpy as np  # noqa: F401 (the examples use it)

from course_lib.regularizers import SoftSharing

__all__ = ["SoftSharedDense"]


@keras.saving.register_keras_serializable(package="course_lib")
class SoftSharedDense(keras.layers.Layer):
    """T task-specific ``Dense`` layers and the soft-sharing penalty between them, as a layer loss.

    .. math::

        h_t = \\sigma(x_t W_t + b_t), \\qquad
        \\mathcal{L} = \\sum_t \\mathcal{L}_t + \\lambda \\sum_{t < t'}
        \\big(\\|W_t - W_{t'}\\|_2^2 + \\|b_t - b_{t'}\\|_2^2\\big)

    The penalty is added with ``add_loss`` on every call (``model.losses``; ``fit`` adds it to
    the loss). ``sharing=0`` gives T independent layers; a large ``sharing`` forces them equal,
    one hard-shared layer. Task ``t``'s kernel starts from ``GlorotUniform(seed + t)``, so the
    copies start apart (one seed for all would start them equal: shared already).

    Args:
        units: width of every task's layer.
        num_tasks: T >= 2.
        sharing: the penalty's strength ``lambda`` (>= 0). Default 0 (independent).
        activation: of every task's layer. Default ``None`` (linear).
        seed: seed of task 0's initializer; task ``t`` gets ``seed + t``. Default ``None``.
        **kwargs: base layer arguments (``name``, ``dtype``).

    Input shape:
        One tensor ``(batch, d)`` that every task reads, or a list of T tensors ``(batch, d)``.

    Output shape:
        A list of T tensors ``(batch, units)``.

    Example:

    >>> layer = SoftSharedDense(4, num_tasks=2, sharing=0.1, seed=0)
    >>> outputs = layer(np.ones((3, 5), "float32"))
    >>> [tuple(h.shape) for h in outputs], len(layer.losses)
    ([(3, 4), (3, 4)], 1)

    Taught in notebook 05.
    """

    def __init__(self, units, num_tasks, sharing=0.0, activation=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        for name, value, low in (("units", units, 1), ("num_tasks", num_tasks, 2)):
            if isinstance(value, bool) or int(value) != value or value < low:
                raise ValueError(f"{name} must be an integer >= {low}. Received: {name}={value!r}")
        if seed is not None and (int(seed) != seed or seed < 0):
            raise ValueError(f"seed must be a non-negative integer or None. Received: seed={seed!r}")
        self.units, self.num_tasks = int(units), int(num_tasks)
        self.penalty = SoftSharing(sharing)  # validates sharing
        self.activation = keras.activations.get(activation)
        self.seed = None if seed is None else int(seed)
        self.towers = [
            keras.layers.Dense(self.units, activation=self.activation, dtype=self.dtype_policy, name=f"task_{t}",
                               kernel_initializer=keras.initializers.GlorotUniform(None if seed is None else self.seed + t))
            for t in range(self.num_tasks)
        ]

    @property
    def sharing(self):
        return self.penalty.factor

    def _per_task(self, inputs):
        if isinstance(inputs, (list, tuple)):
            if len(inputs) != self.num_tasks:
                raise ValueError(f"SoftSharedDense takes one input or {self.num_tasks}, one per task. Received: {len(inputs)}")
            return list(inputs)
        return [inputs] * self.num_tasks

    def _shapes(self, input_shape):
        several = isinstance(input_shape, (list, tuple)) and input_shape and isinstance(input_shape[0], (list, tuple))
        return self._per_task(list(input_shape)) if several else [tuple(input_shape)] * self.num_tasks

    def build(self, input_shape):
        shapes = self._shapes(input_shape)
        if any(tuple(s)[-1] != tuple(shapes[0])[-1] or tuple(s)[-1] is None for s in shapes):
            raise ValueError(f"Every task's input needs one known last axis. Received: input_shape={input_shape}")
        for tower, shape in zip(self.towers, shapes):
            tower.build(shape)

    def call(self, inputs):
        outputs = [tower(x) for tower, x in zip(self.towers, self._per_task(inputs))]
        if self.sharing > 0:
            self.add_loss(self.penalty([t.kernel for t in self.towers]) + self.penalty([t.bias for t in self.towers]))
        return outputs

    def compute_output_shape(self, input_shape):
        return [(*tuple(shape)[:-1], self.units) for shape in self._shapes(input_shape)]

    def get_config(self):
        config = super().get_config()
        config.update({"units": self.units, "num_tasks": self.num_tasks, "sharing": self.sharing,
                       "activation": keras.activations.serialize(self.activation), "seed": self.seed})
        return config
