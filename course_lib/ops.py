"""Shared ``keras.ops`` helpers: tensor functions that layers, regularisers and callbacks reuse.

Written once here, with ``keras.ops`` only, so they run on any backend, under ``jit_compile=True``
and under ``mixed_float16`` (half-precision inputs are computed in float32 and cast back)::

    row_norms(x)                       ||x[i, ...]||_2 for every slice along the first axis
    soft_threshold(x, threshold)       prox of t*||.||_1:            sign(x) * max(|x| - t, 0)
    block_soft_threshold(x, threshold) prox of t*sum_i ||x[i]||_2:   x[i] * max(1 - t / ||x[i]||_2, 0)

The NumPy versions for the convex problems of notebooks 03a and 03b are in
:mod:`course_lib.sparsity`; these are the same operators on a Keras kernel. Taught in notebook 03b, part 5.
"""

import keras
import numpy as np  # noqa: F401 (the examples use it)
from keras import ops

__all__ = ["block_soft_threshold", "row_norms", "soft_threshold"]

_HALF = ("float16", "bfloat16")


def _compute(x):
    """``x`` as a tensor in a dtype safe for sums of squares, and the dtype to return."""
    x = ops.convert_to_tensor(x)
    dtype = keras.backend.standardize_dtype(x.dtype)
    if not dtype.startswith(("float", "bfloat")):
        raise ValueError(f"x must be a floating-point tensor. Received: x.dtype={dtype}")
    return (ops.cast(x, "float32") if dtype in _HALF else x), dtype


def _threshold(threshold, dtype):
    if isinstance(threshold, (int, float)) and not threshold >= 0:
        raise ValueError(f"threshold must be non-negative. Received: threshold={threshold!r}")
    return ops.cast(threshold, dtype)


def row_norms(x):
    """The Euclidean norm of every slice ``x[i, ...]`` along the first axis, with a safe gradient.

    .. math:: n_i = \\|x_{i,:}\\|_2 = \\sqrt{\\textstyle\\sum_j x_{ij}^2}

    For a ``Dense`` kernel of shape ``(input_dim, units)`` slice ``i`` is everything input ``i``
    sends to the layer. The (sub)gradient at an all-zero row is 0, not the NaN of a plain
    ``sqrt``, so the norm can be trained through.

    Args:
        x: floating-point tensor of rank >= 1, shape ``(d, ...)``.

    Returns:
        A tensor of shape ``(d,)`` in the dtype of ``x``.

    Example:

    >>> ops.convert_to_numpy(row_norms(np.array([[3.0, 4.0], [0.0, 0.0]], "float32")))
    array([5., 0.], dtype=float32)

    Taught in notebook 03b, part 5.
    """
    x, dtype = _compute(x)
    if len(x.shape) == 0:
        raise ValueError(f"x must have at least one axis. Received: x.shape={tuple(x.shape)}")
    rows = ops.reshape(x, (ops.shape(x)[0], -1))
    squares = ops.sum(ops.square(rows), axis=1)
    positive = squares > 0
    norms = ops.where(positive, ops.sqrt(ops.where(positive, squares, ops.ones_like(squares))), 0.0)
    return ops.cast(norms, dtype)


def soft_threshold(x, threshold):
    """Element-wise soft-thresholding, the proximal operator of ``threshold * ||x||_1``.

    .. math:: S_t(x) = \\operatorname{sign}(x)\\max(|x| - t, 0)
              = \\arg\\min_z \\tfrac12\\|z - x\\|^2 + t\\|z\\|_1

    Entries with ``|x| <= t`` become exactly 0; the others move ``t`` towards 0.

    Args:
        x: floating-point tensor, any shape.
        threshold: non-negative ``t``, a number or a scalar tensor.

    Returns:
        A tensor of the shape and dtype of ``x``.

    Example:

    >>> ops.convert_to_numpy(soft_threshold(np.array([-3.0, -0.5, 0.2, 2.0], "float32"), 1.0))
    array([-2., -0.,  0.,  1.], dtype=float32)

    Taught in notebook 03b, part 5 (the ``penalty="l1"`` step of
    :class:`course_lib.callbacks.ProximalCallback`).
    """
    x, dtype = _compute(x)
    t = _threshold(threshold, x.dtype)
    return ops.cast(ops.sign(x) * ops.maximum(ops.abs(x) - t, 0.0), dtype)


def block_soft_threshold(x, threshold):
    """Block soft-thresholding of the rows, the proximal operator of ``t * sum_i ||x[i, ...]||_2``.

    .. math:: [\\operatorname{prox}_t(x)]_i = x_i \\max\\left(1 - \\frac{t}{\\|x_i\\|_2}, 0\\right)

    Each row (slice along the first axis) shrinks towards 0 along its own direction; a row whose
    norm is at most ``t`` becomes exactly zero as a whole. For a ``Dense`` kernel, a zero row is an
    input the layer no longer reads. With one column it is :func:`soft_threshold`.

    Args:
        x: floating-point tensor of rank >= 1, shape ``(d, ...)``.
        threshold: non-negative ``t``, a number or a scalar tensor.

    Returns:
        A tensor of the shape and dtype of ``x``.

    Example:

    >>> kernel = np.array([[3.0, 4.0], [0.3, 0.4]], "float32")
    >>> ops.convert_to_numpy(block_soft_threshold(kernel, 1.0))
    array([[2.4, 3.2],
           [0. , 0. ]], dtype=float32)

    Taught in notebook 03b, part 5 (the step of :class:`course_lib.callbacks.ProximalCallback`).
    """
    x, dtype = _compute(x)
    t = _threshold(threshold, x.dtype)
    norms = ops.expand_dims(row_norms(x), 1)
    rows = ops.reshape(x, (ops.shape(x)[0], -1))
    keep = norms > t
    scale = ops.where(keep, 1.0 - t / ops.where(keep, norms, ops.ones_like(norms)), 0.0)
    return ops.cast(ops.reshape(rows * scale, ops.shape(x)), dtype)

