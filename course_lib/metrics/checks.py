"""Argument checks shared by :mod:`course_lib.metrics`: every bad input is a ``ValueError`` naming
the argument, in the Keras style ``"... Received: name=value"``.

The value checks (finite scores, 0/1 truth) are also available as the fast per-block tests of
:mod:`course_lib.metrics.selection`, which calls :func:`raise_not_finite` and :func:`raise_not_multi_hot`
for the message when a block fails.

Example:

>>> check_k(20)
20
>>> check_k(0)
Traceback (most recent call last):
...
ValueError: k must be a positive integer. Received: k=0
"""

import numbers

import numpy as np


K_MAX = np.iinfo(np.int64).max  # more ranks than any array holds: a larger k means the same


def check_k(k, name="k"):
    """``k`` as a positive ``int``; ``ValueError`` naming ``name`` otherwise.

    A ``k`` beyond :data:`K_MAX` (``2**63 - 1``) is taken as ``K_MAX``: both keep every rank, and
    ``K_MAX`` still fits the int64 arithmetic of the metrics (``k=10**30`` would overflow it).
    """
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
        raise ValueError(f"{name} must be a positive integer. Received: {name}={k!r}")
    return min(int(k), K_MAX)


def check_label_lists(y_true, num_rows, num_classes, name="y_true"):
    """``y_true``, one list of label indices per row, as sorted distinct int64 arrays.

    Each label must be an integer (not a float such as ``1.7``, a bool or a string) in
    ``[0, num_classes)``; ``ValueError`` naming the row otherwise.
    """
    if isinstance(y_true, (str, bytes)) or not hasattr(y_true, "__iter__"):
        raise ValueError(f"{name} must be a sequence of label lists. Received: {name}={y_true!r}")
    rows = list(y_true)
    if len(rows) != num_rows:
        raise ValueError(f"{name} must have one label list per row of top_indices. "
                         f"Received: len({name})={len(rows)}, rows={num_rows}")
    return [_label_row(row, i, num_classes, name) for i, row in enumerate(rows)]


def _label_row(row, i, num_classes, name):
    if isinstance(row, (str, bytes)) or not hasattr(row, "__iter__"):
        raise ValueError(f"{name}[{i}] must be a list of label indices. Received: {name}[{i}]={row!r}")
    values = row if isinstance(row, np.ndarray) else np.asarray(list(row))
    if values.size == 0:
        return np.zeros(0, np.int64)
    if values.ndim != 1 or values.dtype.kind not in "iuO" or (values.dtype.kind == "O" and not all(
            isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in values.tolist())):
        raise ValueError(f"{name}[{i}] must hold integer label indices. Received: {name}[{i}]={_short(row)}")
    if values.dtype.kind == "O":  # Python ints too large for int64
        low, high = min(values.tolist()), max(values.tolist())
    else:
        low, high = values.min(), values.max()
    if low < 0 or high >= num_classes:
        raise ValueError(f"{name} labels must be in [0, {num_classes}). Received: {name}[{i}]={_short(row)}")
    return np.unique(values.astype(np.int64))


def _short(value, limit=80):
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + " ..."


def check_scores(y_score, name="y_score", finite=True):
    """``y_score`` as a 2-D float array ``(N, C)`` (ints and bools become float64).

    With ``finite=True`` (default) also checks that every value is finite (two passes, ``min`` and
    ``max``); the metrics pass ``finite=False`` and check block by block while they select.
    """
    scores = np.asarray(y_score)
    if scores.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D array (videos, classes). Received: {name}.shape={scores.shape}"
        )
    if scores.dtype.kind not in "fiub":
        raise ValueError(f"{name} must be numeric. Received: {name}.dtype={scores.dtype}")
    if scores.dtype.kind != "f":
        scores = scores.astype(np.float64)
    if finite and scores.size:
        low, high = scores.min(), scores.max()  # NaN propagates through min and max
        if not (np.isfinite(low) and np.isfinite(high)):
            raise_not_finite(scores, name)
    return scores


def raise_not_finite(scores, name="y_score"):
    """Raise the ``ValueError`` for scores holding NaN or infinite values (counts them)."""
    bad = int(np.size(scores) - np.count_nonzero(np.isfinite(scores)))
    raise ValueError(f"{name} must be finite. Received: {name} with {bad} NaN or infinite value(s)")


def check_truth_shape(y_true, shape, name="y_true", score_name="y_score"):
    """``y_true`` as an array of ``shape`` with a numeric or boolean dtype (values not checked)."""
    truth = np.asarray(y_true)
    if truth.shape != tuple(shape):
        raise ValueError(
            f"{name} and {score_name} must have the same shape (videos, classes). "
            f"Received: {name}.shape={truth.shape}, {score_name}.shape={tuple(shape)}"
        )
    if truth.dtype.kind not in "fiub":
        raise ValueError(f"{name} must be multi-hot numbers 0/1. Received: {name}.dtype={truth.dtype}")
    return truth


def raise_not_multi_hot(truth, name="y_true"):
    """Raise the ``ValueError`` for truth holding a value other than 0 and 1 (if it does)."""
    bad = (truth != 0) & (truth != 1)
    if bad.any():
        raise ValueError(
            f"{name} must be multi-hot: every value 0 or 1. "
            f"Received: {name} with {int(bad.sum())} other value(s), e.g. {truth[bad][0]!r}"
        )


def count_true(truth, name="y_true"):
    """Per-row number of true labels of a multi-hot array ``(B, C)``: int64 ``(B,)``.

    Checks that every value is 0 or 1 (``-0.0`` counts as 0) with two comparisons: the values equal
    to 0 and those equal to 1 must account for the whole array.
    """
    counts = count_true_or_none(truth)
    if counts is None:
        raise_not_multi_hot(truth, name)
    return counts


def count_true_or_none(truth):
    """:func:`count_true` without the message: ``None`` when a value is neither 0 nor 1."""
    if truth.dtype.kind == "b" or truth.size == 0:
        return np.count_nonzero(truth, axis=1).astype(np.int64)
    ones = np.count_nonzero(truth == 1)
    if ones + np.count_nonzero(truth == 0) != truth.size:
        return None
    if ones == 0:
        return np.zeros(len(truth), np.int64)
    if truth.dtype.kind in "iu":
        return np.add.reduce(truth, axis=1, dtype=np.int64)
    if truth.dtype.itemsize < 4:
        truth = truth.astype(np.float32)
    # Row sums of 0/1 values are small integers, exact in any order. einsum vectorises them without
    # BLAS (whose threads, on a busy machine, cost 100 times more than the sums).
    return np.einsum("ij->i", truth).astype(np.int64)


def check_truth(y_true, shape, name="y_true", score_name="y_score"):
    """``y_true`` as a multi-hot array of ``shape``; returns ``(y_true, true labels per video)``.

    Accepted values are 0 and 1 (any numeric or boolean dtype).
    """
    truth = check_truth_shape(y_true, shape, name, score_name)
    return truth, count_true(truth, name)
