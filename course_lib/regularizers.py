"""Regularisers: penalties added to the loss through ``kernel_regularizer=``.

::

    GroupLasso(factor)     factor * sum_i ||kernel[i, ...]||_2   (l1/l2 row sparsity: whole inputs)
    SoftSharing(factor)    factor * sum_{t<t'} ||theta_t - theta_t'||^2   (T task copies of a weight)

Registered for serialisation (``"course_lib>GroupLasso"``), so a saved ``.keras`` model that uses
one loads again. ``GroupLasso`` is taught in notebook 03b, part 5; ``SoftSharing`` (called on a list
of T weights, not through ``kernel_regularizer=``; :class:`course_lib.layers.SoftSharedDense` adds
it as a layer loss) in notebook 05.
"""

import itertools
import math

import keras
import numpy as np  # noqa: F401 (the examples use it)
from keras import ops

from course_lib import ops as course_ops

__all__ = ["GroupLasso", "SoftSharing"]


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
        self.factor = _factor(factor)

    def __call__(self, x):
        x = ops.convert_to_tensor(x)
        return ops.cast(self.factor, x.dtype) * ops.sum(course_ops.row_norms(x))

    def get_config(self):
        return {"factor": self.factor}



def _factor(factor):
    try:
        value = float(factor)
    except (TypeError, ValueError):
        value = float("nan")
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"factor must be a non-negative number. Received: factor={factor!r}")
    return value


@keras.saving.register_keras_serializable(package="course_lib")
class SoftSharing(keras.regularizers.Regularizer):
    """Soft parameter sharing: pull T task copies of a weight together, ``factor * sum ||W_t - W_t'||^2``.

    .. math:: \\Omega(\\theta^1, \\ldots, \\theta^T) = \\lambda \\sum_{t < t'} \\|\\theta^t - \\theta^{t'}\\|_2^2
              = \\lambda\\, T \\sum_{t=1}^{T} \\|\\theta^t - \\bar\\theta\\|_2^2

    over the unordered pairs of tasks (``squared=False``: the plain norms
    ``||theta_t - theta_t'||_2``, as the CS330 lecture writes the penalty; not differentiable
    where two copies are equal). The second form, ``T`` times the spread around the mean
    ``theta_bar``, is the mean-regularised multi-task penalty of notebook 03b, part 4. ``factor``
    0 leaves T independent networks; a large one forces the copies equal, one shared network.

    Unlike a ``kernel_regularizer`` it is called on a *list* of same-shaped weights, one per task
    (:class:`course_lib.layers.SoftSharedDense` calls it on its kernels and biases in ``call``).

    Args:
        factor: non-negative strength ``lambda``. Default 0.01.
        squared: sum squared distances (default ``True``) or distances.

    Example:

    >>> penalty = SoftSharing(0.5)
    >>> float(penalty([np.array([1.0, 2.0]), np.array([1.0, 0.0]), np.array([3.0, 2.0])]))  # 0.5 (4 + 4 + 8)
    8.0
    >>> SoftSharing.from_config(penalty.get_config()).factor
    0.5

    Taught in notebook 05.
    """

    def __init__(self, factor=0.01, squared=True):
        self.factor = _factor(factor)
        self.squared = bool(squared)

    def __call__(self, weights):
        if not isinstance(weights, (list, tuple)) or len(weights) < 2:
            raise ValueError("SoftSharing takes a list of T >= 2 weights, one per task. "
                             f"Received: {type(weights).__name__} of length {len(weights) if hasattr(weights, '__len__') else '-'}")
        weights = [ops.convert_to_tensor(w) for w in weights]
        if any(tuple(w.shape) != tuple(weights[0].shape) for w in weights):
            raise ValueError(f"SoftSharing needs weights of one shape. Received: shapes {[tuple(w.shape) for w in weights]}")
        total = ops.cast(0.0, weights[0].dtype)
        for a, b in itertools.combinations(weights, 2):
            squared = ops.sum(ops.square(a - b))
            total = total + (squared if self.squared else ops.sqrt(squared))
        return ops.cast(self.factor, total.dtype) * total

    def get_config(self):
        return {"factor": self.factor, "squared": self.squared}
