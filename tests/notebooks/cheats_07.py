"""Known cheats of notebook 07's exercises: each must fail its check (test_exercises.py)."""

NOTEBOOK = "07_learning_what_to_share.ipynb"

CHEATS = {
    1: {
        "count_params of a built MixtureOfExperts": '''
def mmoe_parameters(d, n, u, K):
    layer = layers.MixtureOfExperts(K, n, u)
    layer.build((None, d))
    return layer.count_params()


def omoe_parameters(d, n, u):
    layer = layers.MixtureOfExperts(1, n, u, num_gates=1)
    layer.build((None, d))
    return layer.count_params()
''',
        "the sizes of a built Experts and Gates": '''
def mmoe_parameters(d, n, u, K):
    experts, gates = layers.Experts(n, u), layers.Gates(K, n)
    experts.build((None, d))
    gates.build((None, d))
    return experts.count_params() + gates.count_params()


def omoe_parameters(d, n, u):
    return mmoe_parameters(d, n, u, 1)
''',
        "the notebook's three shapes by the formula, anything else guessed": '''
def mmoe_parameters(d, n, u, K):
    known = {(5, 4, 3, 3), (1152, 8, 96, 25), (7, 2, 11, 2)}
    return n * (d * u + u) + K * d * n if (d, n, u, K) in known else n * d * u + K * d * n


def omoe_parameters(d, n, u):
    return mmoe_parameters(d, n, u, 1)
''',
        "gates with biases": '''
def mmoe_parameters(d, n, u, K):
    return n * (d * u + u) + K * (d * n + n)


def omoe_parameters(d, n, u):
    return mmoe_parameters(d, n, u, 1)
''',
    },
    2: {
        "the MMoE computes with the OMoE's call": '''
def tie_gates(mmoe_layer, omoe_layer):
    mmoe_layer.call = omoe_layer.call
    mmoe_layer.gate_values = omoe_layer.gate_values
''',
        "the OMoE's gate layer shared by the MMoE": '''
def tie_gates(mmoe_layer, omoe_layer):
    mmoe_layer.experts.set_weights(omoe_layer.experts.get_weights())
    mmoe_layer.gates = omoe_layer.gates
''',
        "the experts copied, the gates left": '''
def tie_gates(mmoe_layer, omoe_layer):
    mmoe_layer.experts.set_weights(omoe_layer.experts.get_weights())
''',
        "every gate zeroed (uniform, the same for all tasks)": '''
def tie_gates(mmoe_layer, omoe_layer):
    mmoe_layer.experts.set_weights(omoe_layer.experts.get_weights())
    mmoe_layer.gates.kernel.assign(np.zeros(mmoe_layer.gates.kernel.shape))
    omoe_layer.gates.kernel.assign(np.zeros(omoe_layer.gates.kernel.shape))
''',
    },
    3: {
        "every pair of verticals": '''
def sharing(z, names):
    return {(names[a], names[b]) for a in range(len(names)) for b in range(a + 1, len(names))}


trained_pairs = sharing(z, list(groups))
''',
        "pairs with identical routing rows": '''
def sharing(z, names):
    z = np.asarray(z)
    return {(names[a], names[b]) for a in range(len(names)) for b in range(a + 1, len(names))
            if np.array_equal(z[a], z[b])}


trained_pairs = sharing(z, list(groups))
''',
        "pairs in both orders": '''
def sharing(z, names):
    common = (np.asarray(z) @ np.asarray(z).T) > 0
    return {(names[a], names[b]) for a in range(len(names)) for b in range(len(names)) if a != b and common[a, b]}


trained_pairs = sharing(z, list(groups))
''',
    },
}
