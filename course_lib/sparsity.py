"""Sparsity in NumPy: proximal operators, the lasso and the multi-task lasso, solved exactly.

Taught in notebooks 03a (``notebooks/03a_lasso.ipynb``, part 2) and 03b
(``notebooks/03b_shared_sparsity.ipynb``, part 3)::

    soft_threshold(x, t)          prox of t*||.||_1:           sign(x) * max(|x| - t, 0)
    block_soft_threshold(W, t)    prox of t*sum_j ||W_j||_2:   W_j * max(1 - t / ||W_j||_2, 0), row-wise
    group_norm(W, q=2)            the l1/lq norm sum_j ||W_j||_q over the rows of W
    lasso(X, y, alpha)            argmin 1/(2n) ||y - X b||^2       + alpha * ||b||_1
    multitask_lasso(X, Y, alpha)  argmin 1/(2n) ||Y - X W^T||_F^2   + alpha * sum_j ||W[:, j]||_2
    lasso_path(X, y)              the lasso on a decreasing grid of alphas, warm-started
    alpha_max(X, y)               the smallest alpha whose solution is all zeros

The proximal operators and norms are :mod:`course_lib.proximal`'s, re-exported here (the notebooks
call ``sparsity.soft_threshold``).

Both solvers are one block coordinate descent (:func:`_block_coordinate_descent`) stopped by one
duality gap (:func:`_duality_gap`): the lasso is its one-task case, where a block soft-threshold
of a single coefficient is a soft-threshold.

The objectives are scikit-learn's ``Lasso`` and ``MultiTaskLasso`` with ``fit_intercept=False``
(centre ``X`` and ``y`` first if you want an intercept), and the coefficients come back in the
shape of their ``coef_``: ``(d,)`` for one target, ``(T, d)`` for ``T`` targets. So the seed's task
matrix ``A`` (d x T, one column per task, one row per feature) is ``coef.T``.

NumPy only: importing this module loads no TensorFlow. The same penalty inside a Keras network is
:class:`course_lib.regularizers.GroupLasso`; its proximal step, on a kernel in ``keras.ops``, is
:func:`course_lib.ops.block_soft_threshold`, applied after every step by
:class:`course_lib.callbacks.ProximalCallback` (notebook 03b, part 5).
"""

import math

import numpy as np

from course_lib.proximal import (  # the proximal operators, re-exported: the notebooks call sparsity.soft_threshold
    _finite_array,
    _non_negative,
    block_soft_threshold,
    group_norm,
    row_norms,
    soft_threshold,
)

__all__ = [
    "alpha_max",
    "block_soft_threshold",
    "group_norm",
    "lasso",
    "lasso_path",
    "multitask_lasso",
    "row_norms",
    "soft_threshold",
]


# --------------------------------------------------------------------------------------------
# Argument checks of the solvers (those of arrays and thresholds: course_lib.proximal)
# --------------------------------------------------------------------------------------------


def _positive_int(value, name):
    if int(value) != value or int(value) < 1:
        raise ValueError(f"{name} must be a positive integer. Received: {name}={value!r}")
    return int(value)


def _design(X, y, y_ndim):
    X = _finite_array(X, "X", ndim=(2,))
    y = _finite_array(y, "y", ndim=y_ndim)
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"X and y must have the same number of rows (samples). "
                         f"Received: X.shape={X.shape}, y.shape={y.shape}")
    if X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(f"X must have at least one sample and one feature. Received: X.shape={X.shape}")
    return X, y


# --------------------------------------------------------------------------------------------
# Solvers: one block coordinate descent, one duality gap
# --------------------------------------------------------------------------------------------


def alpha_max(X, y, multitask=False):
    """The smallest ``alpha`` at which :func:`lasso` (or :func:`multitask_lasso`) returns all zeros.

    .. math:: \\alpha_{\\max} = \\tfrac1n \\|X^\\top y\\|_\\infty  \\quad\\text{(lasso)}, \\qquad
              \\alpha_{\\max} = \\tfrac1n \\max_j \\|X_j^\\top Y\\|_2 \\quad\\text{(multi-task)}

    For a 2-D ``y`` and ``multitask=False``: one value per column (independent lassos).
    """
    X, y = _design(X, y, (1, 2))
    n = X.shape[0]
    if multitask:
        Y = y.reshape(n, -1)
        return float(np.max(np.linalg.norm(X.T @ Y, axis=1)) / n)
    scores = np.abs(X.T @ y) / n
    return float(np.max(scores)) if y.ndim == 1 else np.max(scores, axis=0)


def _duality_gap(X, Y, W, R, alpha):
    """Duality gap of ``1/(2n)||Y - XW||_F^2 + alpha sum_j ||W_j||_2`` at ``W``, ``R = Y - XW``.

    ``W`` is ``(d, T)`` with ``Y`` and ``R`` ``(n, T)``, or ``(d,)`` with ``(n,)``: the lasso,
    where ``||W_j||_2 = |w_j|``. The dual point is the residual scaled into the dual feasible set
    ``max_j ||X_j^T U||_2 <= n alpha``.
    """
    n = X.shape[0]
    W, Y, R = W.reshape(len(W), -1), Y.reshape(n, -1), R.reshape(n, -1)
    dual_norm = np.max(np.linalg.norm(X.T @ R, axis=1))
    scale = min(1.0, n * alpha / dual_norm) if dual_norm > 0 else 1.0
    U = scale * R
    primal = 0.5 * np.sum(R * R) / n + alpha * np.sum(np.linalg.norm(W, axis=1))
    dual = (np.sum(U * Y) - 0.5 * np.sum(U * U)) / n
    return float(primal - dual)


def _block_coordinate_descent(X, Y, alpha, tol, max_iter, W):
    """Minimise ``1/(2n)||Y - XW||_F^2 + alpha sum_j ||W_j||_2`` over ``W``, in place.

    ``W`` of shape ``(d, T)`` (``Y`` ``(n, T)``): the multi-task lasso, a block ``W_j`` of ``T``
    coefficients per feature. ``W`` of shape ``(d,)`` (``Y`` ``(n,)``): the lasso, the same steps
    with a block of one (kept a scalar, so the one-task case runs at scalar speed). Each step
    solves for one block exactly, a block soft-threshold:
    ``W_j <- BST_alpha(x_j^T R_j / n) / (||x_j||^2 / n)``, ``R_j`` the residual without feature
    ``j``. Stops when the duality gap is at most ``tol * ||Y||_F^2 / (2n)``.
    Returns ``(W, {"gap", "sweeps", "converged"})``.
    """
    n, d = X.shape
    columns = list(np.asfortranarray(X).T)  # contiguous columns x_j
    scaled = list(np.asfortranarray(X / n).T)  # x_j / n
    col_sq = (np.sum(X * X, axis=0) / n).tolist()
    # the block's norm and outer product, chosen once: a block of T, or a single coefficient
    norm_of, outer = (abs, np.multiply) if W.ndim == 1 else ((lambda v: math.sqrt(v @ v)), np.multiply.outer)
    R = Y - X @ W
    nonzero = np.any(W.reshape(d, -1) != 0, axis=1).tolist()
    target = tol * max(0.5 * np.sum(Y * Y) / n, np.finfo(float).tiny)
    gap = np.inf
    for sweep in range(1, max_iter + 1):
        for j in range(d):
            shrink = 0.0  # an all-zero column: its coefficient is 0
            if col_sq[j] > 0.0:
                rho = scaled[j] @ R + col_sq[j] * W[j]
                norm = norm_of(rho)
                shrink = max(1.0 - alpha / norm, 0.0) / col_sq[j] if norm > 0 else 0.0
            if shrink == 0.0 and not nonzero[j]:
                continue  # stays at zero: the common case once the support is found
            new = rho * shrink if shrink else 0.0 * W[j]
            R -= outer(columns[j], new - W[j])
            W[j] = new
            nonzero[j] = shrink > 0.0
        gap = _duality_gap(X, Y, W, R, alpha)
        if gap <= target:
            return W, {"gap": gap, "sweeps": sweep, "converged": True}
    return W, {"gap": gap, "sweeps": max_iter, "converged": False}


def _start(init, shape, name="init"):
    """The starting coefficients, shape ``coef_``-like ``shape``; zeros when ``init`` is None."""
    if init is None:
        return np.zeros(shape)
    init = _finite_array(init, name, ndim=(len(shape),))
    if init.shape != shape:
        label = "(d,)" if len(shape) == 1 else "(T, d)"
        raise ValueError(f"init must have shape {label} = {shape}. Received: init.shape={init.shape}")
    return init.copy()


def _finish(coef, info, return_info):
    return (coef, info) if return_info else coef


def lasso(X, y, alpha, *, tol=1e-10, max_iter=10_000, init=None, return_info=False):
    """The lasso by cyclic coordinate descent, stopped by the duality gap.

    .. math:: \\hat\\beta = \\arg\\min_\\beta \\tfrac{1}{2n}\\|y - X\\beta\\|_2^2 + \\alpha\\|\\beta\\|_1

    the objective of ``sklearn.linear_model.Lasso(alpha, fit_intercept=False)``. Each step solves
    for one coefficient exactly, a soft-threshold:
    ``beta_j <- S_alpha(x_j^T r_j / n) / (||x_j||^2 / n)`` with ``r_j`` the residual without feature j.
    It is the one-task case of :func:`multitask_lasso` (same solver, one column).

    Stopping rule (honest about what ``tol`` means): after each sweep, the duality gap
    ``P(beta) - D(u)``, with ``u`` the residual scaled into the dual feasible set, is an upper
    bound on ``P(beta) - min P``. The solver stops when it is at most ``tol * P(0)``, with
    ``P(0) = ||y||^2 / (2n)``: ``tol`` bounds the *relative objective* error, not the coefficient
    error (which is roughly its square root in units of the data). scikit-learn uses the same
    rule with ``tol * ||y||^2 / n``.

    Args:
        X: design matrix, shape ``(n, d)``; ``d > n`` is fine.
        y: targets, shape ``(n,)``, or ``(n, T)`` for ``T`` independent lassos.
        alpha: non-negative penalty strength.
        tol: relative duality-gap tolerance (default ``1e-10``).
        max_iter: maximum number of sweeps over the features.
        init: optional starting coefficients of the returned shape (warm start).
        return_info: also return ``{"gap", "sweeps", "converged"}`` (a list for 2-D ``y``).

    Returns:
        Coefficients like ``Lasso.coef_``: shape ``(d,)`` for 1-D ``y``, ``(T, d)`` for 2-D ``y``.

    Raises:
        ValueError: mismatched shapes, NaN/inf, negative ``alpha`` or ``tol``; the message names
            the argument.

    Example:

    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((50, 10)); y = X[:, 0] - 2 * X[:, 3]
    >>> np.flatnonzero(lasso(X, y, alpha=0.1))
    array([0, 3])

    Taught in notebook 03a, part 2.
    """
    X, y = _design(X, y, (1, 2))
    alpha = _non_negative(alpha, "alpha")
    tol = _non_negative(tol, "tol")
    max_iter = _positive_int(max_iter, "max_iter")
    if y.ndim == 1:
        return _finish(*_block_coordinate_descent(X, y, alpha, tol, max_iter, _start(init, (X.shape[1],))),
                       return_info)
    start = _start(init, (y.shape[1], X.shape[1]))
    fits = [_block_coordinate_descent(X, y[:, t].copy(), alpha, tol, max_iter, start[t]) for t in range(y.shape[1])]
    coef, infos = np.stack([w for w, _ in fits]), [info for _, info in fits]
    return _finish(coef, infos, return_info)


def multitask_lasso(X, Y, alpha, *, tol=1e-10, max_iter=10_000, init=None, return_info=False):
    """The multi-task (group) lasso by block coordinate descent, stopped by the duality gap.

    .. math:: \\hat W = \\arg\\min_W \\tfrac{1}{2n}\\|Y - X W\\|_F^2 + \\alpha \\sum_{j=1}^d \\|W_j\\|_2

    with ``W`` of shape ``(d, T)`` (the seed's ``A``: row ``j`` is feature ``j`` in every task), the
    objective of ``sklearn.linear_model.MultiTaskLasso(alpha, fit_intercept=False)``. Each step
    solves for one row exactly, a block soft-threshold:
    ``W_j <- BST_alpha(x_j^T R_j / n) / (||x_j||^2 / n)``. The penalty couples the tasks only
    through the row norms, so a feature is kept or dropped for all tasks together.

    Stopping rule as in :func:`lasso`: duality gap ``<= tol * ||Y||_F^2 / (2n)``.

    Args:
        X: design matrix, shape ``(n, d)``.
        Y: targets, shape ``(n, T)``, one column per task (all tasks share ``X``).
        alpha: non-negative penalty strength.
        tol: relative duality-gap tolerance (default ``1e-10``).
        max_iter: maximum number of sweeps.
        init: optional starting coefficients, shape ``(T, d)``.
        return_info: also return ``{"gap", "sweeps", "converged"}``.

    Returns:
        Coefficients like ``MultiTaskLasso.coef_``: shape ``(T, d)``.

    Example:

    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((50, 10)); Y = X[:, [0, 3]] @ np.array([[1.0, -1.0], [2.0, 0.5]])
    >>> np.flatnonzero(np.abs(multitask_lasso(X, Y, alpha=0.1)).sum(axis=0))  # the same rows in both tasks
    array([0, 3])

    Taught in notebook 03b, part 3.
    """
    X, Y = _design(X, Y, (2,))
    alpha = _non_negative(alpha, "alpha")
    tol = _non_negative(tol, "tol")
    max_iter = _positive_int(max_iter, "max_iter")
    W, info = _block_coordinate_descent(X, Y, alpha, tol, max_iter, _start(init, (Y.shape[1], X.shape[1])).T.copy())
    return _finish(W.T.copy(), info, return_info)


def lasso_path(X, y, alphas=None, *, n_alphas=50, eps=1e-3, tol=1e-8, max_iter=10_000):
    """The lasso solution along a decreasing grid of ``alpha`` (each fit warm-starts the next).

    Args:
        X: shape ``(n, d)``; y: shape ``(n,)``.
        alphas: the grid (sorted into decreasing order); default ``n_alphas`` values
            geometrically spaced from :func:`alpha_max` down to ``eps * alpha_max``.
        tol, max_iter: as in :func:`lasso`.

    Returns:
        ``(alphas, coefs)``: ``alphas`` decreasing, shape ``(n_alphas,)``; ``coefs`` of shape
        ``(d, n_alphas)``, as ``sklearn.linear_model.lasso_path`` returns them.

    Taught in notebook 03a, part 2 (the regularisation path figure).
    """
    X, y = _design(X, y, (1,))
    if alphas is None:
        n_alphas = _positive_int(n_alphas, "n_alphas")
        eps = _non_negative(eps, "eps")
        if not 0 < eps <= 1:
            raise ValueError(f"eps must be in (0, 1]. Received: eps={eps!r}")
        top = alpha_max(X, y)
        alphas = np.geomspace(top, top * eps, n_alphas) if top > 0 else np.zeros(n_alphas)
    else:
        alphas = _finite_array(alphas, "alphas", ndim=(1,))
        if np.any(alphas < 0):
            raise ValueError(f"alphas must be non-negative. Received: alphas={alphas.tolist()!r}")
        alphas = np.sort(alphas)[::-1]
    coefs = np.empty((X.shape[1], len(alphas)))
    w = None
    for i, a in enumerate(alphas):
        w = lasso(X, y, a, tol=tol, max_iter=max_iter, init=w)
        coefs[:, i] = w
    return alphas, coefs
