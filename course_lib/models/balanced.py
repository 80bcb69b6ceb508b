"""The per-vertical heads model trained with a task weighting of notebook 06 (MGDA-UB by default).

Taught in notebook 06. The network is :func:`course_lib.models.vertical_heads.vertical_heads` (the
FCN's trunk, one sigmoid head per topic vertical, ``labels`` in label-id order); the 25 vertical
losses (binary cross-entropy, mean over each vertical's labels) are combined by
:class:`course_lib.balancing.BalancedModel`::

    python -m course_lib train --model balanced_heads --model-arg weighting=mgda_ub --out runs/mgda_ub

``weighting``: ``"mgda_ub"`` (default: alpha from the gradients at the trunk's output, one backward
pass), ``"mgda"`` (one backward pass per vertical through the whole trunk: 25 per step),
``"uncertainty"`` (one learned log-variance per vertical) or ``"fixed"`` (each vertical weighted
by its share of the labels, as ``vertical_heads``). The losses live in the model, so the declared
tasks carry no loss of their own (``train`` only cuts each vertical's target out of the labels);
MAP@10 and GAP@20 are measured on ``labels`` as for every model.
"""

import keras

from course_lib.balancing import WEIGHTINGS, BalancedModel
from course_lib.data import load_vocabulary, spec
from course_lib.models.registry import Task, register_model
from course_lib.models.vertical_heads import vertical_heads

SHARED = "joint_dropout"  # the trunk's last layer: its output is the shared representation Z


def balanced_tasks(hidden_units=1024, dropout=0.2, weighting="mgda_ub", seed=0):
    """``{vertical: Task(no loss, label ids)}`` and ``labels``: the losses are the model's own."""
    if weighting not in WEIGHTINGS:
        raise ValueError(f"weighting must be one of {', '.join(WEIGHTINGS)}. Received: weighting={weighting!r}")
    groups = load_vocabulary().vertical_groups()
    tasks = {name: Task(loss=None, label_ids=tuple(int(i) for i in ids)) for name, ids in groups.items()}
    return {**tasks, "labels": Task(loss=None)}


@register_model("balanced_heads", tasks=balanced_tasks)
def balanced_heads(hidden_units=1024, dropout=0.2, weighting="mgda_ub", seed=0):
    """``vertical_heads`` wrapped in a :class:`~course_lib.balancing.BalancedModel` with ``weighting``.

    Args:
        hidden_units, dropout, seed: of the network, as in ``vertical_heads``.
        weighting: one of ``"mgda_ub"`` (default), ``"mgda"``, ``"uncertainty"``, ``"fixed"``.

    Output shape:
        As ``vertical_heads``: one output per vertical and ``labels`` ``(batch, 3862)``.

    Example:

    >>> model = balanced_heads(hidden_units=16)
    >>> outputs = model({"mean_rgb": keras.ops.zeros((2, 1024)), "mean_audio": keras.ops.zeros((2, 128))})
    >>> outputs["labels"].shape, model.weighting
    (TensorShape([2, 3862]), 'mgda_ub')
    """
    balanced_tasks(weighting=weighting)  # validates
    groups = load_vocabulary().vertical_groups()
    network = vertical_heads(hidden_units=hidden_units, dropout=dropout, seed=seed)
    losses = {name: keras.losses.BinaryCrossentropy() for name in groups}
    return BalancedModel(network, losses, weighting=weighting, shared=SHARED,
                         task_weights={name: len(ids) / spec.NUM_CLASSES for name, ids in groups.items()},
                         kinds={name: "classification" for name in groups}, name="balanced_heads")
