"""Known cheats of notebook 06's exercises: each must fail its check (test_exercises.py)."""

NOTEBOOK = "06_weighting_tasks.ipynb"

_C = '    c = 0.5 if kind == "regression" else 1.0\n'
_GAMMA = "def two_task_gamma(g1, g2):\n    d = g1 - g2\n    return float({})"
_MGDA = '''
def common_descent(G):
    gram = tf.constant(G @ G.T, tf.float32)
    alpha = tf.function(lambda m: balancing.min_norm_weights(m, steps=500))(gram).numpy().astype(np.float64)
    return {}
'''

CHEATS = {
    1: {
        "minimize_scalar on the notebook's term, as the check does": '''
def optimal_sigma2(L, kind):
    best = optimize.minimize_scalar(lambda s: term(s, L, kind), bounds=(-12, 12), method="bounded", options={"xatol": 1e-9})
    return float(np.exp(best.x))
''',
        "minimize_scalar on the term written out in float64": "def optimal_sigma2(L, kind):\n" + _C + '''
    best = optimize.minimize_scalar(lambda s: c * np.exp(-s) * L + s / 2, bounds=(-30, 30), method="bounded",
                                    options={"xatol": 1e-12})
    return float(np.exp(best.x))
''',
        "fminbound on the term written out in float64": "def optimal_sigma2(L, kind):\n" + _C + (
            "    return float(np.exp(optimize.fminbound(lambda s: c * np.exp(-s) * L + s / 2, -30, 30, xtol=1e-12)))"
        ),
        "a fine grid over s, the term written out": "def optimal_sigma2(L, kind):\n" + _C + '''
    s = np.linspace(-20, 20, 2_000_001)
    return float(np.exp(s[np.argmin(c * np.exp(-s) * L + s / 2)]))
''',
        "sigma^2 = L for both kinds": "def optimal_sigma2(L, kind):\n    return L",
        "the kinds' factors swapped": (
            'def optimal_sigma2(L, kind):\n    return 2 * (1.0 if kind == "regression" else 0.5) * L'
        ),
        "sigma, not sigma^2": "def optimal_sigma2(L, kind):\n" + _C + "    return float(np.sqrt(2 * c * L))",
        "the minimum of the term (section 5's profile), not where it is": (
            "def optimal_sigma2(L, kind):\n" + _C + "    return float(0.5 + 0.5 * np.log(L / c / 2))"
        ),
    },
    2: {
        "balancing.min_norm_two": "def two_task_gamma(g1, g2):\n    return float(balancing.min_norm_two(g1, g2))",
        "balancing.min_norm_weights on the 2 x 2 Gram matrix": '''
def two_task_gamma(g1, g2):
    gram = np.array([[g1 @ g1, g1 @ g2], [g1 @ g2, g2 @ g2]])
    return float(balancing.min_norm_weights(gram)[0])
''',
        "the notebook's brute_force_gamma": "def two_task_gamma(g1, g2):\n    return float(brute_force_gamma(g1, g2))",
        "a grid search over [0, 1]": '''
def two_task_gamma(g1, g2):
    gammas = np.linspace(0, 1, 100_001)
    return float(gammas[np.argmin([np.sum((g * g1 + (1 - g) * g2) ** 2) for g in gammas])])
''',
        "minimize_scalar on [0, 1]": '''
def two_task_gamma(g1, g2):
    best = optimize.minimize_scalar(lambda g: np.sum((g * g1 + (1 - g) * g2) ** 2), bounds=(0, 1), method="bounded",
                                    options={"xatol": 1e-12})
    return float(best.x)
''',
        "min_norm_two imported by name before the check": '''
from course_lib.balancing import min_norm_two as two_task_closed_form


def two_task_gamma(g1, g2):
    return float(two_task_closed_form(g1, g2))
''',
        "a ternary search by hand, 200 steps": '''
def two_task_gamma(g1, g2):
    lo, hi = 0.0, 1.0
    norm2 = lambda g: np.sum((g * g1 + (1 - g) * g2) ** 2)
    for _ in range(200):
        a, b = lo + (hi - lo) / 3, hi - (hi - lo) / 3
        lo, hi = (lo, b) if norm2(a) < norm2(b) else (a, hi)
    return (lo + hi) / 2
''',
        "the parabola's vertex, not clipped": _GAMMA.format("-(d @ g2) / (d @ d)"),
        "the vertex for g2's weight (1 - gamma)": _GAMMA.format("np.clip((d @ g1) / (d @ d), 0, 1)"),
        "always the midpoint": "def two_task_gamma(g1, g2):\n    return 0.5",
    },
    3: {
        "minus the mean gradient": "def common_descent(G):\n    return -G.mean(0)",
        "minus the smallest gradient": "def common_descent(G):\n    return -G[np.argmin(np.linalg.norm(G, axis=1))]",
        "MGDA's direction at half its length": _MGDA.format("-0.5 * (alpha @ G)"),
        "MGDA's combination without the minus": _MGDA.format("alpha @ G"),
        "a short direction solving G d = -1 (least squares)": (
            "def common_descent(G):\n    return -1e-3 * np.linalg.lstsq(G, np.ones(len(G)), rcond=None)[0]"
        ),
        "PCGrad's sum of the projected gradients": '''
def common_descent(G):
    projected = np.array(G, dtype=np.float64)
    for i in range(len(G)):
        for j in range(len(G)):
            if j != i and projected[i] @ G[j] < 0:
                projected[i] -= projected[i] @ G[j] / (G[j] @ G[j]) * G[j]
    return -projected.sum(0)
''',
    },
}
