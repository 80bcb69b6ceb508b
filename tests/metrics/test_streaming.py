"""course_lib.metrics.streaming.TopKEvaluator: batch by batch equals the NumPy functions at once."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.metrics import TopKEvaluator, gap_at_k, hit_at_1, map_at_k, perr, top_k


def random_batch(rng, n, c, max_true=6, ties=False):
    truth = np.zeros((n, c), np.float32)
    for row in range(n):
        truth[row, rng.choice(c, rng.integers(0, max_true + 1), replace=False)] = 1
    scores = rng.random((n, c)).astype(np.float32) + 0.5 * truth
    if ties:
        scores = np.round(scores * 4) / 4
    return truth, scores


def assert_matches_numpy(result, truth, scores, k, map_k):
    assert result[f"map@{map_k}"] == pytest.approx(map_at_k(truth, scores, map_k), abs=1e-12)
    assert result[f"gap@{k}"] == pytest.approx(gap_at_k(truth, scores, k), abs=1e-12)
    assert result["hit@1"] == pytest.approx(hit_at_1(truth, scores), abs=1e-12)
    assert result["num_videos"] == len(truth)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.lists(st.integers(1, 40), min_size=1, max_size=5), st.booleans())
def test_batches_equal_numpy_on_the_concatenation(seed, sizes, ties):
    rng = np.random.default_rng(seed)
    batches = [random_batch(rng, n, 60, ties=ties) for n in sizes]
    evaluator = TopKEvaluator(k=20, num_classes=60, map_k=10)
    for truth, scores in batches:
        evaluator.update(truth, scores)
    truth = np.concatenate([b[0] for b in batches])
    scores = np.concatenate([b[1] for b in batches])
    result = evaluator.result()
    assert_matches_numpy(result, truth, scores, 20, 10)
    assert result["perr"] == pytest.approx(perr(truth, scores), abs=1e-12)  # every video has <= 6 <= k labels


def test_full_size_classes_and_default_keys():
    rng = np.random.default_rng(1)
    truth, scores = random_batch(rng, 200, 3862)
    evaluator = TopKEvaluator()
    evaluator.update(truth[:128], scores[:128])
    evaluator.update(truth[128:], scores[128:])
    result = evaluator.result()
    assert list(result) == ["map@10", "gap@20", "hit@1", "perr", "num_videos"]
    assert_matches_numpy(result, truth, scores, 20, 10)


def test_update_top_k_with_label_lists_equals_dense_update():
    rng = np.random.default_rng(2)
    truth, scores = random_batch(rng, 50, 100)
    dense = TopKEvaluator(k=20, num_classes=100)
    dense.update(truth, scores)
    indices, values = top_k(scores, 25)  # extra columns are ignored
    label_lists = [np.flatnonzero(row).tolist() for row in truth]
    from_lists = TopKEvaluator(k=20, num_classes=100)
    from_lists.update_top_k(label_lists, indices, values)
    from_multi_hot = TopKEvaluator(k=20, num_classes=100)
    from_multi_hot.update_top_k(truth, indices, values)
    assert from_lists.result() == dense.result() == from_multi_hot.result()


def test_a_ranking_without_scores_has_no_gap():
    evaluator = TopKEvaluator(k=10, num_classes=3862, map_k=10)
    # The source document's two examples, as a submission file gives them: ten labels, no scores.
    evaluator.update_top_k(
        [[3, 4, 34, 2781, 3764], [3, 4, 9, 34]],
        np.array([[4, 3, 139, 188, 215, 34, 2781, 2208, 40, 3764], [3, 4, 139, 188, 34, 215, 2781, 2208, 40, 3764]]),
    )
    result = evaluator.result()
    assert "gap@10" not in result
    assert result["map@10"] == pytest.approx((5 / 7 + 0.65) / 2)
    assert result["hit@1"] == 1.0


def test_memory_is_k_per_video_and_reset_forgets():
    rng = np.random.default_rng(3)
    evaluator = TopKEvaluator(k=5, num_classes=300, map_k=3)
    truth, scores = random_batch(rng, 64, 300)
    evaluator.update(truth, scores)
    assert evaluator._scores[0].shape == evaluator._hits[0].shape == (64, 5)
    assert evaluator.num_videos == 64
    evaluator.reset()
    assert evaluator.num_videos == 0
    with pytest.raises(ValueError, match="at least one video"):
        evaluator.result()


def test_k_larger_than_the_class_count():
    rng = np.random.default_rng(4)
    truth, scores = random_batch(rng, 10, 8)
    evaluator = TopKEvaluator(k=20, num_classes=8, map_k=10)
    evaluator.update(truth, scores)
    assert_matches_numpy(evaluator.result(), truth, scores, 20, 10)


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda e: e.update(np.zeros((2, 30)), np.zeros((2, 31))), "y_score"),
        (lambda e: e.update(np.zeros((2, 31)), np.zeros((2, 30))), "y_true"),
        (lambda e: e.update(np.zeros((1, 30)), np.full((1, 30), np.nan)), "y_score"),
        (lambda e: e.update_top_k([[1]], np.array([[0, 1, 2, 3]])), "top_indices"),
        (lambda e: e.update_top_k([[1]], np.array([[0, 1, 2, 3, 30]])), "top_indices"),
        (lambda e: e.update_top_k([[1]], np.array([[0, 1, 2, 3, 3]])), "top_indices"),
        (lambda e: e.update_top_k([[1]], np.array([[0.0, 1, 2, 3, 4]])), "top_indices"),
        (lambda e: e.update_top_k([[30]], np.array([[0, 1, 2, 3, 4]])), "y_true"),
        (lambda e: e.update_top_k([[1], [2]], np.array([[0, 1, 2, 3, 4]])), "y_true"),
        (lambda e: e.update_top_k([[1]], np.array([[0, 1, 2, 3, 4]]), [[5, 4, 3, 2, np.inf]]), "top_scores"),
        (lambda e: e.update_top_k([[1]], np.array([[0, 1, 2, 3, 4]]), [[1, 2, 3, 4, 5]]), "top_scores"),
        (lambda e: e.update_top_k([[1]], np.array([[0, 1, 2, 3, 4]]), [[5, 4, 3]]), "top_scores"),
    ],
)
def test_bad_input_raises_value_error_naming_the_argument(call, name):
    with pytest.raises(ValueError, match=name):
        call(TopKEvaluator(k=5, num_classes=30, map_k=3))


@pytest.mark.parametrize("kwargs, name", [({"k": 0}, "k"), ({"num_classes": -1}, "num_classes"), ({"k": 5, "map_k": 6}, "map_k")])
def test_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=name):
        TopKEvaluator(**kwargs)
