"""Known cheats of notebook 03a's exercises: shortcuts and common mistakes its checks must reject.

Exercise 3's "the solver at each alpha" is the cheat issue 12 found (second differences of 1e-15 passed
the old check); its check now spans a point where a feature enters the path.
"""

NOTEBOOK = "03a_lasso.ipynb"

CHEATS = {
    1: {
        'the lasso alone (drops the l2 term)': """
def beta_enet(x, y, lam1, lam2):
    return beta_l1(x, y, lam1)
""",
        'ridge alone (drops the l1 term)': """
def beta_enet(x, y, lam1, lam2):
    return beta_l2(x, y, lam2)
""",
        'soft-threshold at lam1, not lam1 / 2': """
def beta_enet(x, y, lam1, lam2):
    return sparsity.soft_threshold(x @ y, lam1) / (x @ x + lam2)
""",
    },
    2: {
        'one alpha for every k': """
def alpha_for_k(X, y, k, steps=60):
    return 1.2
""",
        'alpha_max / k': """
def alpha_for_k(X, y, k, steps=60):
    return sparsity.alpha_max(X, y) / k
""",
    },
    3: {
        'the solver at each alpha': """
def path_segment(alpha_ref, alphas):
    return np.stack([sparsity.lasso(X, y, a, tol=1e-14) for a in alphas], axis=1)
""",
        'a straight line between the solver at the two ends': """
def path_segment(alpha_ref, alphas):
    ends = np.stack([sparsity.lasso(X, y, a, tol=1e-14) for a in (alphas[0], alphas[-1])], axis=1)
    weight = (np.asarray(alphas) - alphas[0]) / (alphas[-1] - alphas[0])
    return ends[:, :1] * (1 - weight) + ends[:, 1:] * weight
""",
    },
}
