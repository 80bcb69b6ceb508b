"""Each video's top k in a few passes' time: a cheap lower bound, then only the scores that reach it.

The engine under :func:`course_lib.metrics.top_k`, the metrics of :mod:`course_lib.metrics.ranking`
and :class:`course_lib.metrics.TopKEvaluator` (taught in notebook 02, which uses ``top_k``).

The idea. Split a row's ``C`` scores into ``G >= k`` disjoint groups and take each group's
maximum. The ``k``-th largest of those maxima is at most the row's ``k``-th largest score (the
``k`` largest maxima are ``k`` distinct scores), so every score of the top ``k`` (and every score
tied with the ``k``-th) is ``>=`` it::

    bound(row) = k-th largest of { max(group_g) : g = 1..G }  <=  k-th largest of row

One comparison keeps the survivors (a few more than ``k`` per row: 21.8 at k = 20 and 10.4 at
k = 10 on the scores of ``bench/metrics.py``), and only those are ordered. Nothing sorts a row. The groups are strided (group ``j``
holds the columns ``j, j + W, j + 2W, ...``), so their maxima are element-wise maxima of ``G``
contiguous slabs of width ``W``, which NumPy vectorises; folding twice (8 slabs, then 4) gives
groups of 32 scores, ``C / 32`` maxima per row.

Rows are processed in blocks of :data:`ROWS_PER_BLOCK` (128 rows x 3,862 float32 scores = 2 MB, so
a block stays in cache across the few steps), on up to :data:`THREADS` threads (NumPy releases
the GIL inside its loops). Within a block the survivors are ordered by one sort of 64-bit keys
``(row, score descending, class index)`` for float32 scores (float16 scores are widened to float32
exactly); other dtypes use ``np.lexsort`` on the same three keys.

Ties: equal scores go to the lower class index (the order of ``tf.math.top_k``); ``-0.0`` equals
``0.0``. Inputs are checked while they are scanned: non-finite scores and truth values other than
0 and 1 raise the ``ValueError`` of :mod:`course_lib.metrics.checks`.

Example:

>>> indices, values = top_k_rows(np.array([[0.1, 0.9, 0.5, 0.9]]), 3)
>>> indices, values
(array([[1, 3, 2]]), array([[0.9, 0.9, 0.5]]))
>>> gather_hits(np.array([[0, 1, 1, 0]]), indices)
array([[ True, False,  True]])
"""

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from course_lib.metrics import checks

ROWS_PER_BLOCK = 64
THREADS = max(1, min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1))
FOLDS = (8, 4)  # slabs folded into group maxima, first and second level

_pool = {"pid": None, "executor": None}


class _NotFinite(Exception):
    """A block held NaN or an infinite score (re-raised as ``ValueError`` for the whole array)."""


def map_blocks(function, arrays, rows=None):
    """``[function(workspace, *blocks) for each block of rows]``, in order, on up to :data:`THREADS` threads.

    ``arrays`` share their first dimension; blocks have ``rows`` rows (default
    :data:`ROWS_PER_BLOCK`); each thread takes a contiguous run of blocks and one ``workspace``, a
    dict of scratch buffers (see :func:`_buffer`) reused from block to block: fresh arrays of a
    block's size would cost a page fault per 4 kB, about as much as the pass that fills them.
    """
    rows = rows or ROWS_PER_BLOCK
    starts = list(range(0, len(arrays[0]), rows))

    def run(part):
        workspace = {}
        return [function(workspace, *(a[s : s + rows] for a in arrays)) for s in part]

    if THREADS == 1 or len(starts) < 2:
        return run(starts)
    parts = [list(p) for p in np.array_split(starts, min(THREADS, len(starts)))]
    if _pool["pid"] != os.getpid():  # none yet, or inherited through fork (its threads are gone)
        _pool["executor"] = ThreadPoolExecutor(THREADS, thread_name_prefix="course_lib.metrics")
        _pool["pid"] = os.getpid()
    return [result for part in _pool["executor"].map(run, parts) for result in part]


def _buffer(workspace, name, shape, dtype):
    """A scratch array of ``shape`` and ``dtype`` from ``workspace``, grown when too small."""
    size = int(np.prod(shape))
    buffer = workspace.get(name)
    if buffer is None or buffer.size < size or buffer.dtype != dtype:
        buffer = workspace[name] = np.empty(max(size, 1), dtype)
    return buffer[:size].reshape(shape)


def top_k_rows(scores, k, name="y_score"):
    """The ``k`` highest scores of each row, best first; equal scores by increasing class index.

    Args:
        scores: float array ``(N, C)`` (as :func:`course_lib.metrics.checks.check_scores` returns).
        k: positive integer; ``min(k, C)`` columns are returned.
        name: the argument named in the error message.

    Returns:
        ``(indices, values)``: int64 ``(N, min(k, C))`` class indices and their scores (dtype of
        ``scores``).

    Raises:
        ValueError: a score is NaN or infinite.
    """
    n, c = scores.shape
    k = min(k, c)
    if n == 0 or k == 0:
        return np.zeros((n, k), np.int64), np.zeros((n, k), scores.dtype)
    try:
        blocks = map_blocks(lambda workspace, block: _select_block(block, k, workspace), (scores,))
    except _NotFinite:
        checks.raise_not_finite(scores, name)
    return np.concatenate([b[0] for b in blocks]), np.concatenate([b[1] for b in blocks])


def select_with_hits(truth, scores, k, names=("y_true", "y_score")):
    """:func:`top_k_rows` and :func:`true_counts` in one scan, and whether each pick is a true label.

    Each block of ``truth`` is counted and checked, and the block's picks looked up in it, while it
    is in cache.

    Args:
        truth: multi-hot array ``(N, C)``, numeric or boolean (values checked here).
        scores: float array ``(N, C)`` (values checked here).
        k: picks per row; ``None`` for as many as each block's largest number of true labels
            (at least 1), the depth PERR needs; shorter blocks are padded on the right with
            index -1, score -inf and no hit.
        names: the arguments named in the error messages.

    Returns:
        ``(indices, values, hits, num_true)``: int64 ``(N, m)``, ``(N, m)`` in the dtype of
        ``scores``, bool ``(N, m)`` and int64 ``(N,)``, with ``m = min(k, C)``.
    """
    n, c = scores.shape
    if n == 0 or c == 0:
        m = 0 if c == 0 or k is None else min(k, c)
        return (np.zeros((n, m), np.int64), np.zeros((n, m), scores.dtype), np.zeros((n, m), bool),
                true_counts(truth, names[0]))
    try:
        blocks = map_blocks(lambda w, t, s: _select_with_hits_block(t, s, k, w), (truth, scores))
    except _NotFinite:
        checks.raise_not_finite(scores, names[1])
    if any(b is None for b in blocks):
        checks.raise_not_multi_hot(truth, names[0])
    width = max(b[0].shape[1] for b in blocks)
    pads = (-1, -np.inf, False, None)
    return tuple(
        np.concatenate([b[i] if i == 3 else _pad(b[i], width, pads[i]) for b in blocks]) for i in range(4)
    )


def _select_with_hits_block(truth, scores, k, workspace):
    num_true = _count_true_block(truth, workspace)
    if num_true is None:
        return None
    depth = min(max(1, int(num_true.max())) if k is None else k, scores.shape[1])
    indices, values = _select_block(scores, depth, workspace)
    return indices, values, gather_hits(truth, indices), num_true


def _pad(array, width, value):
    if array.shape[1] == width:
        return array
    return np.pad(array, ((0, 0), (0, width - array.shape[1])), constant_values=value)


def true_counts(truth, name="y_true"):
    """Per-row number of true labels of multi-hot ``truth`` ``(N, C)``, checked block by block.

    Returns int64 ``(N,)``. Raises ``ValueError`` naming ``name`` if a value is neither 0 nor 1.
    """
    if len(truth) == 0:
        return np.zeros(0, np.int64)
    counts = map_blocks(lambda workspace, block: _count_true_block(block, workspace), (truth,))
    if any(c is None for c in counts):
        checks.raise_not_multi_hot(truth, name)
    return np.concatenate(counts)


def _count_true_block(truth, workspace):
    """True labels per row of a block, or ``None`` if a value is neither 0 nor 1.

    One comparison finds the non-zero entries (``-0.0`` is zero), a few per row; only those are
    looked at again: each must equal 1.
    """
    n, c = truth.shape
    if truth.dtype == np.bool_:
        mask = np.ascontiguousarray(truth)
    else:
        mask = np.not_equal(truth, 0, out=_buffer(workspace, "nonzero", truth.shape, np.bool_))
    rows, columns = np.divmod(np.flatnonzero(mask), c)
    if truth.dtype != np.bool_ and not np.all(truth[rows, columns] == 1):  # NaN != 1 too
        return None
    return np.bincount(rows, minlength=n).astype(np.int64, copy=False)


def gather_hits(truth, indices):
    """Whether each ranked index ``(N, m)`` is a true label of its row of ``truth``: bool ``(N, m)``."""
    if not truth.flags.c_contiguous:
        return np.take_along_axis(truth, indices, axis=1) > 0
    return np.take(truth.reshape(-1), _flat(indices, truth.shape[1])) > 0


def _flat(indices, num_classes):
    """Flat positions in a C-contiguous ``(n, num_classes)`` array of column ``indices`` ``(n, m)``."""
    return indices + (np.arange(len(indices)) * num_classes)[:, None]


def _select_block(block, k, workspace):
    block = np.ascontiguousarray(block)
    if block.dtype == np.float16:  # widened exactly, into a reused buffer
        work = _buffer(workspace, "wide", block.shape, np.float32)
        work[...] = block
    else:
        work = block
    if not np.isfinite(work.min()):  # NaN propagates through min; so does -inf
        raise _NotFinite
    groups = None if k == 1 else _group_maxima(work, k, workspace)
    if k == 1:
        indices = np.argmax(work, axis=1)[:, None]  # the first of equal maxima
    elif groups is None:  # too few classes for groups: a stable sort of each row is as fast
        indices = np.argsort(-work, axis=1, kind="stable")[:, :k]
    else:
        indices = _survivors_top_k(work, _bound(groups, k), k, workspace)
    indices = indices.astype(np.int64, copy=False)
    values = np.take(block.reshape(-1), _flat(indices, block.shape[1]))
    if not np.all(np.isfinite(values[:, 0])):  # +inf would rank first in its row
        raise _NotFinite
    return indices, values


def _group_maxima(work, k, workspace):
    """Maxima of the first-level groups ``(n, W)``: group ``j`` holds columns ``j + i W``, ``i < F``.

    ``F = FOLDS[0]`` contiguous slabs of width ``W = C // F`` folded by element-wise maximum into a
    reused buffer; the last ``C - F W`` columns belong to no group. ``None`` when ``W < 3 k``.
    """
    fold = FOLDS[0]
    width = work.shape[1] // fold
    if width < 3 * k:  # keep at least 3k groups: a bound close to the k-th score
        return None
    groups = _buffer(workspace, "groups", (len(work), width), work.dtype)
    np.maximum(work[:, :width], work[:, width : 2 * width], out=groups)
    for i in range(2, fold):
        np.maximum(groups, work[:, i * width : (i + 1) * width], out=groups)
    return groups


def _bound(groups, k):
    """Per-row lower bound on the ``k``-th largest score: the ``k``-th largest of coarser maxima.

    The first-level maxima are folded again (:data:`FOLDS` ``[1]`` slabs) while at least ``3 k``
    groups remain, then partitioned (see the module docstring).
    """
    fold = FOLDS[1]
    width = groups.shape[1] // fold
    if width >= 3 * k:
        coarse = groups[:, : fold * width].reshape(len(groups), fold, width).max(axis=1)
    else:
        coarse = groups
    m = coarse.shape[1]
    return np.partition(coarse, m - k, axis=1)[:, m - k]


def _survivors_top_k(work, bound, k, workspace):
    """The top ``k`` columns of each row: one comparison keeps the scores ``>= bound``, then only
    those (a few more than ``k`` per row) are ordered."""
    n, c = work.shape
    reach = np.greater_equal(work, bound[:, None], out=_buffer(workspace, "reach", work.shape, np.bool_))
    positions = np.flatnonzero(reach)  # at least k per row, ascending
    values = np.take(work.reshape(-1), positions)
    rows = positions // c
    counts = np.bincount(rows, minlength=n)
    ranked = _ranked_columns(rows, positions - rows * c, values, n, c)
    starts = np.cumsum(counts) - counts
    return np.take(ranked, starts[:, None] + np.arange(k))


def descending_keys(values):
    """uint32 keys of float32 ``values`` that sort in the order of decreasing value.

    The IEEE bits of a float, with the sign bit flipped for positive numbers and every bit flipped
    for negative ones, sort like the floats; inverting them reverses the order. ``-0.0`` gets the
    key of ``0.0`` (the floats are equal).

    >>> values = np.array([0.5, -1.0, 2.0, -0.0, 0.0], np.float32)
    >>> values[np.argsort(descending_keys(values), kind="stable")]
    array([ 2. ,  0.5, -0. ,  0. , -1. ], dtype=float32)
    """
    bits = (values + np.float32(0)).view(np.int32)  # + 0 turns -0.0 into 0.0
    flip = ~(bits >> 31) & np.int32(0x7FFFFFFF)  # 0x7FFFFFFF for positive numbers, 0 for negative ones
    return (bits ^ flip).view(np.uint32)


def _sparse_flatnonzero(mask):
    """``np.flatnonzero`` of a mostly-False bool vector: scans it 8 bytes at a time."""
    whole = mask.size // 8 * 8
    words = np.flatnonzero(mask[:whole].view(np.uint64))
    candidates = (words[:, None] * 8 + np.arange(8)).reshape(-1)
    tail = whole + np.flatnonzero(mask[whole:])
    return np.concatenate([candidates[mask[candidates]], tail])  # ascending


def _ranked_columns(rows, columns, values, num_rows, num_classes):
    """``columns`` (int64) ordered by row, then decreasing value, then increasing column."""
    column_bits = max(1, (num_classes - 1).bit_length())
    row_bits = max(1, (num_rows - 1).bit_length())
    if values.dtype != np.float32 or row_bits + 32 + column_bits > 64:
        return columns[np.lexsort((columns, -values, rows))]
    key = descending_keys(values).astype(np.uint64)
    key <<= np.uint64(column_bits)
    key |= columns.view(np.uint64)  # non-negative: the same bits
    key |= rows.view(np.uint64) << np.uint64(32 + column_bits)
    key.sort()
    key &= np.uint64((1 << column_bits) - 1)
    return key.view(np.int64)
