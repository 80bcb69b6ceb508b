"""Each video's top k in a few passes' time: a cheap lower bound, then only the scores that reach it.

The engine under :func:`course_lib.metrics.top_k`, the metrics of :mod:`course_lib.metrics.ranking`
and :class:`course_lib.metrics.TopKEvaluator` (taught in notebook 02, which uses ``top_k``).

The idea. Split a row's ``C`` scores into ``G >= k`` disjoint groups and take each group's
maximum. The ``k``-th largest of those maxima is at most the row's ``k``-th largest score (the
``k`` largest maxima are ``k`` distinct scores), so every score of the top ``k`` (and every score
tied with the ``k``-th) is ``>=`` it::

    bound(row) = k-th largest of { max(group_g) : g = 1..G }  <=  k-th largest of row

One comparison keeps the survivors (a few more than ``k`` per row: 21.8 at k = 20 and 10.4 at
k = 10 on the scores of ``bench/metrics.py``), and only those are ordered. Nothing sorts a row.
The groups are strided (group ``j`` holds the columns ``j, j + W, j + 2W, ...``), so their maxima
are element-wise maxima of contiguous slabs of width ``W``, which NumPy vectorises; folding twice
(8 slabs, then 4) gives groups of 32 scores, ``C / 32`` maxima per row.

Cost. In NumPy every scan of a block costs about as much as a pass over it, in cache or not, and
every call a few microseconds. So a block of :data:`ROWS_PER_BLOCK` rows (64 x 3,862 float32
scores = 1 MB) gets only the scans that need its data: the slab maxima (seven ``np.maximum`` into
a reused buffer), ``min`` (the finite check), the comparison with the bound into a reused mask,
and ``np.flatnonzero`` of it; truth blocks get one comparison with 0 (the true labels are a few
per row, and only those are looked at again). Everything sparse is done once per run of blocks:
the survivors of up to :data:`SURVIVORS_PER_SORT` are ordered by one sort of 64-bit keys
``(row, score descending, class index)`` for float32 scores (float16 scores are widened to float32
exactly; other dtypes use ``np.lexsort`` on the same three keys), then the top ``k`` values and
hits are taken. The rows are split into :data:`THREADS` contiguous runs, one per thread (NumPy
releases the GIL inside its loops).

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
SURVIVORS_PER_SORT = 1 << 20  # survivors ordered by one sort (8 MB of 64-bit keys)
THREADS = max(1, min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1))
FOLDS = (8, 4)  # slabs folded into group maxima, first and second level

_pool = {"pid": None, "executor": None}


class _NotFinite(Exception):
    """A block held NaN or an infinite score (re-raised as ``ValueError`` for the whole array)."""


def map_parts(function, arrays):
    """``[function(workspace, *parts)]``: ``arrays`` (sharing their first dimension) cut into up to
    :data:`THREADS` contiguous runs of whole blocks, one per thread, results in order.

    Each run gets its own ``workspace``, a dict of scratch buffers (see :func:`_buffer`) reused
    from block to block: fresh arrays of a block's size would cost a page fault per 4 kB, about as
    much as the pass that fills them.
    """
    n = len(arrays[0])
    blocks = -(-n // ROWS_PER_BLOCK)
    edges = [i * blocks // THREADS * ROWS_PER_BLOCK for i in range(THREADS)] + [n]
    ranges = [(a, min(b, n)) for a, b in zip(edges, edges[1:]) if a < min(b, n)]

    def run(bounds):
        return function({}, *(a[bounds[0] : bounds[1]] for a in arrays))

    if len(ranges) < 2:
        return [run((0, n))]
    if _pool["pid"] != os.getpid():  # none yet, or inherited through fork (its threads are gone)
        _pool["executor"] = ThreadPoolExecutor(THREADS, thread_name_prefix="course_lib.metrics")
        _pool["pid"] = os.getpid()
    return list(_pool["executor"].map(run, ranges))


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
        parts = map_parts(lambda workspace, part: _top_k_part(part, k, workspace), (scores,))
    except _NotFinite:
        checks.raise_not_finite(scores, name)
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def select_with_hits(truth, scores, k, names=("y_true", "y_score")):
    """:func:`top_k_rows` and :func:`true_counts` in one scan, and whether each pick is a true label.

    Args:
        truth: multi-hot array ``(N, C)``, numeric or boolean (values checked here).
        scores: float array ``(N, C)`` (values checked here).
        k: picks per row; ``None`` for as many as the largest number of true labels of the rows
            a thread handles (at least 1), the depth PERR needs; shorter runs of rows are padded on
            the right with index -1, score -inf and no hit.
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
        parts = map_parts(lambda w, t, s: _select_with_hits_part(t, s, k, w), (truth, scores))
    except _NotFinite:
        checks.raise_not_finite(scores, names[1])
    if any(p is None for p in parts):
        checks.raise_not_multi_hot(truth, names[0])
    width = max(p[0].shape[1] for p in parts)
    pads = (-1, -np.inf, False, None)
    return tuple(
        np.concatenate([p[i] if i == 3 else _pad(p[i], width, pads[i]) for p in parts]) for i in range(4)
    )


def _select_with_hits_part(truth, scores, k, workspace):
    num_true = _count_true_part(truth, workspace)
    if num_true is None:
        return None
    depth = min(max(1, int(num_true.max())) if k is None else k, scores.shape[1])
    indices, values = _top_k_part(scores, depth, workspace)
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
    counts = map_parts(lambda workspace, part: _count_true_part(part, workspace), (truth,))
    if any(c is None for c in counts):
        checks.raise_not_multi_hot(truth, name)
    return np.concatenate(counts)


def _count_true_part(truth, workspace):
    """True labels per row, or ``None`` if a value is neither 0 nor 1.

    One comparison per block finds the non-zero entries (``-0.0`` is zero), a few per row; only
    those are looked at again: each must equal 1 (NaN does not).
    """
    n, c = truth.shape
    positions = np.concatenate([_nonzero_positions(truth[s : s + ROWS_PER_BLOCK], workspace) + s * c
                                for s in range(0, n, ROWS_PER_BLOCK)])
    if truth.dtype != np.bool_:
        rows, columns = np.divmod(positions, c)
        if not np.all(truth[rows, columns] == 1):
            return None
    return np.bincount(positions // c, minlength=n).astype(np.int64, copy=False)


def _nonzero_positions(block, workspace):
    if block.dtype == np.bool_:
        return np.flatnonzero(block)
    return np.flatnonzero(np.not_equal(block, 0, out=_buffer(workspace, "nonzero", block.shape, np.bool_)))


def gather_hits(truth, indices):
    """Whether each ranked index ``(N, m)`` is a true label of its row of ``truth``: bool ``(N, m)``."""
    return _take_rows(truth, indices) > 0


def _take_rows(array, indices):
    """``np.take_along_axis(array, indices, axis=1)``, by one flat take when ``array`` is contiguous."""
    if not array.flags.c_contiguous:
        return np.take_along_axis(array, indices, axis=1)
    return np.take(array.reshape(-1), indices + (np.arange(len(indices)) * array.shape[1])[:, None])


def _top_k_part(scores, k, workspace):
    """``(indices, values)`` of each row's top ``k`` for a run of rows, block by block.

    Each block is scanned while in cache (:func:`_survivors`); the survivors of many blocks are
    ordered together, in runs of about :data:`SURVIVORS_PER_SORT`.
    """
    n, c = scores.shape
    if k == 1 or c // FOLDS[0] < 3 * k:
        indices = np.concatenate([_top_k_directly(scores[s : s + ROWS_PER_BLOCK], k, workspace)
                                  for s in range(0, n, ROWS_PER_BLOCK)])
    else:
        runs, pending, count = [], [], 0
        for start in range(0, n, ROWS_PER_BLOCK):
            found = _survivors(scores[start : start + ROWS_PER_BLOCK], k, workspace)
            pending.append((start, *found))
            count += len(found[0])
            if count >= SURVIVORS_PER_SORT or start + ROWS_PER_BLOCK >= n:
                runs.append(_rank_survivors(pending, k, min(start + ROWS_PER_BLOCK, n) - pending[0][0], c))
                pending, count = [], 0
        indices = np.concatenate(runs)
    values = _take_rows(scores, indices)
    if not np.all(np.isfinite(values[:, 0])):  # +inf would rank first in its row
        raise _NotFinite
    return indices, values


def _work(block, workspace):
    """The block, C-contiguous, float16 widened exactly to float32; checked finite (one ``min``)."""
    block = np.ascontiguousarray(block)
    if block.dtype == np.float16:
        work = _buffer(workspace, "wide", block.shape, np.float32)
        work[...] = block
        block = work
    if not np.isfinite(block.min()):  # NaN propagates through min; so does -inf
        raise _NotFinite
    return block


def _top_k_directly(block, k, workspace):
    """``k == 1`` (``argmax``: the first of equal maxima), or too few classes for groups (a stable
    sort of each row is as fast)."""
    work = _work(block, workspace)
    if k == 1:
        return np.argmax(work, axis=1)[:, None].astype(np.int64)
    return np.argsort(-work, axis=1, kind="stable")[:, :k].astype(np.int64)


def _survivors(block, k, workspace):
    """Flat positions (ascending) and values of the scores of a block that reach its rows' bounds.

    Three scans while the block is in cache: the group maxima, ``min`` (finite?), one comparison.
    """
    n, c = block.shape
    fold = FOLDS[0]
    width = c // fold
    groups = _buffer(workspace, "groups", (n, width), block.dtype if block.dtype != np.float16 else np.float32)
    work = _work(block, workspace)
    np.maximum(work[:, :width], work[:, width : 2 * width], out=groups)
    for i in range(2, fold):
        np.maximum(groups, work[:, i * width : (i + 1) * width], out=groups)
    bound = _bound(groups, k)
    reach = np.greater_equal(work, bound[:, None], out=_buffer(workspace, "reach", work.shape, np.bool_))
    positions = np.flatnonzero(reach)  # at least k per row
    return positions, np.take(work.reshape(-1), positions)


def _bound(groups, k):
    """Per-row lower bound on the ``k``-th largest score: the ``k``-th largest of group maxima.

    The maxima of the first-level groups (``FOLDS[0]`` columns each) are folded again
    (``FOLDS[1]`` slabs) while at least ``3 k`` groups remain, then partitioned.
    """
    fold = FOLDS[1]
    width = groups.shape[1] // fold
    if width >= 3 * k:
        coarse = groups[:, : fold * width].reshape(len(groups), fold, width).max(axis=1)
    else:
        coarse = groups
    m = coarse.shape[1]
    return np.partition(coarse, m - k, axis=1)[:, m - k]


def _rank_survivors(found, k, num_rows, num_classes):
    """The top ``k`` columns ``(num_rows, k)`` of consecutive blocks from their survivors.

    ``found``: per block ``(first row, flat positions in the block, values)``.
    """
    first = found[0][0]
    positions = np.concatenate([p + (start - first) * num_classes for start, p, _ in found])
    values = np.concatenate([v for _, _, v in found])
    rows = positions // num_classes
    counts = np.bincount(rows, minlength=num_rows)  # at least k per row
    ranked = _ranked_columns(rows, positions - rows * num_classes, values, num_rows, num_classes)
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
