"""Ranking metrics of YouTube-8M in NumPy: AP@K, MAP@K, GAP@K, hit@1 and PERR.

Taught in notebook 02 (``notebooks/02_map_at_k_by_hand.ipynb``), which rebuilds the source
document's tables by hand and checks these functions against them.

The source document (``../shared/seeds/``, "MAP@K") defines, for one video whose true labels form
the query and whose predicted labels are ranked by decreasing confidence::

    AveP@K = sum_{i=1..K} P(i) * delta_r(i)        MAP@K = (1/Q) * sum_q AveP@K(q)

with ``P(i)`` and ``r(i)`` the precision and recall of the ranks 1 through ``i``. ``delta_r(i)`` is
``1 / (number of true labels)`` at a correct rank and 0 elsewhere, so AveP@K is the mean of the
precisions at the correct ranks, divided by a normaliser:

* ``normalize="num_true"``: the number of true labels, the source document's slide (recall runs
  to 1 over *all* true labels; a video with 12 true labels scores at most 10/12 at K = 10);
* ``normalize="min_k"``: ``min(number of true labels, K)``, the YouTube-8M starter code's
  ``AveragePrecisionCalculator.ap_at_n`` and the course demo's ``ap_at_10`` (a perfect top-K list
  scores 1). The two agree whenever a video has at most K true labels, as in both of the source
  document's examples (0.714... and 0.65).

Tie policy (documented once, used everywhere in :mod:`course_lib.metrics`):

* **Within a video**, labels are ranked by decreasing score and equal scores by increasing class
  index, as ``tf.math.top_k`` / ``keras.ops.top_k`` order them; so NumPy, the streaming evaluator
  and the Keras metrics pick the same K labels in the same order. A constant predictor therefore
  ranks classes 0, 1, 2, ... (break ties yourself, e.g. with seeded noise, if that matters).
* **Across videos** (GAP), pooled (score, correct?) pairs with equal scores form one tie group
  that counts as a single threshold: each correct pair in the group gets the precision at the end
  of the group (the step-function definition of ``sklearn.metrics.average_precision_score``).
  So GAP does not depend on the order of the videos, and a histogram of scores (the Keras
  :class:`~course_lib.metrics.keras.GAPAtK`) computes the same thing.

The starter code breaks ties by a shuffle seeded with 0 instead; without ties (continuous scores)
the values here equal the starter code's to floating-point round-off (tested in
``tests/metrics/``).

Not to be confused with the starter code's ``MeanAveragePrecisionCalculator``: its ``aps`` are
per-*class* APs (each label's pooled top-20 predictions across videos, averaged over labels), the
challenge's secondary "mAP"; :func:`map_at_k` is the per-video MAP@K of the tutorial and the project.

Videos without true labels: their AP is 0 and they count in the mean (the starter code's
``ap_at_n`` returns 0 when there are no positives); hit@1 and PERR are 0 for them too. GAP divides
by every true label of every video, found in the top K or not.

All sums are accumulated in float64 (notebook 02 shows the float32 drift over 10^5 terms).
"""

import numbers

import numpy as np

from course_lib.metrics import selection
from course_lib.metrics.pooled import gap_from_pairs
from course_lib.metrics.checks import check_k, check_scores, check_truth_shape

NORMALIZATIONS = ("min_k", "num_true")


# --------------------------------------------------------------------------------------------
# Argument checks (see course_lib.metrics.checks): every bad input is a ValueError naming it.


def _check_batch(y_true, y_score):
    """Checked shapes and dtypes ``(truth, scores)``; the values are checked while
    :func:`~course_lib.metrics.selection.select_with_hits` scans them."""
    scores = check_scores(y_score, finite=False)
    truth = check_truth_shape(y_true, scores.shape)
    if scores.shape[0] == 0:
        raise ValueError(f"y_score must hold at least one video. Received: y_score.shape={scores.shape}")
    return truth, scores


def _ranked_hits(y_true, y_score, k, scores=False):
    """Checked inputs -> ``(ranked hits (N, min(k, C)), top scores or None, true labels per video)``;
    ``k=None``: as deep as PERR needs (see :func:`~course_lib.metrics.selection.select_with_hits`).
    The top scores only if ``scores`` (GAP needs them, the other metrics only the hits)."""
    truth, checked = _check_batch(y_true, y_score)
    _, top_scores, hits, num_true = selection.select_with_hits(truth, checked, k, indices=False, values=scores)
    return hits, top_scores, num_true


def _check_normalize(normalize):
    if normalize not in NORMALIZATIONS:
        raise ValueError(
            f"normalize must be one of {', '.join(map(repr, NORMALIZATIONS))}. "
            f"Received: normalize={normalize!r}"
        )


def _check_label(label, name, num_classes):
    if isinstance(label, bool) or not isinstance(label, numbers.Integral):
        raise ValueError(f"{name} must hold integer label indices. Received: {name} element {label!r}")
    if label < 0 or (num_classes is not None and label >= num_classes):
        upper = "" if num_classes is None else f", {num_classes})"
        interval = f"[0{upper}" if num_classes is not None else "[0, inf)"
        raise ValueError(f"{name} labels must be in {interval}. Received: {name} element {label!r}")
    return int(label)


# --------------------------------------------------------------------------------------------
# One video, from label lists (the source document's worked examples).


def average_precision_at_k(actual, predicted, k=10, normalize="min_k", num_classes=None):
    """AveP@K of one ranked list of predicted labels: ``sum_{i<=K} P(i) * delta_r(i)``.

    The source document's definition (see the module docstring): the precision at each rank
    ``i <= K`` whose label is a true label, summed and divided by the normaliser.

    Args:
        actual: the video's true labels (any iterable of label indices; duplicates count once).
        predicted: predicted label indices, best first; only the first ``k`` are used. A label
            may appear once.
        k: how many ranks to score (default 10, the project's submission length).
        normalize: ``"min_k"`` (default) divides by ``min(len(actual), k)``, the YouTube-8M
            starter code's ``ap_at_n``; ``"num_true"`` divides by ``len(actual)``, the source
            document's slide. Equal when the video has at most ``k`` true labels.
        num_classes: if given, labels must lie in ``[0, num_classes)``.

    Returns:
        float in [0, 1]; 0.0 when ``actual`` is empty.

    Raises:
        ValueError: ``k`` is not a positive integer, ``normalize`` is unknown, a label is not a
            non-negative integer (or is ``>= num_classes``), or ``predicted`` repeats a label.

    Example:

    >>> round(average_precision_at_k({3, 4, 34, 2781, 3764}, [4, 3, 139, 188, 215, 34, 2781, 2208, 40, 3764]), 6)
    0.714286
    >>> average_precision_at_k({3, 4, 9, 34}, [3, 4, 139, 188, 34, 215, 2781, 2208, 40, 3764])
    0.65
    """
    k = check_k(k)
    _check_normalize(normalize)
    if num_classes is not None:
        num_classes = check_k(num_classes, "num_classes")
    if isinstance(actual, (str, bytes)) or isinstance(predicted, (str, bytes)):
        raise ValueError("actual and predicted must be sequences of label indices, not strings")
    truth = {_check_label(label, "actual", num_classes) for label in np.asarray(list(actual)).tolist()}
    ranked = [_check_label(label, "predicted", num_classes) for label in np.asarray(list(predicted)).tolist()]
    if len(set(ranked)) != len(ranked):
        repeated = sorted({label for label in ranked if ranked.count(label) > 1})
        raise ValueError(f"predicted must not repeat a label. Received: predicted repeating {repeated}")
    if not truth:
        return 0.0
    hits = 0
    total = 0.0
    for rank, label in enumerate(ranked[:k], start=1):
        if label in truth:
            hits += 1
            total += hits / rank
    denominator = min(len(truth), k) if normalize == "min_k" else len(truth)
    return total / denominator


# --------------------------------------------------------------------------------------------
# Batches of score matrices (N, C), vectorised.


def top_k(y_score, k):
    """Each video's ``k`` highest scores, best first; equal scores by increasing class index.

    The order of ``tf.math.top_k`` / ``keras.ops.top_k``. Never sorts a whole row: a lower bound on
    each row's ``k``-th score (the ``k``-th largest of disjoint groups' maxima) keeps the few scores
    that reach it, and only those are ordered (:mod:`course_lib.metrics.selection`).

    Args:
        y_score: scores ``(N, C)``, finite; higher means more likely.
        k: positive integer; ``min(k, C)`` columns are returned.

    Returns:
        ``(indices, scores)``: int64 ``(N, min(k, C))`` class indices and the matching scores
        (float, the dtype of ``y_score``; ints and bools become float64).

    Raises:
        ValueError: ``y_score`` is not 2-D, not numeric or not finite; ``k`` is not positive.

    Example:

    >>> top_k([[0.1, 0.9, 0.5, 0.9]], k=3)
    (array([[1, 3, 2]]), array([[0.9, 0.9, 0.5]]))
    """
    k = check_k(k)
    return selection.top_k_rows(check_scores(y_score, finite=False), k)


def ap_from_hits(hits, num_true, k=None, normalize="min_k"):
    """Per-video AP@K from ranked hits: bool ``(N, m)`` (rank 1 first) and true counts ``(N,)``.

    Ranks beyond ``k`` (default: all ``m`` columns) are ignored; ranks missing beyond ``m`` count as
    misses. Returns float64 ``(N,)``; 0 for a video without true labels.
    """
    hits = np.asarray(hits, bool)
    num_true = np.asarray(num_true, np.int64)
    k = hits.shape[1] if k is None else check_k(k)
    _check_normalize(normalize)
    found = np.zeros(len(hits))
    summed = np.zeros(len(hits))
    for rank, column in enumerate(_ranks(hits[:, :k]), start=1):  # short loop over long arrays
        found += column
        np.add(summed, found / rank, out=summed, where=column)  # the precision at each hit
    denominator = np.minimum(num_true, k) if normalize == "min_k" else num_true
    return np.divide(summed, denominator, out=np.zeros_like(summed), where=denominator > 0)


def _ranks(hits):
    """The columns of ``hits`` ``(N, m)`` as contiguous rows ``(m, N)``: rank by rank."""
    return np.ascontiguousarray(hits.T)


def average_precision_per_video(y_true, y_score, k=10, normalize="min_k"):
    """AP@K of every video of a batch: float64 ``(N,)``; :func:`map_at_k` is its mean.

    Args: as :func:`map_at_k`, plus ``normalize`` as :func:`average_precision_at_k`.
    """
    k = check_k(k)
    _check_normalize(normalize)
    hits, _, num_true = _ranked_hits(y_true, y_score, k)
    return ap_from_hits(hits, num_true, k=k, normalize=normalize)


def map_at_k(y_true, y_score, k=10):
    """MAP@K: the mean over videos of AveP@K of each video's top ``k`` labels.

    ``MAP@K = (1/N) sum_n AveP@K(n)``, AveP@K normalised by ``min(true labels, K)``: equal to the
    mean over videos of the YouTube-8M starter code's ``AveragePrecisionCalculator.ap_at_n(scores,
    labels, n=k)``. A video without true labels scores 0 and counts in the mean.

    Args:
        y_true: multi-hot truth ``(N, C)`` (0/1, any numeric or boolean dtype).
        y_score: scores ``(N, C)``, finite (probabilities, logits: only the order matters).
        k: ranks scored per video (default 10).

    Returns:
        float in [0, 1].

    Raises:
        ValueError: shapes differ or are not 2-D, no videos, ``y_true`` not 0/1, ``y_score`` not
            finite, ``k`` not a positive integer.

    Example:

    >>> map_at_k([[1, 0, 1], [0, 1, 0]], [[0.9, 0.8, 0.1], [0.2, 0.3, 0.1]], k=2)
    0.75
    """
    return float(np.mean(average_precision_per_video(y_true, y_score, k)))


def gap_at_k(y_true, y_score, k=20):
    """GAP@K, the YouTube-8M challenge's global average precision.

    Each video's top ``k`` (score, label) pairs are pooled and ranked by score across all videos::

        GAP = (1/P) * sum_{i=1..N*k} p(i) * rel(i)

    with ``p(i)`` the precision of the first ``i`` pooled pairs, ``rel(i)`` 1 if pair ``i`` is a true
    label and ``P`` the number of true labels of all videos (found in the top ``k`` or not). Equal to
    the starter code's ``eval_util.calculate_gap(predictions, actuals, top_k=k)`` up to its shuffled
    tie-break (see the module docstring: here a tie group counts as one threshold).

    Args:
        y_true: multi-hot truth ``(N, C)``.
        y_score: scores ``(N, C)``, finite.
        k: pairs kept per video (default 20, the challenge's).

    Returns:
        float in [0, 1]; 0.0 when no video has a true label.

    Raises:
        ValueError: as :func:`map_at_k`.

    Example:

    >>> gap_at_k([[1, 0, 1], [0, 1, 0]], [[0.9, 0.8, 0.1], [0.2, 0.3, 0.1]], k=2)
    0.5555555555555555
    """
    k = check_k(k)
    hits, top_scores, num_true = _ranked_hits(y_true, y_score, k, scores=True)
    return gap_from_pairs(top_scores, hits, int(num_true.sum()))


def hit_at_1(y_true, y_score):
    """hit@1: the share of videos whose top-scored label is a true label.

    ``hit@1 = (1/N) sum_n rel_n(1)``, the starter code's ``calculate_hit_at_one``. Ties go to the
    lower class index (like ``np.argmax`` and ``keras.ops.top_k``). A video without true labels counts
    as a miss.

    Args:
        y_true: multi-hot truth ``(N, C)``.
        y_score: scores ``(N, C)``, finite.

    Returns:
        float in [0, 1].

    Raises:
        ValueError: as :func:`map_at_k`.

    Example:

    >>> hit_at_1([[1, 0], [1, 0]], [[0.9, 0.1], [0.2, 0.7]])
    0.5
    """
    hits, _, _ = _ranked_hits(y_true, y_score, 1)
    return float(np.mean(hits[:, :1].any(axis=1)))  # no class at all: every video a miss


def perr(y_true, y_score):
    """Precision at equal recall rate: each video's precision at rank r = its number of true labels.

    ``PERR = (1/N) sum_n |top_{r_n}(n) ∩ true(n)| / r_n``, the starter code's
    ``calculate_precision_at_equal_recall_rate`` without its extra rule that a label needs a
    positive score to count (here only the ranking matters, so logits work as scores; for
    probabilities the two agree). A video without true labels scores 0 and counts in the mean.

    Args:
        y_true: multi-hot truth ``(N, C)``.
        y_score: scores ``(N, C)``, finite.

    Returns:
        float in [0, 1].

    Raises:
        ValueError: as :func:`map_at_k`.

    Example:

    >>> perr([[1, 1, 0], [0, 1, 0]], [[0.9, 0.1, 0.5], [0.2, 0.7, 0.1]])
    0.75
    """
    hits, _, num_true = _ranked_hits(y_true, y_score, None)  # each row's first r ranks are exact
    return float(np.mean(precision_at_num_true(hits, num_true)))


def precision_at_num_true(hits, num_true):
    """Per-video precision at rank ``r`` = number of true labels, from ranked hits ``(N, m)``.

    Ranks beyond ``m`` count as misses (so for ``r > m`` it is a lower bound). 0 for ``r == 0``.
    """
    hits = np.asarray(hits, bool)
    num_true = np.asarray(num_true, np.int64)
    within = np.less(np.arange(hits.shape[1]), num_true[:, None])  # rank i + 1 <= r
    within &= hits
    found = np.count_nonzero(within, axis=1)
    return np.divide(found, num_true, out=np.zeros(len(num_true)), where=num_true > 0)
