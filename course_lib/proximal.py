"""Proximal operators and group norms in NumPy: the steps of :mod:`course_lib.sparsity`'s solvers.

Taught in notebooks 03a (``notebooks/03a_lasso.ipynb``, part 2) and 03b
(``notebooks/03b_shared_sparsity.ipynb``, part 3)::

    soft_threshold(x, t)          prox of t*||.||_1:           sign(x) * max(|x| - t, 0)
    block_soft_threshold(W, t)    prox of t*sum_j ||W_j||_2:   W_j * max(1 - t / ||W_j||_2, 0), row-wise
    group_norm(W, q=2)            the l1/lq norm sum_j ||W_j||_q over the rows of W
    row_norms(W)                  ||W_j||_2 for each row j

The notebooks import them from :mod:`course_lib.sparsity` (``sparsity.soft_threshold``), which
re-exports them beside the solvers; this module also holds the argument checks both share.

NumPy only: importing this module loads no TensorFlow. The same operators on a Keras kernel, in
``keras.ops``, are :func:`course_lib.ops.soft_threshold` and :func:`course_lib.ops.block_soft_threshold`.
"""

import numpy as np

__all__ = ["block_soft_threshold", "group_norm", "row_norms", "soft_threshold"]


# --------------------------------------------------------------------------------------------
# Argument checks (shared with course_lib.sparsity)
# --------------------------------------------------------------------------------------------


def _finite_array(value, name, ndim=None):
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an array of numbers. Received: {name}={value!r}") from None
    if ndim is not None and array.ndim not in ndim:
        dims = " or ".join(f"{n}-D" for n in ndim)
        raise ValueError(f"{name} must be {dims}. Received: {name}.shape={array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must not contain NaN or infinity. Received: {name}=<array of shape "
                         f"{array.shape} with {int(np.sum(~np.isfinite(array)))} non-finite value(s)>")
    return array


def _non_negative(value, name):
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a non-negative number. Received: {name}={value!r}") from None
    if not np.isfinite(number) or number < 0:
        raise ValueError(f"{name} must be a non-negative number. Received: {name}={value!r}")
    return number


# --------------------------------------------------------------------------------------------
# Proximal operators and norms
# --------------------------------------------------------------------------------------------


def soft_threshold(x, t):
    """The proximal operator of ``t * ||.||_1``, element-wise.

    .. math:: S_t(x) = \\operatorname{sign}(x) \\max(|x| - t, 0)
              = \\arg\\min_z \\tfrac12 (z - x)^2 + t |z|

    Args:
        x: array (any shape) or number.
        t: non-negative threshold (a number, or an array that broadcasts against ``x``).

    Returns:
        An array of ``x``'s shape: entries with ``|x| <= t`` are exactly 0, the others move ``t``
        towards 0.

    Example:

    >>> soft_threshold(np.array([-3.0, -0.5, 0.2, 2.0]), 1.0)
    array([-2., -0.,  0.,  1.])

    Taught in notebook 03a, part 2.
    """
    x = _finite_array(x, "x")
    t = _finite_array(t, "t")
    if np.any(t < 0):
        raise ValueError(f"t must be non-negative. Received: t={t.tolist()!r}")
    return np.sign(x) * np.maximum(np.abs(x) - t, 0.0)


def row_norms(W):
    """The Euclidean norm of each row of a 2-D array ``W`` (shape ``(d,)``)."""
    W = _finite_array(W, "W", ndim=(2,))
    return np.sqrt(np.sum(W * W, axis=1))


def block_soft_threshold(W, t):
    """The proximal operator of ``t * sum_j ||W_j||_2`` (the l1/l2 norm over the rows of ``W``).

    .. math:: [\\operatorname{prox}_t(W)]_j = W_j \\max\\left(1 - \\frac{t}{\\|W_j\\|_2}, 0\\right)

    Each row shrinks towards the origin along its own direction; a row whose norm is at most ``t``
    becomes exactly zero *as a whole* (the feature leaves every task at once). With one column it is
    :func:`soft_threshold`.

    Args:
        W: array of shape ``(d, T)``: one row per feature, one column per task (the seed's ``A``).
        t: non-negative threshold.

    Returns:
        An array of shape ``(d, T)``.

    Example:

    >>> block_soft_threshold(np.array([[3.0, 4.0], [0.3, 0.4]]), 1.0)
    array([[2.4, 3.2],
           [0. , 0. ]])

    Taught in notebook 03b, part 3.
    """
    W = _finite_array(W, "W", ndim=(2,))
    t = _non_negative(t, "t")
    norms = np.sqrt(np.sum(W * W, axis=1, keepdims=True))
    scale = np.maximum(1.0 - t / np.where(norms > 0, norms, 1.0), 0.0)
    return W * np.where(norms > 0, scale, 0.0)


def group_norm(W, q=2):
    """The l1/lq norm of ``W``: the sum over rows of each row's lq norm, ``sum_j ||W_j||_q``.

    Args:
        W: array of shape ``(d, T)``.
        q: 1, 2 or ``np.inf`` (also any ``q >= 1``).

    Taught in notebook 03b, part 3 (``q=2`` is the multi-task lasso penalty; ``q=inf`` is the
    l1/l-infinity variant of the exercises).
    """
    W = _finite_array(W, "W", ndim=(2,))
    q = float(q)
    if not q >= 1:
        raise ValueError(f"q must be >= 1 (a norm). Received: q={q!r}")
    return float(np.sum(np.linalg.norm(W, ord=q, axis=1)))
