"""MAP@K and GAP@K as Keras metrics, for ``model.compile(metrics=[...])``.

Taught in notebook 02; the models of the later notebooks report them during ``fit``.

Both are correct across batches: they accumulate state and compute the metric over every video
seen since the last reset, not the mean of per-batch values (which would be wrong for GAP, whose
ranking is global). Inside a compiled ``fit`` they cannot raise on bad input (NaN scores, labels
other than 0/1); check data with the NumPy functions of :mod:`course_lib.metrics.ranking`. Ties follow :mod:`course_lib.metrics.ranking` (``keras.ops.top_k`` puts the
lower class index first). Names default to ``map_at_10`` / ``gap_at_20`` rather than the
challenge's ``map@10``: Keras 3.15 accepts ``name="map@10"`` (checked with ``fit``, ``CSVLogger``,
``jit_compile`` and ``monitor="val_map@10"``), but a plain identifier is also a valid file name,
TensorBoard tag and Python keyword argument everywhere. The dict of
:class:`course_lib.metrics.TopKEvaluator` keeps the ``@`` form for printing.
"""

import keras
from keras import ops

from course_lib.metrics.ranking import check_k


def _top_k_hits(y_true, y_pred, k):
    """Ranked hits ``(B, k)`` (float32 0/1), top scores ``(B, k)`` and true-label counts ``(B,)``."""
    y_pred = ops.cast(y_pred, "float32")
    y_true = ops.cast(y_true, "float32")
    k = min(k, y_pred.shape[-1]) if y_pred.shape[-1] is not None else k
    top_scores, indices = ops.top_k(y_pred, k=k, sorted=True)
    hits = ops.cast(ops.take_along_axis(y_true, indices, axis=-1) > 0, "float32")
    num_true = ops.sum(ops.cast(y_true > 0, "float32"), axis=-1)
    return hits, top_scores, num_true


def _video_weights(sample_weight, batch):
    if sample_weight is None:
        return ops.ones((batch,), "float64")
    weight = ops.cast(sample_weight, "float64")
    if len(weight.shape) > 1:
        weight = ops.reshape(weight, (-1,))
    return ops.broadcast_to(weight, (batch,))


@keras.saving.register_keras_serializable(package="course_lib")
class MAPAtK(keras.metrics.Metric):
    """MAP@K over every video seen: the mean of each video's AveP@K of its top ``k`` labels.

    ``MAP@K = (1/N) sum_n (1/min(r_n, K)) sum_{i<=K} P_n(i) rel_n(i)``, with ``r_n`` the video's
    number of true labels: :func:`course_lib.metrics.map_at_k` (the YouTube-8M starter code's
    ``ap_at_n``), accumulated as a float64 sum and a count. A video without true labels scores 0.

    Args:
        k: ranks scored per video (default 10).
        name: default ``"map_at_{k}"``.
        dtype: dtype of the result (default float32).

    Inputs: ``y_true`` multi-hot ``(B, C)``; ``y_pred`` scores ``(B, C)`` (probabilities or logits:
    only the order matters); optional ``sample_weight`` ``(B,)`` weighs videos.

    Example:

    >>> metric = MAPAtK(k=2)
    >>> metric.update_state([[1, 0, 1], [0, 1, 0]], [[0.9, 0.8, 0.1], [0.2, 0.3, 0.1]])
    >>> float(metric.result())
    0.75
    """

    def __init__(self, k=10, name=None, dtype=None):
        k = check_k(k)
        super().__init__(name=name or f"map_at_{k}", dtype=dtype)
        self._direction = "up"  # higher is better: EarlyStopping / ModelCheckpoint with mode="auto"
        self.k = k
        self.ap_sum = self.add_variable(shape=(), initializer="zeros", dtype="float64", name="ap_sum")
        self.weight_sum = self.add_variable(shape=(), initializer="zeros", dtype="float64", name="weight_sum")

    def update_state(self, y_true, y_pred, sample_weight=None):
        hits, _, num_true = _top_k_hits(y_true, y_pred, self.k)
        k = hits.shape[-1]
        ranks = ops.arange(1, k + 1, dtype="float32")
        precision = ops.cumsum(hits, axis=-1) / ranks
        denominator = ops.minimum(num_true, float(self.k))
        summed = ops.sum(precision * hits, axis=-1)
        ap = ops.where(denominator > 0, summed / ops.maximum(denominator, 1.0), 0.0)
        weight = _video_weights(sample_weight, ops.shape(ap)[0])
        self.ap_sum.assign_add(ops.sum(ops.cast(ap, "float64") * weight))
        self.weight_sum.assign_add(ops.sum(weight))

    def result(self):
        value = ops.where(self.weight_sum > 0, self.ap_sum / ops.maximum(self.weight_sum, 1e-300), 0.0)
        return ops.cast(value, self.dtype)

    def reset_state(self):
        self.ap_sum.assign(0.0)
        self.weight_sum.assign(0.0)

    def get_config(self):
        return {"k": self.k, "name": self.name, "dtype": self.dtype}


@keras.saving.register_keras_serializable(package="course_lib")
class GAPAtK(keras.metrics.Metric):
    """GAP@K over every video seen, from a histogram of the pooled top-``k`` scores.

    ``GAP = (1/P) sum_i p(i) rel(i)`` over every video's top ``k`` (score, label) pairs ranked by
    score (:func:`course_lib.metrics.gap_at_k`). An exact GAP needs every pair (``N * k`` of them,
    which :class:`course_lib.metrics.TopKEvaluator` keeps); a metric's state has a fixed size, so
    this one counts correct and wrong pairs in ``num_bins`` equal-width score bins on [0, 1] and
    treats each bin as one tie group. So it is the exact GAP of the pooled top-``k`` pairs with
    every score replaced by its bin (tested to 1e-6 on scores that sit one per bin); on continuous
    scores it differs from :func:`course_lib.metrics.gap_at_k` only by the order of pairs that
    share a bin (within 1e-3 in the tests at 10,000 bins; raise ``num_bins`` for more). Counts and
    sums are float64 (the TensorFlow backend; under JAX enable x64).

    Args:
        k: pairs kept per video (default 20).
        num_bins: score bins on [0, 1] (default 10,000; state ``2 * num_bins`` float64).
        from_logits: apply a sigmoid to ``y_pred`` first (scores must be probabilities in [0, 1];
            values outside are clipped into the end bins).
        name: default ``"gap_at_{k}"``.
        dtype: dtype of the result (default float32).

    Inputs: ``y_true`` multi-hot ``(B, C)``; ``y_pred`` ``(B, C)``; optional ``sample_weight``
    ``(B,)`` weighs each video's pairs and true labels.

    Example:

    >>> metric = GAPAtK(k=2)
    >>> metric.update_state([[1, 0, 1], [0, 1, 0]], [[0.9, 0.8, 0.1], [0.2, 0.3, 0.1]])
    >>> round(float(metric.result()), 4)
    0.5556
    """

    def __init__(self, k=20, num_bins=10_000, from_logits=False, name=None, dtype=None):
        k = check_k(k)
        num_bins = check_k(num_bins, "num_bins")
        super().__init__(name=name or f"gap_at_{k}", dtype=dtype)
        self._direction = "up"
        self.k = k
        self.num_bins = num_bins
        self.from_logits = bool(from_logits)
        self.correct = self.add_variable(shape=(num_bins,), initializer="zeros", dtype="float64", name="correct")
        self.wrong = self.add_variable(shape=(num_bins,), initializer="zeros", dtype="float64", name="wrong")
        self.num_true = self.add_variable(shape=(), initializer="zeros", dtype="float64", name="num_true")

    def update_state(self, y_true, y_pred, sample_weight=None):
        if self.from_logits:
            y_pred = ops.sigmoid(y_pred)
        hits, top_scores, num_true = _top_k_hits(y_true, y_pred, self.k)
        weight = _video_weights(sample_weight, ops.shape(hits)[0])
        bins = ops.cast(ops.floor(ops.clip(top_scores, 0.0, 1.0) * self.num_bins), "int32")
        bins = ops.reshape(ops.minimum(bins, self.num_bins - 1), (-1,))
        pair_weight = ops.reshape(ops.cast(ops.ones_like(hits), "float64") * weight[:, None], (-1,))
        correct = ops.reshape(ops.cast(hits, "float64"), (-1,)) * pair_weight
        self.correct.assign_add(ops.segment_sum(correct, bins, num_segments=self.num_bins))
        self.wrong.assign_add(ops.segment_sum(pair_weight - correct, bins, num_segments=self.num_bins))
        self.num_true.assign_add(ops.sum(ops.cast(num_true, "float64") * weight))

    def result(self):
        correct = ops.flip(self.correct, axis=0)  # highest scores first
        seen = ops.cumsum(correct + ops.flip(self.wrong, axis=0))
        correct_so_far = ops.cumsum(correct)
        precision = ops.where(seen > 0, correct_so_far / ops.maximum(seen, 1e-300), 0.0)
        value = ops.where(self.num_true > 0, ops.sum(correct * precision) / ops.maximum(self.num_true, 1e-300), 0.0)
        return ops.cast(value, self.dtype)

    def reset_state(self):
        self.correct.assign(ops.zeros((self.num_bins,), "float64"))
        self.wrong.assign(ops.zeros((self.num_bins,), "float64"))
        self.num_true.assign(0.0)

    def get_config(self):
        return {
            "k": self.k,
            "num_bins": self.num_bins,
            "from_logits": self.from_logits,
            "name": self.name,
            "dtype": self.dtype,
        }
