"""The metrics API under hostile arguments (issue 11): a correct result or a ValueError naming the argument."""

import numpy as np
import pytest

from course_lib import metrics

Y_TRUE = [[1, 0, 1], [0, 1, 0]]
Y_SCORE = [[0.9, 0.8, 0.1], [0.2, 0.3, 0.1]]


@pytest.mark.parametrize("metric", [metrics.map_at_k, metrics.gap_at_k, metrics.average_precision_per_video])
def test_a_k_beyond_int64_means_every_rank(metric):
    np.testing.assert_allclose(metric(Y_TRUE, Y_SCORE, k=10**30), metric(Y_TRUE, Y_SCORE, k=3))


def test_a_huge_k_for_the_other_entry_points():
    assert metrics.average_precision_at_k([1], [2, 1], k=10**30) == 0.5
    np.testing.assert_array_equal(metrics.top_k(Y_SCORE, 10**30)[0], metrics.top_k(Y_SCORE, 3)[0])
    evaluator = metrics.TopKEvaluator(k=10**30, num_classes=3, map_k=10**30)
    evaluator.update(Y_TRUE, Y_SCORE)
    result = evaluator.result()
    assert result[f"map@{evaluator.map_k}"] == pytest.approx(metrics.map_at_k(Y_TRUE, Y_SCORE, k=3))


def test_zero_classes_score_zero_like_videos_without_labels():
    empty = np.zeros((2, 0))
    for metric in (metrics.hit_at_1, metrics.map_at_k, metrics.gap_at_k, metrics.perr):
        assert metric(empty, empty) == 0.0


@pytest.mark.parametrize("labels, message", [
    ([[1.7]], "y_true[0] must hold integer label indices. Received: y_true[0]=[1.7]"),
    ([[1.0]], "y_true[0] must hold integer label indices"),
    ([[True]], "y_true[0] must hold integer label indices"),
    ([["1"]], "y_true[0] must hold integer label indices"),
    ([[[1]]], "y_true[0] must hold integer label indices"),
    ([[float("nan")]], "y_true[0] must hold integer label indices"),
    ([1], "y_true[0] must be a list of label indices. Received: y_true[0]=1"),
    ([[10**30]], "y_true labels must be in [0, 3). Received: y_true[0]=[1000000000000000000000000000000]"),
    ([[3]], "y_true labels must be in [0, 3). Received: y_true[0]=[3]"),
    ([[1], [2]], "y_true must have one label list per row of top_indices. Received: len(y_true)=2, rows=1"),
])
def test_update_top_k_takes_integer_label_lists_only(labels, message):
    evaluator = metrics.TopKEvaluator(k=1, num_classes=3, map_k=1)
    with pytest.raises(ValueError) as caught:
        evaluator.update_top_k(labels, [[1]], [[1.0]])
    assert str(caught.value).startswith(message)
    assert evaluator.num_videos == 0


def test_update_top_k_with_integer_labels_of_any_integer_type():
    evaluator = metrics.TopKEvaluator(k=2, num_classes=5, map_k=2)
    evaluator.update_top_k([np.array([1], np.uint8), (4, 4), []], [[1, 0], [0, 4], [2, 3]], [[1.0, 0.5]] * 3)
    assert evaluator.result()["hit@1"] == pytest.approx(1 / 3)
