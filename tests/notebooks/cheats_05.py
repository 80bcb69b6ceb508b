"""Known cheats of notebook 05's exercises: each must fail its check (test_exercises.py)."""

NOTEBOOK = "05_soft_sharing_cross_stitch.ipynb"

_SCALE = "def ones_scale(T, rho):\n    return float({})"

CHEATS = {
    1: {
        "the library's starts (cross_stitch_matrix)": '''
from course_lib.layers import cross_stitch


def extreme_alphas(T):
    return cross_stitch.cross_stitch_matrix(T, "identity"), cross_stitch.cross_stitch_matrix(T, "uniform")
''',
        "a convex start at self_weight 1 and 1/T": '''
from course_lib.layers import cross_stitch


def extreme_alphas(T):
    return cross_stitch.cross_stitch_matrix(T, "convex", 1.0), cross_stitch.cross_stitch_matrix(T, "convex", 1 / T)
''',
        "the alphas of CrossStitch units started as identity and uniform": '''
def extreme_alphas(T):
    starts = []
    for init in ("identity", "uniform"):
        unit = layers.CrossStitch(granularity="layer", init=init)
        unit([np.zeros((1, 1), "float32")] * T)
        starts.append(unit.mixing())
    return tuple(starts)
''',
        "hard sharing as the sum (all ones)": 'def extreme_alphas(T):\n    return np.eye(T), np.ones((T, T))',
        "hard sharing as task 0's activations for every task": (
            'def extreme_alphas(T):\n    return np.eye(T), np.tile(np.eye(T)[:1], (T, 1))'
        ),
        "the two-task matrices whatever T": 'def extreme_alphas(T):\n    return np.eye(2), np.full((2, 2), 0.5)',
    },
    2: {
        "alpha assigned by hand after a default start": '''
unit_80 = layers.CrossStitch(granularity="channel")
unit_80([np.zeros((1, 6), "float32")] * 3)
unit_80.alpha.assign(np.repeat((0.7 * np.eye(3) + 0.1)[:, :, None], 6, axis=2).astype("float32"))
''',
        "a subclass that assigns the 80 % start in build": '''
class Start80(layers.CrossStitch):
    def build(self, input_shape):
        super().build(input_shape)
        self.alpha.assign(np.repeat((0.7 * np.eye(3) + 0.1)[:, :, None], input_shape[0][-1], axis=2).astype("float32"))


unit_80 = Start80(granularity="channel")
''',
        "one matrix for every channel (granularity layer)": (
            'unit_80 = layers.CrossStitch(granularity="layer", init="convex", self_weight=0.8)'
        ),
        "the default start (0.9)": 'unit_80 = layers.CrossStitch(granularity="channel")',
        "self_weight 0.8 with a uniform start": (
            'unit_80 = layers.CrossStitch(granularity="channel", init="uniform", self_weight=0.8)'
        ),
        "the weight across as self_weight": 'unit_80 = layers.CrossStitch(granularity="channel", self_weight=0.1)',
    },
    3: {
        "a simulation with the notebook's activations": '''
def ones_scale(T, rho):
    xs = activations(T, batch=4000, width=64, correlation=rho, seed=0)
    return float(np.std(np.sum(xs, axis=0)) / np.mean([np.std(x) for x in xs]))
''',
        "the check's own simulation (same draws)": '''
def ones_scale(T, rho):
    xs = activations(T, batch=4000, width=32, correlation=rho, seed=T)
    return float(np.std(np.asarray(layers.CrossStitch(init="ones", granularity="layer")(xs)[0])) / np.mean([np.std(x) for x in xs]))
''',
        "independent tasks (sqrt T) whatever rho": _SCALE.format("np.sqrt(T)"),
        "perfectly correlated tasks (T) whatever rho": _SCALE.format("T"),
        "every ordered pair and the task itself (T^2 rho)": _SCALE.format("np.sqrt(T + T**2 * rho)"),
        "each pair counted once": _SCALE.format("np.sqrt(T + T * (T - 1) / 2 * rho)"),
        "the variance, not the standard deviation": _SCALE.format("T + T * (T - 1) * rho"),
    },
}
