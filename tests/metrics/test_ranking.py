"""course_lib.metrics.ranking: the source document's examples, the starter code, brute force."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from course_lib.metrics import (
    average_precision_at_k,
    average_precision_per_video,
    gap_at_k,
    hit_at_1,
    map_at_k,
    perr,
    top_k,
)
from course_lib.metrics import starter
from course_lib.metrics.ranking import gap_from_pairs

# The source document's two worked examples (../shared/seeds/, "AveP@K" and "Example of AP@10").
EXAMPLE_1 = ({3, 4, 34, 2781, 3764}, [4, 3, 139, 188, 215, 34, 2781, 2208, 40, 3764])
EXAMPLE_2 = ({3, 4, 9, 34}, [3, 4, 139, 188, 34, 215, 2781, 2208, 40, 3764])


# ---------------------------------------------------------------------------------------------
# Brute-force references, written from the definitions with Python loops.


def brute_ranking(score_row, k):
    """Classes by decreasing score, equal scores by increasing index; the first k."""
    return sorted(range(len(score_row)), key=lambda c: (-score_row[c], c))[:k]


def brute_ap(truth_row, score_row, k, normalize="min_k"):
    true_labels = {c for c, t in enumerate(truth_row) if t}
    if not true_labels:
        return 0.0
    found, total = 0, 0.0
    for rank, c in enumerate(brute_ranking(score_row, k), start=1):
        if c in true_labels:
            found += 1
            total += found / rank
    return total / (min(len(true_labels), k) if normalize == "min_k" else len(true_labels))


def brute_gap(truth, scores, k):
    pairs = [(scores[n][c], bool(truth[n][c])) for n in range(len(scores)) for c in brute_ranking(scores[n], k)]
    num_true = int(np.sum(truth))
    if num_true == 0:
        return 0.0
    total, seen, found = 0.0, 0, 0
    for value in sorted({p[0] for p in pairs}, reverse=True):  # one tie group per distinct score
        group = [hit for s, hit in pairs if s == value]
        seen += len(group)
        found += sum(group)
        total += sum(group) * found / seen
    return total / num_true


def brute_perr(truth, scores):
    values = []
    for truth_row, score_row in zip(truth, scores):
        r = int(np.sum(truth_row))
        values.append(0.0 if r == 0 else sum(truth_row[c] for c in brute_ranking(score_row, r)) / r)
    return float(np.mean(values))


# ---------------------------------------------------------------------------------------------
# The source document's examples.


def test_source_example_1_is_five_sevenths():
    assert average_precision_at_k(*EXAMPLE_1) == pytest.approx(5 / 7)  # 0.714...
    assert average_precision_at_k(*EXAMPLE_1, normalize="num_true") == pytest.approx(5 / 7)


def test_source_example_2_is_0_65():
    assert average_precision_at_k(*EXAMPLE_2) == pytest.approx(0.65)
    assert average_precision_at_k(*EXAMPLE_2, normalize="num_true") == pytest.approx(0.65)


def test_normalisations_differ_only_beyond_k_true_labels():
    actual = list(range(12))
    predicted = list(range(10))  # ten correct labels: perfect for min_k, 10/12 of recall for num_true
    assert average_precision_at_k(actual, predicted, k=10) == pytest.approx(1.0)
    assert average_precision_at_k(actual, predicted, k=10, normalize="num_true") == pytest.approx(10 / 12)


def test_source_examples_through_the_matrix_functions():
    truth = np.zeros((2, 3862), np.float32)
    scores = np.zeros((2, 3862), np.float32)
    for row, (actual, predicted) in enumerate([EXAMPLE_1, EXAMPLE_2]):
        truth[row, list(actual)] = 1
        scores[row, predicted] = np.linspace(1.0, 0.1, 10)
    np.testing.assert_allclose(average_precision_per_video(truth, scores, k=10), [5 / 7, 0.65])
    assert map_at_k(truth, scores, k=10) == pytest.approx((5 / 7 + 0.65) / 2)


def test_only_the_first_k_predictions_count():
    assert average_precision_at_k({1}, [0, 2, 3, 1], k=3) == 0.0
    assert average_precision_at_k({1}, [0, 2, 3, 1], k=4) == pytest.approx(0.25)


def test_video_without_true_labels_scores_zero_and_counts():
    assert average_precision_at_k([], [1, 2, 3]) == 0.0
    truth = np.array([[1, 0, 0], [0, 0, 0]])
    scores = np.array([[0.9, 0.1, 0.2], [0.3, 0.2, 0.1]])
    assert map_at_k(truth, scores, k=2) == pytest.approx(0.5)
    assert hit_at_1(truth, scores) == pytest.approx(0.5)
    assert perr(truth, scores) == pytest.approx(0.5)
    assert gap_at_k(np.zeros((2, 3)), scores) == 0.0


def test_k_larger_than_the_class_count():
    truth = np.array([[1, 0, 1], [0, 1, 0]])
    scores = np.array([[0.1, 0.9, 0.5], [0.2, 0.7, 0.1]])
    indices, values = top_k(scores, 50)
    assert indices.shape == values.shape == (2, 3)
    assert map_at_k(truth, scores, k=50) == pytest.approx(map_at_k(truth, scores, k=3))
    assert gap_at_k(truth, scores, k=50) == pytest.approx(brute_gap(truth, scores, 50))


# ---------------------------------------------------------------------------------------------
# Ties.


def test_top_k_breaks_ties_by_lower_class_index():
    indices, values = top_k([[0.5, 0.9, 0.5, 0.9, 0.1]], 4)
    np.testing.assert_array_equal(indices, [[1, 3, 0, 2]])
    np.testing.assert_array_equal(values, [[0.9, 0.9, 0.5, 0.5]])


def test_top_k_block_path_with_ties_matches_a_stable_sort():
    rng = np.random.default_rng(3)
    for k in (1, 5, 20):
        scores = rng.integers(0, 6, size=(50, 3862)).astype(np.float32)  # many ties everywhere
        indices, values = top_k(scores, k)
        expected = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        np.testing.assert_array_equal(indices, expected)
        np.testing.assert_array_equal(values, np.take_along_axis(scores, expected, axis=1))
    constant = np.ones((3, 3862), np.float32)
    np.testing.assert_array_equal(top_k(constant, 20)[0], np.tile(np.arange(20), (3, 1)))


def test_gap_tie_group_is_one_threshold_and_video_order_does_not_matter():
    truth = np.array([[1, 0], [0, 1]])
    scores = np.array([[0.5, 0.1], [0.5, 0.9]])  # pairs: 0.9 hit, then 0.5 hit and 0.5 miss tied
    expected = (1 / 1 + 1 * 2 / 3) / 2
    assert gap_at_k(truth, scores, k=2) == pytest.approx(expected)
    assert gap_at_k(truth[::-1], scores[::-1], k=2) == pytest.approx(expected)


# ---------------------------------------------------------------------------------------------
# Against the YouTube-8M starter code (float64 scores: no ties; float32 scores of 6,000 pooled
# pairs already tie a few dozen times, which the starter code breaks by a seeded shuffle).


@pytest.fixture(scope="module")
def continuous_batch():
    rng = np.random.default_rng(0)
    num_true = rng.integers(0, 8, size=300)  # includes videos without labels
    truth = np.zeros((300, 500))
    for row, n in enumerate(num_true):
        truth[row, rng.choice(500, n, replace=False)] = 1
    # Scores that favour the true labels a little, so the metrics are far from 0.
    scores = rng.random((300, 500)) + 0.3 * truth * rng.random((300, 500))
    return truth, scores


def test_map_equals_starter_mean_ap_at_n(continuous_batch):
    truth, scores = continuous_batch
    for k in (1, 10, 20):
        assert map_at_k(truth, scores, k=k) == pytest.approx(starter.mean_ap_at_n(scores, truth, n=k), abs=1e-12)


def test_gap_equals_starter_calculate_gap(continuous_batch):
    truth, scores = continuous_batch
    for k in (1, 20):
        assert gap_at_k(truth, scores, k=k) == pytest.approx(starter.calculate_gap(scores, truth, top_k=k), abs=1e-12)


def test_starter_gap_accumulates_in_float32_when_the_labels_are_float32(continuous_batch):
    # Under NumPy 2 a Python float times a float32 scalar is float32, so the starter code's
    # ``ap += poscount / (i + 1) * delta_recall`` sums in float32 when ``actuals`` is float32
    # (as load_yt8m's labels are). gap_at_k sums in float64 whatever the input dtype.
    truth, scores = continuous_batch
    drifting = starter.calculate_gap(scores, truth.astype(np.float32))
    assert isinstance(drifting, np.float32)
    assert gap_at_k(truth.astype(np.float32), scores) == gap_at_k(truth, scores)
    assert drifting != pytest.approx(gap_at_k(truth, scores), abs=1e-9)


def test_hit_at_1_and_perr_equal_the_starter_code(continuous_batch):
    truth, scores = continuous_batch
    assert hit_at_1(truth, scores) == pytest.approx(starter.calculate_hit_at_one(scores, truth))
    assert perr(truth, scores) == pytest.approx(starter.calculate_precision_at_equal_recall_rate(scores, truth))


# ---------------------------------------------------------------------------------------------
# Property tests against the brute-force references (small score sets make ties common).


@st.composite
def batches(draw, max_classes=40):
    n = draw(st.integers(1, 6))
    c = draw(st.integers(1, max_classes))
    truth = draw(hnp.arrays(np.int8, (n, c), elements=st.integers(0, 1)))
    values = st.one_of(
        st.sampled_from([0.0, 0.25, 0.5, 1.0]),
        st.floats(-10, 10, allow_nan=False, width=32),
    )
    scores = draw(hnp.arrays(np.float32, (n, c), elements=values))
    return truth, scores


@settings(max_examples=150, deadline=None)
@given(batches(), st.integers(1, 25))
def test_map_and_per_video_ap_match_brute_force(batch, k):
    truth, scores = batch
    expected = [brute_ap(t, s, k) for t, s in zip(truth.tolist(), scores.tolist())]
    np.testing.assert_allclose(average_precision_per_video(truth, scores, k), expected, atol=1e-12)
    assert map_at_k(truth, scores, k) == pytest.approx(np.mean(expected), abs=1e-12)


@settings(max_examples=150, deadline=None)
@given(batches(), st.integers(1, 25))
def test_gap_matches_brute_force(batch, k):
    truth, scores = batch
    assert gap_at_k(truth, scores, k) == pytest.approx(brute_gap(truth.tolist(), scores.tolist(), k), abs=1e-12)


@settings(max_examples=100, deadline=None)
@given(batches())
def test_hit_at_1_and_perr_match_brute_force(batch):
    truth, scores = batch
    best = [brute_ranking(s, 1)[0] for s in scores.tolist()]
    assert hit_at_1(truth, scores) == pytest.approx(np.mean([t[b] for t, b in zip(truth, best)]))
    assert perr(truth, scores) == pytest.approx(brute_perr(truth, scores))


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 4), st.integers(1, 30), st.integers(0, 2**32 - 1))
def test_top_k_block_path_matches_stable_sort(n, k, seed):
    rng = np.random.default_rng(seed)
    scores = np.round(rng.normal(size=(n, 16 * 4 * k + rng.integers(0, 40))), 1).astype(np.float32)
    indices, values = top_k(scores, k)
    expected = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    np.testing.assert_array_equal(indices, expected)
    np.testing.assert_array_equal(values, np.take_along_axis(scores, expected, axis=1))


@settings(max_examples=100, deadline=None)
@given(
    st.sets(st.integers(0, 30), max_size=12),
    st.permutations(list(range(31))),
    st.integers(1, 31),
)
def test_label_list_ap_matches_the_matrix_version(actual, order, k):
    truth = np.zeros((1, 31))
    truth[0, list(actual)] = 1
    scores = np.zeros((1, 31))
    scores[0, order] = np.arange(31, 0, -1)  # order[0] gets the highest score
    assert average_precision_at_k(actual, order, k) == pytest.approx(average_precision_per_video(truth, scores, k)[0])
    expected = brute_ap(truth[0], scores[0], k, "num_true")
    assert average_precision_at_k(actual, order, k, normalize="num_true") == pytest.approx(expected)


# ---------------------------------------------------------------------------------------------
# Shapes, dtypes, inputs.


def test_dtypes_and_return_types():
    truth = np.array([[True, False, True]])
    for dtype in (np.float16, np.float32, np.float64, np.int32, bool):
        scores = np.array([[3, 1, 2]]).astype(dtype)
        indices, values = top_k(scores, 2)
        assert indices.dtype == np.int64
        assert values.dtype == (scores.dtype if scores.dtype.kind == "f" else np.float64)
        assert isinstance(map_at_k(truth, scores), float)
        assert isinstance(gap_at_k(truth, scores), float)


def test_negative_zero_is_a_zero_label():
    truth = np.array([[1.0, -0.0, 0.0]], np.float32)
    assert map_at_k(truth, [[0.2, 0.9, 0.1]], k=2) == pytest.approx(0.5)


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: map_at_k(np.zeros((2, 3)), np.zeros((2, 4))), "y_true"),
        (lambda: map_at_k(np.zeros((2, 3)), np.zeros(3)), "y_score"),
        (lambda: gap_at_k(np.zeros((1, 3)), [[0.1, np.nan, 0.2]]), "y_score"),
        (lambda: gap_at_k(np.zeros((1, 3)), [[0.1, np.inf, 0.2]]), "y_score"),
        (lambda: map_at_k(np.zeros((1, 3)), [[0.1, -np.inf, 0.2]]), "y_score"),
        (lambda: map_at_k(np.zeros((1, 3)), np.zeros((1, 3)), k=0), "k"),
        (lambda: gap_at_k(np.zeros((1, 3)), np.zeros((1, 3)), k=-1), "k"),
        (lambda: map_at_k(np.zeros((1, 3)), np.zeros((1, 3)), k=2.5), "k"),
        (lambda: map_at_k(np.zeros((1, 3)), np.zeros((1, 3)), k=True), "k"),
        (lambda: map_at_k([[0, 2, 0]], np.zeros((1, 3))), "y_true"),
        (lambda: hit_at_1([[0, -1, 0]], np.zeros((1, 3))), "y_true"),
        (lambda: perr([[0, 0.5, 0]], np.zeros((1, 3))), "y_true"),
        (lambda: map_at_k(np.zeros((0, 3)), np.zeros((0, 3))), "y_score"),
        (lambda: top_k(np.array([["a", "b"]]), 1), "y_score"),
        (lambda: average_precision_at_k([1], [1, 2], k=0), "k"),
        (lambda: average_precision_at_k([1], [1, 2], normalize="mean"), "normalize"),
        (lambda: average_precision_at_k([-1], [1, 2]), "actual"),
        (lambda: average_precision_at_k([1], [1, 3862], num_classes=3862), "predicted"),
        (lambda: average_precision_at_k([1], [1.5, 2]), "predicted"),
        (lambda: average_precision_at_k([1], [1, 2, 1]), "predicted"),
    ],
)
def test_bad_input_raises_value_error_naming_the_argument(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def brute_gap_from_pairs(scores, hits, num_true_total):
    total, seen, found = 0.0, 0, 0
    for value in sorted(set(scores), reverse=True):  # one tie group per distinct score (-0.0 == 0.0)
        group = [hit for score, hit in zip(scores, hits) if score == value]
        seen += len(group)
        found += sum(group)
        total += sum(group) * found / seen
    return total / num_true_total


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("signs", ["non-negative", "negative and -0.0"])
def test_gap_from_pairs_ranks_correct_pairs_last_in_their_tie_group(dtype, signs):
    # Each key path of gap_from_pairs (32-bit keys for scores >= +0.0, 64-bit keys otherwise,
    # lexsort for float64) on pairs where most scores tie, hits and misses inside one group.
    rng = np.random.default_rng(7)
    for _ in range(20):
        scores = rng.choice([0.0, 0.25, 0.5, 1.0, 3.0], size=(50, 4))
        if signs != "non-negative":
            scores = scores * rng.choice([-1.0, 1.0], size=scores.shape)  # 0.0 * -1.0 is -0.0
        scores = scores.astype(dtype)
        hits = rng.random((50, 4)) < 0.4
        total = int(hits.sum()) + 3  # three true labels never found
        expected = brute_gap_from_pairs(scores.ravel().tolist(), hits.ravel().tolist(), total)
        assert gap_from_pairs(scores, hits, total) == pytest.approx(expected, abs=1e-12)
    assert gap_from_pairs(np.ones((2, 2), dtype), np.zeros((2, 2), bool), 4) == 0.0  # no hit


@pytest.mark.parametrize("keep", [True, False])
def test_gap_from_pairs_reuses_its_buffers_across_sizes(monkeypatch, keep):
    # The 32-bit keys are sorted in a buffer kept by the thread (or freed after each call when
    # the workspace may hold nothing): calls of other sizes, in any order, see none of it.
    from course_lib.metrics import selection

    if not keep:
        monkeypatch.setattr(selection, "WORKSPACE_BYTES", 0)
    rng = np.random.default_rng(8)
    for size in (5000, 7, 5000, 20000, 1, 300):
        scores = np.round(rng.random(size), 2).astype(np.float32)  # ties across pairs
        hits = rng.random(size) < 0.3
        expected = gap_from_pairs(scores.astype(np.float64), hits, size)  # the lexsort path
        assert gap_from_pairs(scores, hits, size) == pytest.approx(expected, abs=1e-12)
