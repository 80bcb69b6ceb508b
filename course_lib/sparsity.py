"""Sparsity: proximal operators, lasso solvers and exact-zero training in Keras.

Taught in notebook 03 (``notebooks/03_lasso_sparsity.ipynb``). Two halves:

NumPy (the convex problems, solved exactly)::

    soft_threshold(x, t)          prox of t*||.||_1:           sign(x) * max(|x| - t, 0)
    block_soft_threshold(W, t)    prox of t*sum_j ||W_j||_2:   W_j * max(1 - t / ||W_j||_2, 0), row-wise
    group_norm(W, q=2)            the l1/lq norm sum_j ||W_j||_q over the rows of W
    lasso(X, y, alpha)            argmin 1/(2n) ||y - X b||^2       + alpha * ||b||_1
    multitask_lasso(X, Y, alpha)  argmin 1/(2n) ||Y - X W^T||_F^2   + alpha * sum_j ||W[:, j]||_2
    lasso_path(X, y)              the lasso on a decreasing grid of alphas, warm-started
    alpha_max(X, y)               the smallest alpha whose solution is all zeros

The objectives are scikit-learn's ``Lasso`` and ``MultiTaskLasso`` with ``fit_intercept=False``
(centre ``X`` and ``y`` first if you want an intercept), and the coefficients come back in the
shape of their ``coef_``: ``(d,)`` for one target, ``(T, d)`` for ``T`` targets. So the seed's task
matrix ``A`` (d x T, one column per task, one row per feature) is ``coef.T``.

Keras (the same penalty inside a network)::

    GroupLasso(factor)            regulariser factor * sum_i ||kernel[i, :]||_2 (rows = inputs)
    ProximalCallback(layers, strength)
                                  after every train step, kernel <- prox_{lr*strength}(kernel)

A (sub)gradient step on ``GroupLasso`` moves a row towards zero but almost never lands on it; the
proximal step sets every row whose norm is below ``lr * strength`` to exactly zero.
"""

import keras
import numpy as np
from keras import ops

__all__ = [
    "GroupLasso",
    "ProximalCallback",
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
# Argument checks
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

    Taught in notebook 03, part 2.
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

    Taught in notebook 03, part 3.
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

    Taught in notebook 03, part 3 (``q=2`` is the multi-task lasso penalty; ``q=inf`` is the
    l1/l-infinity variant of the exercises).
    """
    W = _finite_array(W, "W", ndim=(2,))
    q = float(q)
    if not q >= 1:
        raise ValueError(f"q must be >= 1 (a norm). Received: q={q!r}")
    return float(np.sum(np.linalg.norm(W, ord=q, axis=1)))


# --------------------------------------------------------------------------------------------
# Solvers
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


def _lasso_gap(X, y, w, r, alpha):
    """Duality gap of 1/(2n)||y - Xw||^2 + alpha ||w||_1 at w (r = y - Xw)."""
    n = X.shape[0]
    dual_norm = np.max(np.abs(X.T @ r)) if X.shape[1] else 0.0
    scale = min(1.0, n * alpha / dual_norm) if dual_norm > 0 else 1.0
    u = scale * r  # dual feasible: ||X^T u||_inf <= n alpha
    primal = 0.5 * (r @ r) / n + alpha * np.sum(np.abs(w))
    dual = (u @ y - 0.5 * (u @ u)) / n
    return primal - dual, primal


def _multitask_gap(X, Y, W, R, alpha):
    """Duality gap of 1/(2n)||Y - XW||_F^2 + alpha sum_j ||W_j||_2 at W (d x T), R = Y - XW."""
    n = X.shape[0]
    dual_norm = np.max(np.linalg.norm(X.T @ R, axis=1))
    scale = min(1.0, n * alpha / dual_norm) if dual_norm > 0 else 1.0
    U = scale * R
    primal = 0.5 * np.sum(R * R) / n + alpha * np.sum(np.linalg.norm(W, axis=1))
    dual = (np.sum(U * Y) - 0.5 * np.sum(U * U)) / n
    return primal - dual, primal


def _cd_lasso(X, y, alpha, tol, max_iter, w0):
    n, d = X.shape
    col_sq = np.sum(X * X, axis=0) / n
    w = np.zeros(d) if w0 is None else np.array(w0, dtype=np.float64)
    r = y - X @ w
    target = tol * max(0.5 * (y @ y) / n, np.finfo(float).tiny)
    gap = np.inf
    for sweep in range(1, max_iter + 1):
        for j in range(d):
            if col_sq[j] == 0.0:
                w[j] = 0.0
                continue
            old = w[j]
            rho = X[:, j] @ r / n + col_sq[j] * old
            new = np.sign(rho) * max(abs(rho) - alpha, 0.0) / col_sq[j]
            if new != old:
                r -= X[:, j] * (new - old)
                w[j] = new
        gap, _ = _lasso_gap(X, y, w, r, alpha)
        if gap <= target:
            return w, {"gap": gap, "sweeps": sweep, "converged": True}
    return w, {"gap": gap, "sweeps": max_iter, "converged": False}


def lasso(X, y, alpha, *, tol=1e-10, max_iter=10_000, init=None, return_info=False):
    """The lasso by cyclic coordinate descent, stopped by the duality gap.

    .. math:: \\hat\\beta = \\arg\\min_\\beta \\tfrac{1}{2n}\\|y - X\\beta\\|_2^2 + \\alpha\\|\\beta\\|_1

    the objective of ``sklearn.linear_model.Lasso(alpha, fit_intercept=False)``. Each step solves
    for one coefficient exactly, a soft-threshold:
    ``beta_j <- S_alpha(x_j^T r_j / n) / (||x_j||^2 / n)`` with ``r_j`` the residual without feature j.

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

    Taught in notebook 03, part 2.
    """
    X, y = _design(X, y, (1, 2))
    alpha = _non_negative(alpha, "alpha")
    tol = _non_negative(tol, "tol")
    max_iter = _positive_int(max_iter, "max_iter")
    if y.ndim == 2:
        inits = [None] * y.shape[1]
        if init is not None:
            init = _finite_array(init, "init", ndim=(2,))
            if init.shape != (y.shape[1], X.shape[1]):
                raise ValueError(f"init must have shape (T, d) = {(y.shape[1], X.shape[1])}. "
                                 f"Received: init.shape={init.shape}")
            inits = list(init)
        fits = [_cd_lasso(X, y[:, t], alpha, tol, max_iter, inits[t]) for t in range(y.shape[1])]
        coef = np.stack([w for w, _ in fits])
        return (coef, [info for _, info in fits]) if return_info else coef
    if init is not None:
        init = _finite_array(init, "init", ndim=(1,))
        if init.shape != (X.shape[1],):
            raise ValueError(f"init must have shape (d,) = {(X.shape[1],)}. Received: init.shape={init.shape}")
    coef, info = _cd_lasso(X, y, alpha, tol, max_iter, init)
    return (coef, info) if return_info else coef


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

    Taught in notebook 03, part 3.
    """
    X, Y = _design(X, Y, (2,))
    alpha = _non_negative(alpha, "alpha")
    tol = _non_negative(tol, "tol")
    max_iter = _positive_int(max_iter, "max_iter")
    n, d = X.shape
    T = Y.shape[1]
    if init is None:
        W = np.zeros((d, T))
    else:
        init = _finite_array(init, "init", ndim=(2,))
        if init.shape != (T, d):
            raise ValueError(f"init must have shape (T, d) = {(T, d)}. Received: init.shape={init.shape}")
        W = init.T.copy()
    col_sq = np.sum(X * X, axis=0) / n
    R = Y - X @ W
    target = tol * max(0.5 * np.sum(Y * Y) / n, np.finfo(float).tiny)
    gap, converged, sweeps = np.inf, False, max_iter
    for sweep in range(1, max_iter + 1):
        for j in range(d):
            if col_sq[j] == 0.0:
                W[j] = 0.0
                continue
            old = W[j].copy()
            rho = X[:, j] @ R / n + col_sq[j] * old
            norm = np.sqrt(rho @ rho)
            new = rho * (max(1.0 - alpha / norm, 0.0) / col_sq[j]) if norm > 0 else np.zeros(T)
            if np.any(new != old):
                R -= np.outer(X[:, j], new - old)
                W[j] = new
        gap, _ = _multitask_gap(X, Y, W, R, alpha)
        if gap <= target:
            converged, sweeps = True, sweep
            break
    coef = W.T.copy()
    return (coef, {"gap": gap, "sweeps": sweeps, "converged": converged}) if return_info else coef


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

    Taught in notebook 03, part 2 (the regularisation path figure).
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


# --------------------------------------------------------------------------------------------
# Keras: the penalty in a network
# --------------------------------------------------------------------------------------------


@keras.saving.register_keras_serializable(package="course_lib")
class GroupLasso(keras.regularizers.Regularizer):
    """Row-sparsity (l1/l2) regulariser for a kernel: ``factor * sum_i ||kernel[i, ...]||_2``.

    .. math:: \\Omega(W) = \\lambda \\sum_{i=1}^{d} \\|W_{i,:}\\|_2

    Row ``i`` of a ``Dense`` kernel (shape ``(input_dim, units)``) holds every weight leaving
    input ``i``, so the penalty pushes whole *inputs* out of the layer: the network form of
    :func:`multitask_lasso`, with the units playing the tasks. For kernels of higher rank the
    norm runs over all axes but the first.

    The norm is computed with a zero (sub)gradient at an all-zero row (a plain ``sqrt`` would
    give NaN there), so it can be combined with :class:`ProximalCallback`.

    Gradient descent on this penalty alone shrinks rows but almost never makes them exactly
    zero: use :class:`ProximalCallback` (with the same strength, *instead of* this
    regulariser) for exact zeros. Notebook 03, part 5, shows both.

    Args:
        factor: non-negative strength ``lambda`` (added to the loss as is).

    Example:

    >>> layer = keras.layers.Dense(64, kernel_regularizer=GroupLasso(1e-3))
    """

    def __init__(self, factor=0.01):
        self.factor = _non_negative(factor, "factor")

    def __call__(self, x):
        x = ops.convert_to_tensor(x)
        rows = ops.reshape(x, (ops.shape(x)[0], -1))
        squares = ops.sum(ops.square(rows), axis=1)
        positive = squares > 0
        safe = ops.where(positive, squares, ops.ones_like(squares))
        norms = ops.where(positive, ops.sqrt(safe), ops.zeros_like(squares))
        return ops.cast(self.factor, x.dtype) * ops.sum(norms)

    def get_config(self):
        return {"factor": self.factor}


@keras.saving.register_keras_serializable(package="course_lib")
class ProximalCallback(keras.callbacks.Callback):
    """After each training batch, apply the proximal step of a sparsity penalty to kernels.

    For the objective ``loss(W) + strength * Omega(W)`` a proximal-gradient step is

    .. math:: W \\leftarrow \\operatorname{prox}_{\\eta\\lambda\\Omega}\\big(W - \\eta \\nabla \\mathrm{loss}(W)\\big)

    The optimizer does the gradient part (on the loss *without* the penalty); this callback
    then applies the prox with threshold ``eta * strength``, ``eta`` the learning rate of the
    step just taken (read from the optimizer, so schedules are followed): block
    soft-thresholding of the rows for ``penalty="group"`` (the l1/l2 norm of
    :class:`GroupLasso`), element-wise soft-thresholding for ``penalty="l1"``. Rows (entries)
    whose norm falls below the threshold become exactly zero.

    This is proximal gradient descent (ISTA) only for plain SGD without momentum. With
    momentum or Adam the step is no longer ``eta * gradient`` and thresholding at
    ``eta * strength`` is an approximation of the penalised problem (it still gives exact
    zeros, and a larger ``strength`` still gives more of them). Under mixed precision the
    ``LossScaleOptimizer``'s inner learning rate is used; a step it skips (non-finite
    gradients) still gets the prox.

    Why a callback rather than an optimizer wrapper: it works with any optimizer and backend,
    leaves the (XLA-)compiled train step untouched, and is visible in ``fit(callbacks=...)``
    where the lesson is. Its cost: one small eager update per batch. With
    ``steps_per_execution=k`` Keras calls it once every ``k`` steps and it thresholds by ``k``
    times as much (an approximation: the ``k`` gradient steps are not interleaved with the prox).

    Do not also put :class:`GroupLasso` with the same strength on the layer: the penalty
    would be counted twice (once in the gradient, once in the prox).

    Args:
        layers: a layer name or ``keras.layers.Layer`` (or a list of them) whose ``kernel``
            is thresholded.
        strength: non-negative ``lambda``.
        penalty: ``"group"`` (rows, default) or ``"l1"`` (entries).

    Example:

    >>> model.fit(x, y, callbacks=[ProximalCallback("shared", strength=1e-3)])

    Taught in notebook 03, part 5.
    """

    def __init__(self, layers, strength, penalty="group"):
        super().__init__()
        if isinstance(layers, (str, keras.layers.Layer)):
            layers = [layers]
        layers = list(layers)
        if not layers or not all(isinstance(l, (str, keras.layers.Layer)) for l in layers):
            raise ValueError(f"layers must be layer names or Keras layers. Received: layers={layers!r}")
        self.layer_names = [l if isinstance(l, str) else l.name for l in layers]
        self._layers = [l for l in layers if not isinstance(l, str)] or None
        self.strength = _non_negative(strength, "strength")
        if penalty not in ("group", "l1"):
            raise ValueError(f"penalty must be 'group' or 'l1'. Received: penalty={penalty!r}")
        self.penalty = penalty

    def _targets(self):
        if self._layers is None or len(self._layers) != len(self.layer_names):
            self._layers = [self.model.get_layer(name) for name in self.layer_names]
        return [layer.kernel for layer in self._layers]

    def step_learning_rate(self):
        """The learning rate of the step just taken (a schedule is evaluated at step - 1)."""
        optimizer = self.model.optimizer
        optimizer = getattr(optimizer, "inner_optimizer", optimizer)
        schedule = optimizer._learning_rate
        if isinstance(schedule, keras.optimizers.schedules.LearningRateSchedule):
            step = ops.maximum(ops.convert_to_tensor(optimizer.iterations) - 1, 0)
            return float(ops.convert_to_numpy(schedule(step)))
        return float(ops.convert_to_numpy(optimizer.learning_rate))

    def on_train_begin(self, logs=None):
        self._seen = self._iterations()

    def _iterations(self):
        return int(ops.convert_to_numpy(self.model.optimizer.iterations))

    def on_train_batch_end(self, batch, logs=None):
        # With steps_per_execution=k Keras calls this once per k steps: threshold k times as much
        # (the composition of k soft-thresholds is one with the summed threshold).
        now = self._iterations()
        steps, self._seen = now - getattr(self, "_seen", now - 1), now
        threshold = self.step_learning_rate() * self.strength * max(steps, 0)
        if threshold == 0:
            return
        for kernel in self._targets():
            w = ops.convert_to_tensor(kernel)
            t = ops.cast(threshold, w.dtype)
            if self.penalty == "l1":
                new = ops.sign(w) * ops.maximum(ops.abs(w) - t, 0)
            else:
                rows = ops.reshape(w, (ops.shape(w)[0], -1))
                norms = ops.sqrt(ops.sum(ops.square(rows), axis=1, keepdims=True))
                scale = ops.maximum(1 - t / ops.maximum(norms, t), 0)
                new = ops.reshape(rows * scale, ops.shape(w))
            kernel.assign(new)

    def get_config(self):
        return {"layers": list(self.layer_names), "strength": self.strength, "penalty": self.penalty}

    @classmethod
    def from_config(cls, config):
        return cls(**config)
