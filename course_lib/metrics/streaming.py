"""A streaming evaluator that keeps only each video's top k: MAP@K, GAP@K, hit@1 and PERR.

Taught in notebook 02; the ``score`` and ``predict`` commands use it. Scoring millions of videos
batch by batch never holds an ``N x 3,862`` matrix: per video it keeps ``k`` scores, ``k``
booleans (is the label at this rank a true label?) and the number of true labels, that is
``N * k * (score bytes + 1) + 8 N`` bytes (about 100 MB for a million videos at k = 20).

What each metric needs, and so what :meth:`TopKEvaluator.update_top_k` must be given:

========  ==========================================  ============================================
metric    needs per video                             exact?
========  ==========================================  ============================================
map@M     the ranked top ``M`` labels and the number  yes (M = ``map_k`` <= ``k``); scores unused
          of true labels
gap@k     the top ``k`` labels *with scores* and the  yes; needs scores (omitted from the result
          number of true labels                       when an update came without them)
hit@1     the top label                               yes
perr      the top ``r`` labels, r = true labels       yes when every video has r <= k; otherwise
                                                      ranks beyond k count as misses (lower bound)
========  ==========================================  ============================================

Ties follow :mod:`course_lib.metrics.ranking`: within a video, equal scores by increasing class
index; in GAP, a tie group of pooled pairs is one threshold. So after any sequence of updates,
:meth:`TopKEvaluator.result` equals the NumPy functions on the concatenated batches.
"""

import numpy as np

from course_lib.metrics import checks, ranking, selection


class TopKEvaluator:
    """Accumulate batches of predictions, keeping each video's top ``k``; report the metrics.

    Args:
        k: predictions kept per video, the K of GAP@K (default 20, the challenge's).
        num_classes: classes per video (default 3,862); label indices must lie in
            ``[0, num_classes)``.
        map_k: the K of MAP@K (default 10, the project's submission length); at most ``k``.

    Example:

    >>> evaluator = TopKEvaluator(k=2, num_classes=3, map_k=2)
    >>> evaluator.update([[1, 0, 1], [0, 1, 0]], [[0.9, 0.8, 0.1], [0.2, 0.3, 0.1]])
    >>> evaluator.result()
    {'map@2': 0.75, 'gap@2': 0.5555555555555555, 'hit@1': 1.0, 'perr': 0.75, 'num_videos': 2}
    """

    def __init__(self, k=20, num_classes=3862, map_k=10):
        self.k = checks.check_k(k)
        self.num_classes = checks.check_k(num_classes, "num_classes")
        self.map_k = checks.check_k(map_k, "map_k")
        if self.map_k > self.k:
            raise ValueError(f"map_k must be at most k={self.k}. Received: map_k={map_k!r}")
        self.reset()

    def reset(self):
        """Forget every accumulated video."""
        self._scores = []  # per update: (n, k) float, or None when the update had no scores
        self._hits = []  # per update: (n, k) bool
        self._num_true = []  # per update: (n,) int64

    @property
    def num_videos(self):
        """Videos accumulated so far."""
        return int(sum(len(n) for n in self._num_true))

    @property
    def depth(self):
        """Ranks kept per video: ``min(k, num_classes)``."""
        return min(self.k, self.num_classes)

    def update(self, y_true, y_score):
        """Add a batch of dense predictions.

        Args:
            y_true: multi-hot truth ``(B, num_classes)``.
            y_score: scores ``(B, num_classes)``, finite.

        Raises:
            ValueError: shapes differ or do not have ``num_classes`` columns; values as in
                :func:`course_lib.metrics.map_at_k`.
        """
        scores = checks.check_scores(y_score, finite=False)  # values: checked while selecting
        if scores.shape[1] != self.num_classes:
            raise ValueError(
                f"y_score must have num_classes={self.num_classes} columns. "
                f"Received: y_score.shape={scores.shape}"
            )
        truth = checks.check_truth_shape(y_true, scores.shape)
        _, top_scores, hits, num_true = selection.select_with_hits(truth, scores, self.depth, indices=False)
        self._append(top_scores, hits, num_true)

    def update_top_k(self, y_true, top_indices, top_scores=None):
        """Add a batch given as each video's ranked top labels (e.g. read from a submission file).

        Args:
            y_true: a 2-D NumPy array is read as multi-hot truth ``(B, num_classes)``; anything
                else as a sequence of ``B`` label lists (e.g. ``[[3, 4, 34], [9]]``).
            top_indices: int ``(B, m)``, each row's predicted labels, best first, no repeats,
                ``m >= min(k, num_classes)``; columns beyond that are ignored.
            top_scores: ``(B, m)`` scores of ``top_indices``, non-increasing along each row; may be
                ``None`` for a ranking without scores (then ``gap@k`` is left out of the result).

        Raises:
            ValueError: shapes disagree, too few columns, a label outside ``[0, num_classes)``,
                a repeated label in a row, scores not finite or not sorted.
        """
        indices = np.asarray(top_indices)
        if indices.ndim != 2 or (indices.size and indices.dtype.kind not in "iu"):
            raise ValueError(
                f"top_indices must be a 2-D integer array (videos, ranks). "
                f"Received: top_indices.shape={indices.shape}, dtype={indices.dtype}"
            )
        depth = self.depth
        if indices.shape[1] < depth:
            raise ValueError(
                f"top_indices must have at least k={depth} columns. Received: top_indices.shape={indices.shape}"
            )
        indices = indices[:, :depth].astype(np.int64)
        if indices.size and (indices.min() < 0 or indices.max() >= self.num_classes):
            raise ValueError(
                f"top_indices labels must be in [0, {self.num_classes}). "
                f"Received: top_indices with values in [{indices.min()}, {indices.max()}]"
            )
        ordered = np.sort(indices, axis=1)
        if np.any(ordered[:, 1:] == ordered[:, :-1]):
            raise ValueError("top_indices must not repeat a label within a row. Received: a repeated label")
        scores = None
        if top_scores is not None:
            scores = checks.check_scores(top_scores, "top_scores")
            if scores.shape[0] != indices.shape[0] or scores.shape[1] < depth:
                raise ValueError(
                    f"top_scores must have the shape of top_indices. "
                    f"Received: top_scores.shape={scores.shape}, top_indices.shape={np.shape(top_indices)}"
                )
            scores = scores[:, :depth]
            if np.any(scores[:, 1:] > scores[:, :-1]):
                raise ValueError("top_scores must be non-increasing along each row (best first)")
        hits, num_true = self._hits_from_truth(y_true, indices)
        self._append(scores, hits, num_true)

    def _hits_from_truth(self, y_true, indices):
        n = indices.shape[0]
        if isinstance(y_true, np.ndarray) and y_true.ndim == 2:
            truth, num_true = checks.check_truth(
                y_true, (n, self.num_classes), score_name="(len(top_indices), num_classes)"
            )
            return selection.gather_hits(truth, indices), num_true
        labels = checks.check_label_lists(y_true, n, self.num_classes)  # integers in range, each row's once
        num_true = np.array([len(r) for r in labels], np.int64)
        flat = np.concatenate(labels) if labels else np.zeros(0, np.int64)
        owner = np.repeat(np.arange(n, dtype=np.int64), num_true)
        keys = owner * self.num_classes + flat
        queries = np.arange(n, dtype=np.int64)[:, None] * self.num_classes + indices
        return np.isin(queries, keys), num_true

    def _append(self, scores, hits, num_true):
        self._scores.append(scores)
        self._hits.append(hits)
        self._num_true.append(np.asarray(num_true, np.int64))

    def result(self):
        """The metrics over every video so far.

        Returns:
            dict: ``"map@{map_k}"``, ``"gap@{k}"`` (only when every update had scores),
            ``"hit@1"``, ``"perr"`` (floats) and ``"num_videos"`` (int).

        Raises:
            ValueError: no video has been added.
        """
        if not self._num_true or self.num_videos == 0:
            raise ValueError("TopKEvaluator.result() needs at least one video: call update() first")
        hits = np.concatenate(self._hits)
        num_true = np.concatenate(self._num_true)
        out = {f"map@{self.map_k}": float(np.mean(ranking.ap_from_hits(hits, num_true, k=self.map_k)))}
        if all(s is not None for s in self._scores):
            scores = np.concatenate(self._scores)
            out[f"gap@{self.k}"] = ranking.gap_from_pairs(scores, hits, int(num_true.sum()))
        out["hit@1"] = float(np.mean(hits[:, 0]))
        out["perr"] = float(np.mean(ranking.precision_at_num_true(hits, num_true)))
        out["num_videos"] = int(len(num_true))
        return out
