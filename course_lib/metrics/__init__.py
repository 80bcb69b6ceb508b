"""YouTube-8M ranking metrics: AP@K, MAP@K, GAP@K, hit@1, PERR; streaming; Keras metrics.

Taught in notebook 02 (``notebooks/02_map_at_k_by_hand.ipynb``). Public entry points::

    average_precision_at_k(actual, predicted, k=10, normalize="min_k")  # one ranked label list
    map_at_k(y_true, y_score, k=10)      # (N, C) multi-hot truth and scores -> float
    gap_at_k(y_true, y_score, k=20)      # the challenge's global average precision
    hit_at_1(y_true, y_score), perr(y_true, y_score)
    top_k(y_score, k)                    # (indices, scores), ties to the lower class index
    TopKEvaluator(k=20, num_classes=3862, map_k=10)   # streaming: .update / .update_top_k / .result
    MAPAtK(k=10), GAPAtK(k=20)           # keras.metrics.Metric, for model.compile

The NumPy functions and the evaluator import no TensorFlow; ``MAPAtK`` and ``GAPAtK`` load Keras
on first use. The tie policy and the two AP normalisations are documented in
:mod:`course_lib.metrics.ranking`.
"""

import importlib

from course_lib.metrics.ranking import (
    average_precision_at_k,
    average_precision_per_video,
    gap_at_k,
    hit_at_1,
    map_at_k,
    perr,
    top_k,
)
from course_lib.metrics.streaming import TopKEvaluator

_KERAS = ("MAPAtK", "GAPAtK")

__all__ = [
    "average_precision_at_k",
    "average_precision_per_video",
    "map_at_k",
    "gap_at_k",
    "hit_at_1",
    "perr",
    "top_k",
    "TopKEvaluator",
    *_KERAS,
]


def __getattr__(name):
    if name in _KERAS:
        return getattr(importlib.import_module("course_lib.metrics.keras"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_KERAS))
