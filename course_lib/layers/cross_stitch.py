"""The cross-stitch unit (Misra et al., CVPR 2016): learned linear mixing of T task networks.

Taught in notebook 05. Between two layers of T task-specific networks, each task's next layer
reads a learned linear combination of every task's activations::

    x_1, ..., x_T = dense_t(h_t) for each task t        # T separate networks
    x~_1, ..., x~_T = CrossStitch()([x_1, ..., x_T])    # x~_t = sum_s alpha_ts * x_s
    h_t = next_layer_t(x~_t)

``alpha = I`` is T independent networks; every row equal (``alpha_ts = 1 / T``) gives every task
the same input, as one shared layer would. The network learns where between the two to sit.
"""

import keras
import numpy as np
from keras import ops

__all__ = ["CrossStitch", "GRANULARITIES", "INITIALIZATIONS", "cross_stitch_matrix"]

GRANULARITIES = ("channel", "layer")
INITIALIZATIONS = ("convex", "identity", "uniform", "ones")


def cross_stitch_matrix(num_tasks, init="convex", self_weight=0.9):
    """The ``(T, T)`` starting matrix ``alpha`` of :class:`CrossStitch`, in NumPy.

    - ``"convex"`` (the paper's): ``alpha_tt = self_weight``, ``alpha_ts = (1 - self_weight) / (T - 1)``;
      every row sums to 1 (for two tasks and the default 0.9: ``[[0.9, 0.1], [0.1, 0.9]]``).
    - ``"identity"``: ``alpha = I``, independent networks at the start.
    - ``"uniform"``: every entry ``1 / T``: every task starts with the *same* input.
    - ``"ones"``: every entry 1, as some public implementations start: every task sees the sum of
      all tasks' activations, ``T`` times their scale.

    Example:

    >>> cross_stitch_matrix(3, self_weight=0.8)
    array([[0.8, 0.1, 0.1],
           [0.1, 0.8, 0.1],
           [0.1, 0.1, 0.8]], dtype=float32)
    """
    if isinstance(num_tasks, bool) or int(num_tasks) != num_tasks or num_tasks < 2:
        raise ValueError(f"A cross-stitch unit mixes at least 2 tasks. Received: num_tasks={num_tasks!r}")
    if init not in INITIALIZATIONS:
        raise ValueError(f"init must be one of {', '.join(INITIALIZATIONS)}. Received: init={init!r}")
    if not 0 <= float(self_weight) <= 1:
        raise ValueError(f"self_weight must be in [0, 1] (a convex combination). Received: self_weight={self_weight!r}")
    T = int(num_tasks)
    if init == "convex":
        matrix = np.full((T, T), (1 - float(self_weight)) / (T - 1))
        np.fill_diagonal(matrix, float(self_weight))
    elif init == "identity":
        matrix = np.eye(T)
    elif init == "uniform":
        matrix = np.full((T, T), 1 / T)
    else:
        matrix = np.ones((T, T))
    return matrix.astype("float32")


@keras.saving.register_keras_serializable(package="course_lib")
class CrossStitch(keras.layers.Layer):
    """Cross-stitch unit: each task's output is a learned linear combination of all tasks' inputs.

    For two tasks A and B, at every channel (location) ``c`` (Misra et al. 2016, eq. 1):

    .. math::

        \\begin{bmatrix} \\tilde x_A^c \\\\ \\tilde x_B^c \\end{bmatrix} =
        \\begin{bmatrix} \\alpha_{AA} & \\alpha_{AB} \\\\ \\alpha_{BA} & \\alpha_{BB} \\end{bmatrix}
        \\begin{bmatrix} x_A^c \\\\ x_B^c \\end{bmatrix},
        \\qquad \\text{and for } T \\text{ tasks } \\tilde x_t^c = \\sum_{s=1}^{T} \\alpha_{ts}^c\\, x_s^c .

    With ``granularity="channel"`` (the paper's choice) every channel has its own ``T x T``
    matrix, ``alpha`` of shape ``(T, T, d)``; with ``"layer"`` one matrix serves all channels,
    ``(T, T)``. ``alpha`` starts as :func:`cross_stitch_matrix` (``init``), repeated over the
    channels. The paper's convex start (0.9 on the task's own input, 0.1 across; its ablation
    found it robust) keeps each task mostly itself; ``"uniform"`` starts every task with the same
    input (identical outputs at step 0), ``"ones"`` with the sum of all tasks' inputs (``T``
    times the scale). ``alpha`` is a float32 weight, cast to the compute dtype in ``call``.

    The paper trains ``alpha`` with a learning rate 10^2 to 10^3 times the network's: ``alpha`` is
    of order 1 where the weights are of order 0.05, so at the network's learning rate its step is
    small for its size (notebook 05 measures it and sets the factor with
    :func:`course_lib.optimizers.with_learning_rate_multipliers`; the weight's path ends in ``alpha``).

    Args:
        granularity: ``"channel"`` (default, one ``alpha`` matrix per channel) or ``"layer"``.
        init: ``"convex"`` (default), ``"identity"``, ``"uniform"`` or ``"ones"``.
        self_weight: ``alpha_tt`` of the convex start, in [0, 1]. Default 0.9.
        **kwargs: base layer arguments (``name``, ``dtype``).

    Input shape:
        A list of ``T >= 2`` tensors of one shape ``(batch, ..., d)``, one per task.

    Output shape:
        A list of ``T`` tensors of that shape, in task order.

    Example:

    >>> unit = CrossStitch(granularity="layer", self_weight=0.75)  # alpha = [[0.75, 0.25], [0.25, 0.75]]
    >>> x_a, x_b = np.array([[1.0, 2.0]]), np.array([[10.0, 20.0]])
    >>> [np.asarray(y).tolist() for y in unit([x_a, x_b])]
    [[[3.25, 6.5]], [[7.75, 15.5]]]
    >>> unit.mixing().shape
    (2, 2)
    """

    def __init__(self, granularity="channel", init="convex", self_weight=0.9, **kwargs):
        super().__init__(**kwargs)
        if granularity not in GRANULARITIES:
            raise ValueError(f"granularity must be one of {', '.join(GRANULARITIES)}. Received: granularity={granularity!r}")
        cross_stitch_matrix(2, init, self_weight)  # validates init and self_weight
        self.granularity = granularity
        self.init = init
        self.self_weight = float(self_weight)

    def build(self, input_shape):
        if not isinstance(input_shape, (list, tuple)) or not input_shape or not isinstance(input_shape[0], (list, tuple)):
            raise ValueError(f"CrossStitch takes a list of T >= 2 tensors, one per task. Received: input_shape={input_shape}")
        shapes = [tuple(shape) for shape in input_shape]
        if len(shapes) < 2 or any(shape[1:] != shapes[0][1:] for shape in shapes):
            raise ValueError(f"CrossStitch needs T >= 2 inputs of one shape. Received: shapes {shapes}")
        if shapes[0][-1] is None:
            raise ValueError(f"The last axis of the inputs must be known. Received: shapes {shapes}")
        self.num_tasks, channels = len(shapes), int(shapes[0][-1])
        start = cross_stitch_matrix(self.num_tasks, self.init, self.self_weight)
        if self.granularity == "channel":
            start = np.repeat(start[:, :, None], channels, axis=2)
        self.alpha = self.add_weight(name="alpha", shape=start.shape, dtype="float32",
                                     initializer=keras.initializers.Constant(start))

    def call(self, inputs):
        x = ops.stack([ops.cast(x, self.compute_dtype) for x in inputs], axis=-2)  # (..., T, d)
        alpha = ops.cast(self.alpha, self.compute_dtype)
        if self.granularity == "layer":
            alpha = alpha[:, :, None]  # (T, T, 1): one matrix for every channel
        mixed = ops.sum(alpha * ops.expand_dims(x, -3), axis=-2)  # (..., T, T, d) summed over s
        return [mixed[..., t, :] for t in range(self.num_tasks)]

    def compute_output_shape(self, input_shape):
        return [tuple(shape) for shape in input_shape]

    def mixing(self):
        """``alpha`` as NumPy: ``(T, T)`` (per layer) or ``(T, T, d)`` (per channel); row t feeds task t."""
        return np.asarray(keras.ops.convert_to_numpy(self.alpha))

    def get_config(self):
        config = super().get_config()
        config.update({"granularity": self.granularity, "init": self.init, "self_weight": self.self_weight})
        return config
