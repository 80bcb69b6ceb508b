"""Regularisers: penalties added to the loss through ``kernel_regularizer=``.

::

    GroupLasso(factor)     factor * sum_i ||kernel[i, ...]||_2   (l1/l2 row sparsity: whole inputs)

Registered for serialisation (``"course_lib>GroupLasso"``), so a saved ``.keras`` model that uses
one loads again. Taught in notebook 03b, part 5.
"""

import math

import keras
import numpy as np  # noqa: F401 (the examples use it)
from keras import ops

from course_lib import ops as course_ops

__all__ = ["GroupLasso"]


@keras.saving.register_keras_serializable(package="course_lib")
class GroupLasso(keras.regularizers.Regularizer):
    """Row-sparsity (l1/l2) regulariser for a kernel: ``factor * sum_i ||kernel[i, ...]||_2``.

    .. math:: \\Omega(W) = \\lambda \\sum_{i=1}^{d} \\|W_{i,:}\\|_2

    Row ``i`` of a ``Dense`` kernel (shape ``(input_dim, units)``) holds every weight leaving
    input ``i``, so the penalty pushes whole *inputs* out of the layer: the network form of
    :func:`course_lib.sparsity.multitask_lasso`, with the units playing the tasks. For kernels
    of higher rank the norm runs over all axes but the first (:func:`course_lib.ops.row_norms`,
    whose gradient at an all-zero row is 0 rather than NaN).

    Gradient descent on this penalty shrinks rows but almost never makes them exactly zero:
    for exact zeros use :class:`course_lib.callbacks.ProximalCallback` with the same strength,
    *instead of* this regulariser (not with it: the penalty would be counted twice).

    Args:
        factor: non-negative strength ``lambda``, added to the loss as is. Default 0.01.

    Example:

    >>> regularizer = GroupLasso(0.5)
    >>> float(regularizer(np.array([[3.0, 4.0], [0.0, 0.0], [1.0, 0.0]], "float32")))
    3.0
    >>> layer = keras.layers.Dense(64, kernel_regularizer=GroupLasso(1e-3))
    >>> GroupLasso.from_config(regularizer.get_config()).factor
    0.5

    Taught in notebook 03b, part 5.
    """

    def __init__(self, factor=0.01):
        try:
            value = float(factor)
        except (TypeError, ValueError):
            value = float("nan")
        if not (math.isfinite(value) and value >= 0):
            raise ValueError(f"factor must be a non-negative number. Received: factor={factor!r}")
        self.factor = value

    def __call__(self, x):
        x = ops.convert_to_tensor(x)
        return ops.cast(self.factor, x.dtype) * ops.sum(course_ops.row_norms(x))

    def get_config(self):
        return {"factor": self.factor}

