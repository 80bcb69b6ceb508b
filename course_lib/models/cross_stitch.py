"""Cross-stitch networks (Misra et al., CVPR 2016) on YouTube-8M: one network per chosen vertical.

Taught in notebook 05. Each chosen vertical is a task with its own network on the two features;
after every hidden layer a :class:`course_lib.layers.CrossStitch` unit mixes the tasks'
activations, and each task ends in its own sigmoid head::

    x          = [mean_rgb, mean_audio]                        # (batch, 1152)
    h_t^1      = relu(x W_t^1 + b_t^1)                          # one layer per task (SoftSharedDense)
    h~^1       = CrossStitch(h_1^1, ..., h_T^1)                 # h~_t = sum_s alpha_ts * h_s
    ...                                                         # depth layers
    p_t        = sigmoid(h~_t^depth V_t + c_t)                  # task t: the labels of its vertical
    labels     = LabelOrder(p_1, ..., p_T)                      # (batch, 3862), label-id order

With ``rest=True`` (default) the labels of every other vertical form one more task, so ``labels``
scores all 3,862 labels and the model is a full project model (``train --model cross_stitch
--model-arg verticals=games,sports``); with ``rest=False`` the other labels score 0. ``sharing``
adds the soft-sharing penalty between the task layers (``sharing > 0`` and ``stitch=False`` is
soft parameter sharing without cross-stitch units). Each output's loss is binary cross-entropy
weighted by its share of the labels, as in ``vertical_heads`` with ``weighting="size"``.
"""

import keras

from course_lib import layers
from course_lib.data import load_vocabulary, spec
from course_lib.layers.cross_stitch import GRANULARITIES, INITIALIZATIONS
from course_lib.models.registry import Task, register_model

REST = "rest"  # the output holding the labels of every vertical not chosen


def task_groups(verticals="games,arts_entertainment", rest=True):
    """``{output name: label ids}``: the chosen verticals (vocabulary keys), then ``rest``."""
    groups = load_vocabulary().vertical_groups()
    names = [v.strip() for v in verticals.split(",")] if isinstance(verticals, str) else [str(v) for v in verticals]
    unknown = [name for name in names if name not in groups]
    if unknown or len(set(names)) != len(names) or len(names) + bool(rest) < 2:
        raise ValueError(f"verticals must name distinct verticals ({', '.join(groups)}), at least two tasks "
                         f"with rest. Received: verticals={verticals!r}")
    chosen = {name: [int(i) for i in groups[name]] for name in names}
    if rest:
        chosen[REST] = sorted(int(i) for name, ids in groups.items() if name not in chosen for i in ids)
    return chosen


def cross_stitch_tasks(verticals="games,arts_entertainment", rest=True, hidden_units=256, depth=2,
                       granularity="channel", init="convex", self_weight=0.9, stitch=True, sharing=0.0, seed=0):
    """``{task: Task(BCE, |g| / 3862, label ids)}`` and ``labels`` measured only."""
    tasks = {name: Task(weight=len(ids) / spec.NUM_CLASSES, label_ids=tuple(ids))
             for name, ids in task_groups(verticals, rest).items()}
    return {**tasks, "labels": Task(loss=None)}


@register_model("cross_stitch", tasks=cross_stitch_tasks)
def cross_stitch(verticals="games,arts_entertainment", rest=True, hidden_units=256, depth=2,
                 granularity="channel", init="convex", self_weight=0.9, stitch=True, sharing=0.0, seed=0):
    """One network per task, cross-stitched after every hidden layer; ``labels`` in label-id order.

    Args:
        verticals: the task verticals, vocabulary keys (``load_vocabulary().vertical_groups()``),
            comma-separated or a list. Default ``"games,arts_entertainment"``.
        rest: one more task for the labels of all other verticals (default ``True``).
        hidden_units, depth: width and number of every task's hidden layers (default 256, 2).
        granularity, init, self_weight: of the cross-stitch units
            (:class:`course_lib.layers.CrossStitch`; default per channel, the convex 0.9 start).
        stitch: put a cross-stitch unit after each hidden layer (default ``True``); ``False``
            gives independent networks (soft-shared when ``sharing > 0``).
        sharing: soft-sharing penalty between the task layers of each depth (default 0).
        seed: hidden layer ``l`` gets ``seed + 100 l`` (task ``t``: ``+ t``); head ``t`` gets
            ``seed + 100 depth + t``.

    Input shape:
        A dict ``{"mean_rgb": (batch, 1024), "mean_audio": (batch, 128)}``.

    Output shape:
        ``{task: (batch, |task|)}`` for each task and ``"labels": (batch, 3862)``; float32.

    Example:

    >>> model = cross_stitch(verticals="games,sports", hidden_units=8, depth=1)
    >>> outputs = model({"mean_rgb": keras.ops.zeros((2, 1024)), "mean_audio": keras.ops.zeros((2, 128))})
    >>> sorted(outputs), tuple(outputs["labels"].shape), tuple(outputs["sports"].shape)
    (['games', 'labels', 'rest', 'sports'], (2, 3862), (2, 167))
    """
    groups = task_groups(verticals, rest)
    for name, value in (("hidden_units", hidden_units), ("depth", depth)):
        if isinstance(value, bool) or int(value) != value or value < 1:
            raise ValueError(f"{name} must be a positive integer. Received: {name}={value!r}")
    if granularity not in GRANULARITIES or init not in INITIALIZATIONS:
        raise ValueError(f"granularity must be one of {GRANULARITIES} and init one of {INITIALIZATIONS}. "
                         f"Received: granularity={granularity!r}, init={init!r}")
    rgb = keras.Input((spec.RGB_SIZE,), name="mean_rgb")
    audio = keras.Input((spec.AUDIO_SIZE,), name="mean_audio")
    hidden = keras.layers.Concatenate(name="features")([rgb, audio])
    T = len(groups)
    for level in range(int(depth)):
        hidden = layers.SoftSharedDense(hidden_units, num_tasks=T, sharing=sharing, activation="relu",
                                        seed=seed + 100 * level, name=f"hidden_{level}")(hidden)
        if stitch:
            hidden = layers.CrossStitch(granularity, init, self_weight, name=f"stitch_{level}")(hidden)
    outputs = {}
    for t, (name, ids) in enumerate(groups.items()):
        outputs[name] = keras.layers.Dense(len(ids), activation="sigmoid", dtype="float32", name=name,
                                           kernel_initializer=keras.initializers.GlorotUniform(seed + 100 * depth + t))(hidden[t])
    labels = layers.LabelOrder(groups, num_classes=spec.NUM_CLASSES, name="labels")(outputs)
    return keras.Model({"mean_rgb": rgb, "mean_audio": audio}, {**outputs, "labels": labels}, name="cross_stitch")
