"""Each video's top k in a few passes' time: a cheap lower bound, then only the scores that reach it.

The engine under :func:`course_lib.metrics.top_k`, the metrics of :mod:`course_lib.metrics.ranking`
and :class:`course_lib.metrics.TopKEvaluator` (taught in notebook 02, which uses ``top_k``).

The idea. Split a row's ``C`` scores into ``G >= k`` disjoint groups and take each group's
maximum. The ``k``-th largest of those maxima is at most the row's ``k``-th largest score (the
``k`` largest maxima are ``k`` distinct scores), so every score of the top ``k`` (and every score
tied with the ``k``-th) is ``>=`` it::

    bound(row) = k-th largest of { max(group_g) : g = 1..G }  <=  k-th largest of row

The scores that reach it are the *survivors* (a few more than ``k`` per row: 21.8 at k = 20 and
10.4 at k = 10 on the scores of ``bench/metrics.py``), and only those are ordered. Nothing sorts a
row. The groups are strided (group ``j`` holds the columns ``j, j + W, j + 2W, ...``), so their
maxima are element-wise maxima of contiguous slabs of width ``W``, which NumPy vectorises; folding
twice (8 slabs, then 4) gives groups of 32 scores, ``C / 32`` maxima per row, for the bound.
Every survivor is in a group of the first fold whose maximum reaches the bound, so only those
groups' scores need to be looked at (:mod:`course_lib.metrics.blocks` scans the blocks).

Cost. A block of :data:`ROWS_PER_BLOCK` rows (256 x 3,862 float32 scores = 4 MB) is read from
memory once, :data:`course_lib.metrics.blocks.SUB_ROWS` rows at a time, and folded while those rows
are in the core's cache. The rest works on the block's group maxima and survivors, a few percent
of it, in forty-odd NumPy calls: large blocks mean fewer calls, and fewer waits of one thread for
the other's hold on the GIL.
Truth blocks get one comparison with 0 (the true labels are a few per row, and only those are
looked at again); whether each survivor is a true label is read while the truth block is in cache,
and the survivors become 64-bit sort keys ``(row, score descending, class index, is a true label)``
right then, while they are few (:mod:`course_lib.metrics.runs`). The keys of up to
:data:`SURVIVORS_PER_SORT` survivors are ordered by one sort, and the top ``k`` class indices,
scores and hits are read back from them (float64 scores use ``np.lexsort``). The rows are split
into :data:`THREADS` contiguous runs, one per thread (NumPy releases the GIL inside its loops);
each thread keeps its scratch buffers from call to call.

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
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from course_lib.metrics import blocks, checks, runs
from course_lib.metrics.runs import descending_keys  # noqa: F401 (the key of ranking.py's GAP)

ROWS_PER_BLOCK = 256
SURVIVORS_PER_SORT = 1 << 18  # survivors ordered by one sort (2 MB of 64-bit keys: its temporaries
# are reused by the next run instead of each costing fresh pages)
ROWS_PER_SORT = 1 << runs.ROW_BITS  # and at most this many rows, so that the keys fit 64 bits
THREADS = max(1, min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1))
WORKSPACE_BYTES = 64 << 20  # scratch kept by a thread between calls (more is freed after the call)

_pool = {"pid": None, "executor": None}
_local = threading.local()


def map_parts(function, arrays):
    """``[function(workspace, *parts)]``: ``arrays`` (sharing their first dimension) cut into up to
    :data:`THREADS` contiguous runs of whole blocks, one per thread (the calling thread takes the
    first), results in order.

    Each run gets its thread's ``workspace``, a dict of scratch buffers (see
    :func:`course_lib.metrics.blocks.buffer`) reused from block to block and from call to call:
    fresh buffers would cost a page fault per 4 kB each time (a thread keeps up to
    :data:`WORKSPACE_BYTES`).
    """
    n = len(arrays[0])
    num_blocks = -(-n // ROWS_PER_BLOCK)
    edges = [i * num_blocks // THREADS * ROWS_PER_BLOCK for i in range(THREADS)] + [n]
    ranges = [(a, min(b, n)) for a, b in zip(edges, edges[1:]) if a < min(b, n)]

    def run(bounds):
        workspace = thread_workspace()
        try:
            return function(workspace, *(a[bounds[0] : bounds[1]] for a in arrays))
        finally:
            trim(workspace)

    if len(ranges) < 2:
        return [run((0, n))]
    if _pool["pid"] != (os.getpid(), THREADS):  # none yet, inherited through fork (its threads are
        # gone), or THREADS changed
        if _pool["executor"] is not None and _pool["pid"][0] == os.getpid():
            _pool["executor"].shutdown(wait=False)
        _pool["executor"] = ThreadPoolExecutor(THREADS - 1, thread_name_prefix="course_lib.metrics")
        _pool["pid"] = (os.getpid(), THREADS)
    others = [_pool["executor"].submit(run, bounds) for bounds in ranges[1:]]
    try:
        first = run(ranges[0])  # the calling thread takes the first run: one thread less to wake
    finally:
        results = [future.result() for future in others]  # waited for even when the first raised
    return [first, *results]


def thread_workspace():
    """This thread's scratch buffers (a dict for :func:`course_lib.metrics.blocks.buffer`), kept
    between calls."""
    workspace = getattr(_local, "workspace", None)
    if workspace is None:
        workspace = _local.workspace = {}
    return workspace


def trim(workspace):
    """Free a workspace's buffers if they hold more than :data:`WORKSPACE_BYTES`."""
    if sum(getattr(a, "nbytes", 0) for a in workspace.values()) > WORKSPACE_BYTES:
        workspace.clear()


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
        parts = map_parts(lambda workspace, part: _select_part(None, part, k, workspace), (scores,))
    except blocks.NotFinite:
        checks.raise_not_finite(scores, name)
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def select_with_hits(truth, scores, k, names=("y_true", "y_score"), indices=True, values=True):
    """:func:`top_k_rows` and :func:`true_counts` in one scan, and whether each pick is a true label.

    Args:
        truth: multi-hot array ``(N, C)``, numeric or boolean (values checked here).
        scores: float array ``(N, C)`` (values checked here).
        k: picks per row; ``None`` for as many as the largest number of true labels of the rows
            of a block (at least 1), the depth PERR needs; shallower blocks are padded on the
            right with index -1, score -inf and no hit.
        names: the arguments named in the error messages.
        indices, values: whether to return the class indices and the scores (``None`` in their
            place otherwise; the metrics need only the hits, GAP the scores too).

    Returns:
        ``(indices, values, hits, num_true)``: int64 ``(N, m)``, ``(N, m)`` in the dtype of
        ``scores``, bool ``(N, m)`` and int64 ``(N,)``, with ``m = min(k, C)``.
    """
    n, c = scores.shape
    if n == 0 or c == 0:
        m = 0 if c == 0 or k is None else min(k, c)
        return (np.zeros((n, m), np.int64) if indices else None, np.zeros((n, m), scores.dtype) if values else None,
                np.zeros((n, m), bool), true_counts(truth, names[0]))
    try:
        parts = map_parts(lambda w, t, s: _select_part(t, s, k, w, (indices, values)), (truth, scores))
    except blocks.NotFinite:
        checks.raise_not_finite(scores, names[1])
    if any(p is None for p in parts):
        checks.raise_not_multi_hot(truth, names[0])
    return _join(parts, (-1, -np.inf, False, None))


def _join(parts, pads):
    """Concatenate per-part tuples of arrays (or ``None``), padding 2-D ones on the right to the
    widest (``pads[i]``: the fill value of element ``i``, ``None`` for 1-D)."""
    if len(parts) == 1:
        return parts[0]
    width = max(a.shape[1] for p in parts for a, pad in zip(p, pads) if a is not None and pad is not None)
    return tuple(
        None if parts[0][i] is None
        else np.concatenate([p[i] if pads[i] is None else _pad(p[i], width, pads[i]) for p in parts])
        for i in range(len(pads))
    )


def _pad(array, width, value):
    if array.shape[1] == width:
        return array
    return np.pad(array, ((0, 0), (0, width - array.shape[1])), constant_values=value)


def _select_part(truth, scores, k, workspace, wanted=(True, True)):
    """One thread's rows, block by block: ``(indices, values, hits, num_true)`` (the last two
    ``None`` without truth, the first two ``None`` unless ``wanted``), or ``None`` if the truth
    holds a value other than 0 and 1.

    A truth block is scanned just before its score block, so both are in cache when the survivors'
    hits are read and their sort keys made. ``k=None``: each block as deep as its largest number of
    true labels.
    """
    n, c = scores.shape
    shift = runs.key_shift(c, truth is not None)
    done, pending, counts, size, first = [], [], [], 0, 0
    for start in range(0, n, ROWS_PER_BLOCK):
        stop = min(start + ROWS_PER_BLOCK, n)
        depth, hits = k, None
        if truth is not None:
            true_positions = blocks.truth_positions(truth[start:stop], workspace)
            if true_positions is None:
                return None
            counts.append(np.bincount(true_positions // c, minlength=stop - start))
            if k is None:
                depth = max(1, int(counts[-1].max()))
        depth = min(depth, c)
        positions, values, exact = blocks.survivors(scores[start:stop], depth, workspace)
        if truth is not None:
            hits = blocks.hits_at(truth[start:stop], positions)
        size += len(positions)
        pending.append(runs.block_entry(positions, values, hits, exact, c, start - first, stop - start, depth, shift))
        if size >= SURVIVORS_PER_SORT or stop - first >= ROWS_PER_SORT or stop == n:
            done.append(runs.rank_run(pending, scores[first:stop], wanted, shift, workspace))
            pending, size, first = [], 0, stop
    if truth is None:
        return (*_join([r[:2] for r in done], (-1, -np.inf)), None, None)
    indices, values, hits = _join(done, (-1, -np.inf, False))
    return indices, values, hits, np.concatenate(counts).astype(np.int64, copy=False)


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
    """True labels per row of a run of rows, or ``None`` if a value is neither 0 nor 1."""
    n, c = truth.shape
    counts = []
    for start in range(0, n, ROWS_PER_BLOCK):
        positions = blocks.truth_positions(truth[start : start + ROWS_PER_BLOCK], workspace)
        if positions is None:
            return None
        counts.append(np.bincount(positions // max(c, 1), minlength=min(ROWS_PER_BLOCK, n - start)))
    return np.concatenate(counts).astype(np.int64, copy=False)


def gather_hits(truth, indices):
    """Whether each ranked index ``(N, m)`` is a true label of its row of ``truth``: bool ``(N, m)``."""
    return runs.take_rows(truth, indices) > 0
