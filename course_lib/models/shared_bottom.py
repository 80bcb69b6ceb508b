"""The shared-bottom model: the FCN's trunk, then one tower and one head per topic vertical.

Taught in notebook 04 (hard parameter sharing, section 2) and the baseline of notebooks 05-07
(the "shared-bottom model" of the MMoE paper, Ma et al. 2018, with the 25 verticals as tasks)::

    h       = trunk(mean_rgb, mean_audio)                # shared: the FCN without its output layer
    t_g     = relu(h A_g + a_g)                          # task-specific tower of vertical g
    p_g     = sigmoid(t_g W_g + b_g)                     # its head: one probability per label of g
    labels  = LabelOrder(p_1, ..., p_25)                 # (batch, 3862), label-id order
    loss    = sum_g w_g BCE_g(y[:, g], p_g)              # w_g: |g| / 3862 or 1 / 25

Without towers (``t_g = h``) this is :mod:`~course_lib.models.vertical_heads`, and with size
weights that is the FCN itself: linear heads on one shared representation are the FCN's output
layer cut into 25 pieces. The towers are what the verticals do not share. Their width defaults to
the one that gives the model the FCN's parameter count (:func:`matching_tower_units`: 134 for a
1,024-unit trunk), so the two compare at equal parameters.
"""

import keras
from keras import layers

from course_lib import layers as course_layers
from course_lib.data import load_vocabulary, spec
from course_lib.models.fcn import _check_positive, trunk
from course_lib.models.registry import register_model
from course_lib.models.vertical_heads import vertical_tasks


def matching_tower_units(hidden_units=1024, num_classes=spec.NUM_CLASSES, num_verticals=25):
    """Tower width ``t`` at which the towers and heads have the FCN output layer's parameters.

    The FCN's output layer has ``h C + C`` parameters; 25 towers and their heads ``G (h + 1) t +
    t C + C``. Equal for ``t = h C / (G (h + 1) + C)``, rounded (at least 1).

    >>> matching_tower_units(1024), matching_tower_units(64)
    (134, 45)
    """
    return max(1, round(hidden_units * num_classes / (num_verticals * (hidden_units + 1) + num_classes)))


def shared_bottom_tasks(hidden_units=1024, tower_units=None, dropout=0.2, weighting="size", seed=0):
    """The verticals' tasks, as :func:`course_lib.models.vertical_heads.vertical_tasks` declares them."""
    return vertical_tasks(hidden_units=hidden_units, dropout=dropout, weighting=weighting, seed=seed)


@register_model("shared_bottom", tasks=shared_bottom_tasks)
def shared_bottom(hidden_units=1024, tower_units=None, dropout=0.2, weighting="size", seed=0):
    """The FCN's trunk, a ReLU tower and a sigmoid head per vertical, and ``labels`` in label-id order.

    Args:
        hidden_units, dropout: of the trunk, as in :func:`course_lib.models.fcn.fcn`.
        tower_units: width of every tower. Default ``None``: :func:`matching_tower_units`, the FCN's
            parameter count.
        weighting: the verticals' loss weights, ``"size"`` (``|g| / 3862``, default) or
            ``"uniform"`` (``1 / 25``).
        seed: the trunk's layers get ``seed`` to ``seed + 5``; vertical ``i``'s tower
            ``seed + 6 + 2 i`` and its head ``seed + 7 + 2 i``.

    Input shape:
        A dict ``{"mean_rgb": (batch, 1024), "mean_audio": (batch, 128)}``.

    Output shape:
        A dict: ``{vertical: (batch, |vertical|)}`` for the 25 verticals and ``"labels": (batch,
        3862)``; float32 probabilities, also under ``mixed_float16``. The layers are named
        ``tower_<vertical>`` and ``head_<vertical>`` (for per-group learning rates, see
        :mod:`course_lib.optimizers`).

    Example:

    >>> model = shared_bottom(hidden_units=16, tower_units=8)
    >>> outputs = model({"mean_rgb": keras.ops.zeros((2, 1024)), "mean_audio": keras.ops.zeros((2, 128))})
    >>> len(outputs), outputs["labels"].shape, outputs["real_estate"].shape
    (26, TensorShape([2, 3862]), TensorShape([2, 6]))
    """
    shared_bottom_tasks(weighting=weighting)  # validates
    groups = load_vocabulary().vertical_groups()
    tower_units = matching_tower_units(hidden_units, spec.NUM_CLASSES, len(groups)) if tower_units is None else tower_units
    _check_positive(tower_units=tower_units)
    inputs, hidden, seeds = trunk(hidden_units, dropout, seed)
    per_vertical = {}
    for name, ids in groups.items():
        tower = layers.Dense(tower_units, activation="relu", name=f"tower_{name}",
                             kernel_initializer=keras.initializers.GlorotNormal(seed=next(seeds)))(hidden)
        # float32 heads: probabilities and losses stay exact under mixed_float16.
        per_vertical[name] = layers.Dense(len(ids), activation="sigmoid", dtype="float32", name=f"head_{name}",
                                          kernel_initializer=keras.initializers.GlorotNormal(seed=next(seeds)))(tower)
    labels = course_layers.LabelOrder(groups, num_classes=spec.NUM_CLASSES, name="labels")(per_vertical)
    return keras.Model(inputs, {**per_vertical, "labels": labels}, name="shared_bottom")
