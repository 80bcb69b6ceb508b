"""The column maps between head order and label ids, in NumPy (no TensorFlow).

Taught in notebook 03b, part 5 (the first multi-head network of the course). A multi-task model
with one head per topic vertical outputs the label groups one after another (all the labels of
the first vertical, then the second, ...); labels, metrics and submissions index labels by id.
These functions convert arrays between the two orders (inside a model, the Keras layers
:class:`course_lib.layers.VerticalHeads` and :class:`course_lib.layers.LabelOrder` do it)::

    order = head_order(groups)          # label id of every concatenated head column
    y_heads = to_head_order(y, groups)  # (N, C) labels by id  -> (N, sum |group|) head columns
    scores = to_label_order(p, groups)  # (N, sum |group|) head outputs -> (N, C) scores by id

``groups`` is a mapping ``{name: label ids}`` such as ``load_vocabulary().vertical_groups()``
(the same mapping ``load_yt8m(label_groups=...)`` splits the labels with).
"""

import numpy as np

__all__ = ["head_order", "to_head_order", "to_label_order"]


def head_order(groups, num_classes=None):
    """The label id of each column of the concatenated heads: ``concatenate(groups.values())``.

    Args:
        groups: mapping ``{name: label ids}``; the groups must not overlap.
        num_classes: if given, every id must be in ``[0, num_classes)``.

    Returns:
        int64 array of shape ``(sum of group sizes,)``.
    """
    groups = dict(groups)
    if not groups:
        raise ValueError(f"groups must name at least one label group. Received: groups={groups!r}")
    order = np.concatenate([np.asarray(ids, dtype=np.int64).reshape(-1) for ids in groups.values()])
    if len(np.unique(order)) != len(order):
        raise ValueError("groups must not overlap: a label id appears in two groups. "
                         f"Received: groups with {len(order) - len(np.unique(order))} repeated id(s)")
    if num_classes is not None and (order.min() < 0 or order.max() >= num_classes):
        raise ValueError(f"label ids must be in [0, num_classes). Received: num_classes={num_classes}, "
                         f"ids from {order.min()} to {order.max()}")
    return order


def to_head_order(labels, groups):
    """Labels indexed by id ``(N, C)`` -> the concatenated head columns ``(N, sum |group|)``."""
    labels = np.asarray(labels)
    if labels.ndim != 2:
        raise ValueError(f"labels must be 2-D (N, num_classes). Received: labels.shape={labels.shape}")
    return labels[:, head_order(groups, num_classes=labels.shape[1])]


def to_label_order(scores, groups, num_classes=None, fill=0.0):
    """Concatenated head outputs ``(N, sum |group|)`` -> scores indexed by label id ``(N, C)``.

    Args:
        scores: head outputs, columns in :func:`head_order`; or a dict ``{name: (N, |group|)}``
            (as a model with one named output per head returns it).
        groups: the mapping the heads were built from.
        num_classes: width of the result (default: the largest id + 1).
        fill: score of the label ids no group covers.

    Example:

    >>> groups = {"b": [2, 0], "a": [1]}
    >>> to_label_order(np.array([[0.2, 0.0, 0.1]]), groups)
    array([[0. , 0.1, 0.2]])
    """
    order = head_order(groups, num_classes)
    if isinstance(scores, dict):
        missing = [name for name in dict(groups) if name not in scores]
        if missing:
            raise ValueError(f"scores has no output for group(s) {missing}. Received: scores keys "
                             f"{sorted(scores)}")
        scores = np.concatenate([np.asarray(scores[name]) for name in dict(groups)], axis=-1)
    scores = np.asarray(scores)
    if scores.ndim != 2 or scores.shape[1] != len(order):
        raise ValueError(f"scores must have shape (N, {len(order)}), one column per grouped label. "
                         f"Received: scores.shape={scores.shape}")
    width = int(order.max()) + 1 if num_classes is None else int(num_classes)
    out = np.full((scores.shape[0], width), fill, dtype=scores.dtype)
    out[:, order] = scores
    return out

