"""Tests for course_lib.sparsity: closed forms, proximal operators (course_lib.proximal, through the
names sparsity re-exports, as the notebooks call them), solvers against scikit-learn, NumPy only (the Keras pieces are tested in test_regularizers.py, test_callbacks.py, test_ops.py)."""

import doctest
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import optimize
from sklearn import linear_model

from course_lib import proximal
from course_lib import sparsity as sp

ROOT = Path(__file__).resolve().parents[1]
finite = st.floats(-10, 10, allow_nan=False, allow_infinity=False)


def problem(n, d, T=None, seed=0, support=5):
    """A random regression with a sparse truth (shared support across tasks when T is given)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    rows = rng.permutation(d)[:support]
    shape = (d,) if T is None else (d, T)
    truth = np.zeros(shape)
    truth[rows] = 2 * rng.standard_normal((support,) + shape[1:])
    y = X @ truth + 0.5 * rng.standard_normal((n,) + shape[1:])
    return X, y


# --- one feature: the closed forms of the notebook's part 1 ------------------------------------


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("lam", [0.0, 0.5, 5.0, 50.0])
def test_one_feature_closed_forms_match_brute_force(seed, lam):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(20)
    y = (seed - 2.5) * 0.4 * x + rng.standard_normal(20)  # negative, small and positive slopes
    l1 = sp.soft_threshold(x @ y, lam / 2) / (x @ x)  # argmin ||y - b x||^2 + lam |b|
    l2 = (x @ y) / (x @ x + lam)  # argmin ||y - b x||^2 + lam b^2
    for closed, penalty in ((l1, abs), (l2, np.square)):
        brute = optimize.minimize_scalar(lambda b: np.sum((y - b * x) ** 2) + lam * penalty(b),
                                         bounds=(-20, 20), method="bounded", options={"xatol": 1e-10})
        np.testing.assert_allclose(closed, brute.x, atol=1e-6)


def test_l1_reaches_exact_zero_at_finite_lambda_l2_does_not():
    x = np.array([1.0, 2.0, 3.0])
    y = np.array([1.0, 2.5, 2.0])
    lam_zero = 2 * abs(x @ y)
    assert sp.soft_threshold(x @ y, lam_zero / 2) == 0
    assert sp.soft_threshold(x @ y, 0.99 * lam_zero / 2) != 0
    assert (x @ y) / (x @ x + 1e6) != 0


# --- proximal operators --------------------------------------------------------------------------


def test_soft_threshold_values():
    np.testing.assert_array_equal(sp.soft_threshold(np.array([-3.0, -0.5, 0.2, 2.0]), 1.0),
                                  [-2.0, 0.0, 0.0, 1.0])


@settings(max_examples=60, deadline=None)
@given(x=finite, t=st.floats(0, 10))
def test_soft_threshold_is_the_prox_of_l1(x, t):
    z = float(sp.soft_threshold(x, t))
    brute = optimize.minimize_scalar(lambda v: 0.5 * (v - x) ** 2 + t * abs(v), bounds=(-25, 25),
                                     method="bounded", options={"xatol": 1e-10})
    assert abs(z - brute.x) < 1e-5
    assert abs(z) <= abs(x) and (z == 0 or np.sign(z) == np.sign(x))


@settings(max_examples=60, deadline=None)
@given(W=hnp.arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(1, 4)), elements=finite),
       t=st.floats(0, 10))
def test_block_soft_threshold_shrinks_each_row_norm_by_t(W, t):
    P = sp.block_soft_threshold(W, t)
    norms, new = np.linalg.norm(W, axis=1), np.linalg.norm(P, axis=1)
    np.testing.assert_allclose(new, np.maximum(norms - t, 0), atol=1e-9)
    keep = new > 0
    # same direction: P_j is a non-negative multiple of W_j
    np.testing.assert_allclose(P[keep] * norms[keep, None], W[keep] * new[keep, None], atol=1e-8)
    np.testing.assert_array_equal(P[~keep], 0.0)


@settings(max_examples=30, deadline=None)
@given(W=hnp.arrays(np.float64, (4, 3), elements=finite), t=st.floats(0.01, 5), seed=st.integers(0, 99))
def test_block_soft_threshold_minimises_the_prox_objective(W, t, seed):
    def objective(Z):
        return 0.5 * np.sum((Z - W) ** 2) + t * np.sum(np.linalg.norm(Z, axis=1))

    P = sp.block_soft_threshold(W, t)
    rng = np.random.default_rng(seed)
    for _ in range(20):
        assert objective(P) <= objective(P + 0.1 * rng.standard_normal(W.shape)) + 1e-12


def test_block_soft_threshold_with_one_column_is_soft_threshold():
    x = np.linspace(-3, 3, 13)
    np.testing.assert_allclose(sp.block_soft_threshold(x[:, None], 1.2)[:, 0], sp.soft_threshold(x, 1.2))


def test_group_norm():
    W = np.array([[3.0, -4.0], [0.0, 0.0], [1.0, 1.0]])
    assert sp.group_norm(W) == pytest.approx(5 + np.sqrt(2))
    assert sp.group_norm(W, q=1) == pytest.approx(9.0)
    assert sp.group_norm(W, q=np.inf) == pytest.approx(5.0)


# --- solvers against scikit-learn ---------------------------------------------------------------

SHAPES = [(60, 10), (30, 80), (200, 40), (15, 150)]  # includes d > n


def sk_lasso(X, y, alpha):
    return linear_model.Lasso(alpha=alpha, fit_intercept=False, tol=1e-14, max_iter=200_000).fit(X, y).coef_


def sk_multitask(X, Y, alpha):
    model = linear_model.MultiTaskLasso(alpha=alpha, fit_intercept=False, tol=1e-14, max_iter=200_000)
    return model.fit(X, Y).coef_


@pytest.mark.parametrize("n, d", SHAPES)
@pytest.mark.parametrize("fraction", [0.5, 0.1, 0.02])
def test_lasso_matches_sklearn(n, d, fraction):
    X, y = problem(n, d, seed=n + d)
    alpha = fraction * sp.alpha_max(X, y)
    coef, info = sp.lasso(X, y, alpha, tol=1e-12, return_info=True)
    assert info["converged"] and coef.shape == (d,)
    np.testing.assert_allclose(coef, sk_lasso(X, y, alpha), atol=1e-5)


@pytest.mark.parametrize("n, d", SHAPES)
@pytest.mark.parametrize("fraction", [0.5, 0.1, 0.02])
def test_multitask_lasso_matches_sklearn(n, d, fraction):
    X, Y = problem(n, d, T=4, seed=n * d)
    alpha = fraction * sp.alpha_max(X, Y, multitask=True)
    coef, info = sp.multitask_lasso(X, Y, alpha, tol=1e-12, return_info=True)
    assert info["converged"] and coef.shape == (4, d)
    np.testing.assert_allclose(coef, sk_multitask(X, Y, alpha), atol=1e-5)


def test_lasso_satisfies_kkt_and_reports_an_honest_gap():
    X, y = problem(40, 60, seed=3)
    n, alpha = len(y), 0.05 * sp.alpha_max(X, y)
    coef, info = sp.lasso(X, y, alpha, tol=1e-12, return_info=True)
    correlation = X.T @ (y - X @ coef) / n
    active = coef != 0
    np.testing.assert_allclose(correlation[active], alpha * np.sign(coef[active]), atol=1e-5)
    assert np.all(np.abs(correlation[~active]) <= alpha + 1e-6)
    assert 0 <= info["gap"] <= 1e-12 * (y @ y) / (2 * n)
    # a loose tolerance stops earlier with a larger (still bounded) gap
    loose, loose_info = sp.lasso(X, y, alpha, tol=1e-3, return_info=True)
    assert loose_info["sweeps"] < info["sweeps"] and loose_info["gap"] <= 1e-3 * (y @ y) / (2 * n)

    def objective(b):
        return np.sum((y - X @ b) ** 2) / (2 * n) + alpha * np.sum(np.abs(b))

    assert objective(loose) - objective(coef) <= loose_info["gap"] + 1e-12


def test_lasso_with_2d_targets_fits_each_column():
    X, Y = problem(50, 20, T=3, seed=5)
    coef = sp.lasso(X, Y, 0.1)
    assert coef.shape == (3, 20)
    np.testing.assert_allclose(coef[1], sp.lasso(X, Y[:, 1], 0.1))
    np.testing.assert_allclose(coef, sk_lasso(X, Y, 0.1), atol=1e-5)


def test_alpha_max_is_where_everything_becomes_zero():
    X, y = problem(40, 30, seed=2)
    top = sp.alpha_max(X, y) * (1 + 1e-12)  # (exactly at alpha_max round-off decides)
    assert np.all(sp.lasso(X, y, top) == 0) and np.any(sp.lasso(X, y, 0.99 * top) != 0)
    X, Y = problem(40, 30, T=3, seed=2)
    top = sp.alpha_max(X, Y, multitask=True) * (1 + 1e-12)
    assert np.all(sp.multitask_lasso(X, Y, top) == 0)
    assert np.any(sp.multitask_lasso(X, Y, 0.99 * top) != 0)


def test_multitask_lasso_zeros_whole_rows():
    X, Y = problem(50, 40, T=5, seed=9)
    coef = sp.multitask_lasso(X, Y, 0.3 * sp.alpha_max(X, Y, multitask=True))
    zero_entries = coef == 0
    assert np.all(zero_entries.all(axis=0) | ~zero_entries.any(axis=0))  # a column of coef_ is all or nothing
    assert 0 < zero_entries.all(axis=0).sum() < 40


def test_lasso_path_matches_sklearn():
    X, y = problem(50, 12, seed=4)
    alphas, coefs = sp.lasso_path(X, y, n_alphas=15, tol=1e-12)
    assert coefs.shape == (12, 15) and np.all(np.diff(alphas) < 0)
    sk_alphas, sk_coefs, _ = linear_model.lasso_path(X, y, alphas=alphas, tol=1e-14, max_iter=200_000)
    np.testing.assert_allclose(coefs, sk_coefs, atol=1e-5)
    assert np.all(coefs[:, 0] == 0)  # the grid starts at alpha_max


def test_warm_start_gives_the_same_solution():
    X, y = problem(30, 50, seed=8)
    cold = sp.lasso(X, y, 0.05, tol=1e-12)
    warm = sp.lasso(X, y, 0.05, tol=1e-12, init=sp.lasso(X, y, 0.2))
    np.testing.assert_allclose(warm, cold, atol=1e-6)


# --- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda X, y: sp.lasso(X, y[:-1], 0.1), "y.shape"),
        (lambda X, y: sp.lasso(X, y, -0.1), "alpha"),
        (lambda X, y: sp.lasso(np.where(X > 2, np.nan, X), y, 0.1), "X"),
        (lambda X, y: sp.lasso(X, np.where(y > 1, np.inf, y), 0.1), "y"),
        (lambda X, y: sp.lasso(X[0], y, 0.1), "X.shape"),
        (lambda X, y: sp.lasso(X, y, 0.1, tol=-1), "tol"),
        (lambda X, y: sp.lasso(X, y, 0.1, max_iter=0), "max_iter"),
        (lambda X, y: sp.lasso(X, y, 0.1, init=np.zeros(3)), "init.shape"),
        (lambda X, y: sp.multitask_lasso(X, y, 0.1), "y.shape"),
        (lambda X, y: sp.multitask_lasso(X, np.c_[y, y][:-2], 0.1), "y.shape"),
        (lambda X, y: sp.multitask_lasso(X, np.c_[y, y], float("nan")), "alpha"),
        (lambda X, y: sp.soft_threshold(y, -1.0), "t"),
        (lambda X, y: sp.block_soft_threshold(y, 1.0), "W.shape"),
        (lambda X, y: sp.block_soft_threshold(X, -1.0), "t"),
        (lambda X, y: sp.lasso_path(X, y, alphas=[0.1, -0.1]), "alphas"),
    ],
)
def test_bad_input_raises_value_error_naming_the_argument(call, name):
    X, y = problem(20, 5, seed=1)
    with pytest.raises(ValueError, match=f"Received: (.*, )?{re.escape(name)}="):
        call(X, y)


# --- NumPy only -------------------------------------------------------------------------------


def test_importing_and_solving_loads_no_tensorflow():
    code = ("import sys; import course_lib.sparsity as sp; sp.lasso([[1.0], [2.0]], [1.0, 2.0], 0.1); "
            "sp.multitask_lasso([[1.0], [2.0]], [[1.0], [2.0]], 0.1); sp.block_soft_threshold([[1.0, 2.0]], 0.5); "
            "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_the_proximal_operators_are_importable_from_sparsity():
    # notebooks 03a and 03b call sparsity.soft_threshold, sparsity.block_soft_threshold, sparsity.group_norm
    for name in proximal.__all__:
        assert name in sp.__all__ and getattr(sp, name) is getattr(proximal, name), name


@pytest.mark.parametrize("module", [sp, proximal], ids=["sparsity", "proximal"])
def test_docstring_examples(module):
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
