"""GAP's pooled ranking: the (score, correct?) pairs of every video's top k, ranked across videos.

Used by :func:`course_lib.metrics.gap_at_k` and :class:`course_lib.metrics.TopKEvaluator` (taught in
notebook 02). Tie groups of equal scores count as one threshold; see
:mod:`course_lib.metrics.ranking` for the tie policy.

Example:

>>> gap_from_pairs(np.array([0.9, 0.8, 0.8, 0.1]), np.array([True, False, True, False]), 3)
0.5555555555555555
"""

import sys

import numpy as np

from course_lib.metrics import selection
from course_lib.metrics.blocks import buffer


def gap_from_pairs(scores, hits, num_true_total):
    """Global average precision of pooled (score, correct?) pairs, tie groups as one threshold.

    ``GAP = (1/P) * sum_i correct(i) * precision(i)`` over the pairs ranked by decreasing score,
    where ``P = num_true_total`` (every true label, found or not) and pairs with equal scores share
    the precision at the end of their tie group. Returns 0.0 when ``P == 0``. Sums in float64.

    Only the correct pairs are looked at once the pairs are ranked: with the correct pairs last
    within each tie group (:func:`_rank_correct`), the group of the ``j``-th correct pair ends at the
    last correct pair ``j'`` of equal score, at rank ``r(j')``, and holds ``j'`` correct pairs up to
    there, so ``precision(j) = j' / r(j')``.
    """
    scores = np.asarray(scores).ravel()
    hits = np.asarray(hits, bool).ravel()
    if num_true_total <= 0 or scores.size == 0:
        return 0.0
    ranks, values = _rank_correct(scores, hits)  # 0-based ranks of the correct pairs, increasing
    if ranks.size == 0:
        return 0.0
    last = np.flatnonzero(np.append(values[1:] != values[:-1], True))  # last correct pair of each score
    in_group = np.diff(last, prepend=-1)
    return float(np.sum(in_group * ((last + 1.0) / (ranks[last] + 1.0))) / float(num_true_total))


def _rank_correct(scores, hits):
    """Ranks (0-based, increasing) of the correct pairs among all pairs by decreasing score, the
    correct ones last within each tie group; and a key of each one's score (equal iff the scores are).

    float16/float32 scores: one in-place sort of keys ``(score key, correct?)`` in a reused buffer:
    32 bits when every score is finite and ``>= +0.0`` (``0x7FFFFFFF`` minus the float32 bits),
    else 64 bits (order-preserving bits, :func:`course_lib.metrics.selection.descending_keys`).
    Other dtypes: ``np.lexsort``.
    """
    if scores.dtype.kind != "f" or scores.dtype.itemsize > 4:
        order = np.lexsort((hits, -scores))
        ranks = np.flatnonzero(hits[order])
        return ranks, scores[order[ranks]]
    wide = scores.astype(np.float32, copy=False)
    bits = wide.view(np.uint32)
    workspace = selection.thread_workspace()
    if bits.max() < 0x7F800000:  # finite and >= +0.0 (sign bit clear)
        keys = np.subtract(np.uint32(0x7FFFFFFF), bits, out=buffer(workspace, "gap keys", bits.shape, np.uint32))
    else:
        keys = selection.descending_keys(wide).astype(np.uint64)
    keys <<= 1
    keys |= hits
    keys.sort()
    correct = np.bitwise_and(keys, 1, out=buffer(workspace, "gap hits", keys.shape, keys.dtype))
    ranks = np.flatnonzero(correct.view(np.uint8).reshape(-1, keys.itemsize)[:, _LOW_BYTE].view(bool))
    values = keys.take(ranks) >> 1
    selection.trim(workspace)
    return ranks, values


_LOW_BYTE = 0 if sys.byteorder == "little" else -1  # the byte of an integer that holds its bit 0
