"""The FCN's trunk with one sigmoid head per topic vertical: the course's first multi-task model.

Taught in notebook 03b (the heads) and the multi-task notebooks that compare against it. The 25
verticals of the vocabulary partition the 3,862 labels; each gets its own head and its own
task, with its own loss::

    h       = trunk(mean_rgb, mean_audio)                # the FCN without its output layer
    p_g     = sigmoid(h W_g + b_g)                       # one head per vertical g
    labels  = LabelOrder(p_1, ..., p_25)                 # (batch, 3862), label-id order
    loss    = sum_g w_g BCE_g(y[:, g], p_g)              # BCE_g: mean over the labels of g

With ``weighting="size"`` (default) ``w_g = |g| / 3862`` and the total is the FCN's binary
cross-entropy, split by vertical (the same objective, reported per task). With
``weighting="uniform"``, ``w_g = 1 / 25``: every vertical counts the same, so the small ones
(real estate, 6 labels) weigh as much as games (734).
"""

import keras

from course_lib import layers
from course_lib.data import load_vocabulary, spec
from course_lib.models.fcn import trunk
from course_lib.models.registry import Task, register_model

WEIGHTINGS = ("size", "uniform")


def vertical_tasks(hidden_units=1024, dropout=0.2, weighting="size", seed=0, **_):
    """``{vertical: Task(BCE, w_g, label ids)}`` and ``labels`` measured only (no loss of its own)."""
    if weighting not in WEIGHTINGS:
        raise ValueError(f"weighting must be one of {', '.join(WEIGHTINGS)}. Received: weighting={weighting!r}")
    groups = load_vocabulary().vertical_groups()
    def weight(ids):
        return len(ids) / spec.NUM_CLASSES if weighting == "size" else 1 / len(groups)

    tasks = {name: Task(weight=weight(ids), label_ids=tuple(int(i) for i in ids)) for name, ids in groups.items()}
    return {**tasks, "labels": Task(loss=None)}


@register_model("vertical_heads", tasks=vertical_tasks)
def vertical_heads(hidden_units=1024, dropout=0.2, weighting="size", head_bias="zeros", seed=0):
    """The FCN's trunk, one head per vertical (a task each), and ``labels`` in label-id order.

    Args:
        hidden_units, dropout: of the trunk, as in :func:`course_lib.models.fcn.fcn`.
        weighting: the verticals' loss weights, ``"size"`` (``|g| / 3862``, default) or
            ``"uniform"`` (``1 / 25``); read by :func:`vertical_tasks`.
        head_bias: ``"zeros"`` (default) or ``"prior"``: the heads start at the labels' log-prior
            odds (see :class:`~course_lib.layers.VerticalHeads`).
        seed: the trunk's layers get ``seed`` to ``seed + 5``, head ``i`` gets ``seed + 6 + i``.

    Input shape:
        A dict ``{"mean_rgb": (batch, 1024), "mean_audio": (batch, 128)}``.

    Output shape:
        A dict: ``{vertical: (batch, |vertical|)}`` for the 25 verticals, and
        ``"labels": (batch, 3862)``; float32 probabilities, also under ``mixed_float16``.

    Example:

    >>> model = vertical_heads(hidden_units=16)
    >>> outputs = model({"mean_rgb": keras.ops.zeros((2, 1024)), "mean_audio": keras.ops.zeros((2, 128))})
    >>> len(outputs), outputs["labels"].shape, outputs["real_estate"].shape
    (26, TensorShape([2, 3862]), TensorShape([2, 6]))
    """
    vertical_tasks(weighting=weighting)  # validates
    groups = load_vocabulary().vertical_groups()
    inputs, hidden, seeds = trunk(hidden_units, dropout, seed)
    per_vertical = layers.VerticalHeads(groups, seed=next(seeds), head_bias=head_bias, name="heads")(hidden)
    labels = layers.LabelOrder(groups, num_classes=spec.NUM_CLASSES, name="labels")(per_vertical)
    return keras.Model(inputs, {**per_vertical, "labels": labels}, name="vertical_heads")
