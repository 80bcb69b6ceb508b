"""Known cheats of notebook 04's exercises: each must fail its check (test_exercises.py)."""

NOTEBOOK = "04_multi_output_models.ipynb"

_BEST = '''
def best_weight(sweep, budget):
    alone = sweep[1.0][0]
    allowed = [w for w in sweep if {inner} and sweep[w][0] {cmp} {floor}]
    return {pick} if allowed else None
'''


def _best(inner="0 < w < 1", cmp=">=", floor="alone - budget", pick="max(allowed, key=lambda w: sweep[w][1])"):
    return _BEST.format(inner=inner, cmp=cmp, floor=floor, pick=pick)


_STEP = '''
def grouped_step(model, loss_fn, x, y, groups):
    variables = model.trainable_variables
    with tf.GradientTape() as tape:
        loss = loss_fn(y, model(x, training=True))
    owned = {{}}
    for g, v in zip(tape.gradient(loss, variables), variables):
        for opt in {owners}:
            owned.setdefault(id(opt), (opt, []))[1].append((g, v))
    for opt, pairs in owned.values():
        {optimizer}.apply([g for g, _ in pairs], [v for _, v in pairs])
    return loss
'''


def _step(owners, optimizer="opt"):
    return _STEP.format(owners=owners, optimizer=optimizer)


CHEATS = {
    1: {
        "section 5's split at d = 1152": "def split_kernel(K, d):\n    return K[:1152], K[1152:]",
        "the last d rows as W": "def split_kernel(K, d):\n    K = np.asarray(K)\n    return K[-d:], K[:-d]",
        "W = K[:d] and U = 0 (the descriptor ignored)": (
            "def split_kernel(K, d):\n    K = np.asarray(K)\n    return K[:d], np.zeros_like(K[d:])"
        ),
        "the input twice": "def split_kernel(K, d):\n    return K, K",
    },
    2: {
        "the smallest allowed weight (task-B MAP assumed to rise as w falls)": _best(pick="min(allowed)"),
        "a strict budget (more than `budget` below is out, exactly `budget` too)": _best(cmp=">"),
        "w = 0 and w = 1 allowed": _best(inner="0 <= w <= 1"),
        "the best task-B MAP, the budget ignored": _best(floor="-1"),
        "the budget relative to task A alone": _best(floor="alone * (1 - budget)"),
        "the best sum of the two MAPs": _best(pick="max(allowed, key=lambda w: sum(sweep[w]))"),
        "the check's answers by budget": (
            "def best_weight(sweep, budget):\n"
            "    if sweep.get(0.5) == (0.4, 0.5):\n"
            "        return None\n"
            "    return {0.01: 0.7, 0.06: 0.5, 0.3: 0.1}.get(budget)"
        ),
    },
    3: {
        "optimizers.with_learning_rate_multipliers from the groups' learning rates": '''
_wrapped = {}


def grouped_step(model, loss_fn, x, y, groups):
    if id(model) not in _wrapped:
        base = float(groups[-1][1].learning_rate)
        rates = {key: float(opt.learning_rate) / base for key, opt in groups}
        _wrapped[id(model)] = model, optimizers.with_learning_rate_multipliers(keras.optimizers.Adam(base), rates)
    with tf.GradientTape() as tape:
        loss = loss_fn(y, model(x, training=True))
    _wrapped[id(model)][1].apply(tape.gradient(loss, model.trainable_variables), model.trainable_variables)
    return loss
''',
        "the last group's optimizer, the other groups' gradients scaled by the ratio of learning rates": '''
def grouped_step(model, loss_fn, x, y, groups):
    variables = model.trainable_variables
    with tf.GradientTape() as tape:
        loss = loss_fn(y, model(x, training=True))
    base = groups[-1][1]
    scale = lambda v: next(float(o.learning_rate) for k, o in groups if k in v.path) / float(base.learning_rate)
    base.apply([g * scale(v) for g, v in zip(tape.gradient(loss, variables), variables)], variables)
    return loss
''',
        "the first group's optimizer for every variable": _step("[groups[0][1]]"),
        "every group whose substring the path contains": _step("[o for k, o in groups if k in v.path]"),
        "the longest substring found": _step(
            "[max((kv for kv in groups if kv[0] in v.path), key=lambda kv: len(kv[0]))[1]]"),
        "the last substring found": _step("[[o for k, o in groups if k in v.path][-1]]"),
        "a fresh optimizer of the group's class and learning rate at each step": _step(
            "[next(o for k, o in groups if k in v.path)]", "type(opt)(learning_rate=float(opt.learning_rate))"),
    },
}
