"""Known cheats of notebook 03b's exercises: shortcuts and common mistakes its checks must reject.
"""

NOTEBOOK = "03b_shared_sparsity.ipynb"

CHEATS = {
    1: {
        'the l1 prox': """
def prox_linf(v, t):
    return sparsity.soft_threshold(v, t)
""",
        'the l2 prox': """
def prox_linf(v, t):
    return sparsity.block_soft_threshold(v[None, :], t)[0]
""",
        'clipping at t': """
def prox_linf(v, t):
    return np.clip(v, -t, t)
""",
    },
    2: {
        'block soft-threshold only': """
def prox_sparse_group(v, t1, t2):
    return sparsity.block_soft_threshold(v[None, :], t1 + t2)[0]
""",
        'soft-threshold only': """
def prox_sparse_group(v, t1, t2):
    return sparsity.soft_threshold(v, t1 + t2)
""",
        'the two steps in the wrong order': """
def prox_sparse_group(v, t1, t2):
    return sparsity.soft_threshold(sparsity.block_soft_threshold(v[None, :], t2)[0], t1)
""",
    },
    3: {
        "part 5's shared survivors for every vertical": """
def vertical_probe(vertical):
    return (prox_rows > 0).astype(np.float64)


probes = {vertical: vertical_probe(vertical) for vertical in probed}
audio_share = {vertical: float(np.mean(is_audio[beta != 0])) for vertical, beta in probes.items()}
""",
        'one fixed alpha for every vertical': """
def vertical_probe(vertical):
    y_v = (Y_train[:2000, groups[vertical]].sum(1) > 0).astype(np.float64)
    return sparsity.lasso(X_probe, y_v - y_v.mean(), 0.01)


probes = {vertical: vertical_probe(vertical) for vertical in probed}
audio_share = {vertical: float(np.mean(is_audio[beta != 0])) for vertical, beta in probes.items()}
""",
        'raw features, not standardised': """
def vertical_probe(vertical):
    X_raw = X_train[:2000].astype(np.float64)
    y_v = (Y_train[:2000, groups[vertical]].sum(1) > 0).astype(np.float64)
    y_v -= y_v.mean()
    return sparsity.lasso(X_raw, y_v, 0.5 * sparsity.alpha_max(X_raw, y_v))


probes = {vertical: vertical_probe(vertical) for vertical in probed}
audio_share = {vertical: float(np.mean(is_audio[beta != 0])) for vertical, beta in probes.items()}
""",
    },
}
