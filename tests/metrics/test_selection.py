"""course_lib.metrics.selection: exact against a stable sort, across dtypes, ties and blocks."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from course_lib.metrics import gap_at_k, hit_at_1, map_at_k, perr, selection, starter
from course_lib.metrics.ranking import gap_from_pairs


def stable_top_k(scores, k):
    """The reference: a stable sort of each whole row (ties to the lower class index)."""
    indices = np.argsort(-scores.astype(np.float64), axis=1, kind="stable")[:, :k]
    return indices, np.take_along_axis(scores, indices, axis=1)


def assert_top_k_exact(scores, k):
    indices, values = selection.top_k_rows(scores, k)
    expected_indices, expected_values = stable_top_k(scores, k)
    np.testing.assert_array_equal(indices, expected_indices)
    np.testing.assert_array_equal(values, expected_values)
    assert indices.dtype == np.int64 and values.dtype == scores.dtype


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("k", [1, 2, 10, 20, 100])
def test_exact_on_several_blocks_of_real_size(dtype, k):
    rng = np.random.default_rng(k)
    rows = 2 * selection.ROWS_PER_BLOCK + 7  # three blocks, the last one short
    scores = rng.random((rows, 3862)).astype(dtype)
    assert_top_k_exact(scores, k)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_ties_all_equal_rows_and_rows_with_fewer_positive_scores_than_k(dtype):
    rng = np.random.default_rng(0)
    scores = np.round(rng.random((300, 3862)) * 4).astype(dtype)  # five values: ties everywhere
    scores[:10] = 0.5  # all-equal rows: classes 0, 1, 2, ...
    scores[10:20] = 0.0
    few = rng.integers(0, 3862, size=(20, 3))
    np.put_along_axis(scores[20:40], few, rng.random((20, 3)).astype(dtype) + 1, axis=1)  # 3 positives
    scores[20:40][scores[20:40] < 1] = 0
    scores[40:50] = -0.0  # equal to 0.0: the lower index wins
    scores[40:50, ::7] = 0.0
    scores[50:60] = -rng.random((10, 3862)).astype(dtype)  # negative scores
    for k in (1, 5, 20, 64):
        assert_top_k_exact(scores, k)


def test_non_contiguous_and_narrow_inputs():
    rng = np.random.default_rng(1)
    scores = rng.random((400, 3862)).astype(np.float32)
    assert_top_k_exact(np.asfortranarray(scores), 20)
    assert_top_k_exact(scores[::3, 5:], 20)
    assert_top_k_exact(scores[:, :30], 20)  # too few classes for groups: the sort path
    assert_top_k_exact(scores[:, :1], 5)


@settings(max_examples=60, deadline=None)
@given(
    hnp.arrays(
        np.float32,
        hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=300),
        elements=st.one_of(st.sampled_from([0.0, -0.0, 1.0, 0.5]), st.floats(-3, 3, width=32)),
    ),
    st.integers(1, 12),
)
def test_matches_a_stable_sort_on_any_float32_matrix(scores, k):
    assert_top_k_exact(scores, k)


def test_descending_keys_sort_like_the_floats():
    values = np.array([0.5, -1.0, np.inf, 2.0, -0.0, 0.0, -np.inf, 1e-45, -1e-45, 3.4e38], np.float32)
    order = np.argsort(selection.descending_keys(values), kind="stable")
    np.testing.assert_array_equal(values[order], -np.sort(-values.astype(np.float64), kind="stable"))
    assert selection.descending_keys(np.float32([-0.0]))[0] == selection.descending_keys(np.float32([0.0]))[0]


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from([np.float16, np.float32]))
def test_gap_key_sort_equals_the_argsort_path(seed, dtype):
    rng = np.random.default_rng(seed)
    scores = np.round(rng.normal(size=(40, 5)), 1).astype(dtype)  # ties across videos
    hits = rng.random((40, 5)) < 0.3
    expected = gap_from_pairs(scores.astype(np.float64), hits, 70)
    assert gap_from_pairs(scores, hits, 70) == pytest.approx(expected, abs=1e-12)


def test_select_with_hits_equals_its_parts():
    rng = np.random.default_rng(2)
    truth = (rng.random((300, 3862)) < 0.002).astype(np.float32)
    scores = rng.random((300, 3862)).astype(np.float32) + truth * 0.3
    indices, values, hits, num_true = selection.select_with_hits(truth, scores, 20)
    expected_indices, expected_values = selection.top_k_rows(scores, 20)
    np.testing.assert_array_equal(indices, expected_indices)
    np.testing.assert_array_equal(values, expected_values)
    np.testing.assert_array_equal(hits, selection.gather_hits(truth, expected_indices))
    np.testing.assert_array_equal(num_true, truth.sum(axis=1))
    # k=None: each block as deep as its largest label count; padding never reaches a row's depth.
    indices, values, hits, num_true = selection.select_with_hits(truth, scores, None)
    assert hits.shape[1] == max(1, num_true.max())
    for row in range(300):
        depth = max(1, num_true[row])
        np.testing.assert_array_equal(indices[row, :depth], expected_indices[row, :depth])


@pytest.mark.parametrize("dtype", [bool, np.int8, np.int64, np.float16, np.float32, np.float64])
def test_true_counts_for_every_dtype(dtype):
    rng = np.random.default_rng(3)
    truth = rng.random((300, 50)) < 0.1
    np.testing.assert_array_equal(selection.true_counts(truth.astype(dtype)), truth.sum(axis=1))


@pytest.mark.parametrize(
    "bad", [0.5, 2.0, -1.0, 1e-30, np.float32(1) - np.float32(2**-24), np.nextafter(1.0, 2.0), np.nan, np.inf]
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_true_counts_reject_every_other_value(bad, dtype):
    truth = np.zeros((300, 50), dtype)
    truth[:, 3] = 1
    truth[250, 7] = bad
    if truth[250, 7] in (0, 1):  # the value did not survive the cast
        pytest.skip("not representable as a distinct value")
    with pytest.raises(ValueError, match="y_true must be multi-hot.*1 other value"):
        selection.true_counts(truth)


def test_non_finite_scores_are_counted_over_the_whole_matrix():
    scores = np.zeros((300, 50), np.float32)
    scores[10, 1], scores[200, 2], scores[299, 3] = np.nan, np.inf, -np.inf
    with pytest.raises(ValueError, match="y_score must be finite.*3 NaN or infinite"):
        selection.top_k_rows(scores, 5)
    for call in (map_at_k, gap_at_k, hit_at_1, perr):
        with pytest.raises(ValueError, match="y_score must be finite"):
            call(np.zeros((300, 50)), scores)
    with pytest.raises(ValueError, match="y_score must be finite"):
        perr(np.zeros((300, 50)), scores)  # no true label at all: the scores still get checked


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_metrics_equal_the_starter_code_on_rows_with_few_positive_scores(dtype):
    # Three positive scores per video, the true labels among them, zeros elsewhere: the zeros tie
    # (the starter code shuffles them, course_lib takes the lower index) but never hold a true label,
    # so every metric is independent of the tie-break and must equal the starter code's.
    rng = np.random.default_rng(4)
    scores = np.zeros((300, 400))
    truth = np.zeros((300, 400))
    for row in range(300):
        columns = rng.choice(400, 3, replace=False)
        scores[row, columns] = rng.permutation([0.9, 0.6, 0.3])
        truth[row, columns[: rng.integers(1, 4)]] = 1
    scores = scores.astype(dtype)
    scores64 = scores.astype(np.float64)
    assert map_at_k(truth, scores, k=10) == pytest.approx(starter.mean_ap_at_n(scores64, truth, n=10), abs=1e-6)
    assert hit_at_1(truth, scores) == pytest.approx(starter.calculate_hit_at_one(scores64, truth), abs=1e-6)
    assert perr(truth, scores) == pytest.approx(starter.calculate_precision_at_equal_recall_rate(scores64, truth), abs=1e-6)


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("per_sort", [1, 500, 1 << 20])
def test_threads_and_sort_runs_do_not_change_the_result(monkeypatch, threads, per_sort):
    # Runs of rows per thread, and survivors ordered in runs of SURVIVORS_PER_SORT (1: every block
    # alone), must give the stable sort's top k; ties and all-equal rows included.
    monkeypatch.setattr(selection, "THREADS", threads)
    monkeypatch.setattr(selection, "SURVIVORS_PER_SORT", per_sort)
    rng = np.random.default_rng(5)
    rows = 5 * selection.ROWS_PER_BLOCK + 3
    scores = np.round(rng.random((rows, 3862)) * 50).astype(np.float32)
    scores[7] = 0.25
    truth = (rng.random((rows, 3862)) < 0.002).astype(np.float32)
    truth[9, :40] = 1  # more true labels than k in one row
    assert_top_k_exact(scores, 20)
    indices, values, hits, num_true = selection.select_with_hits(truth, scores, 20)
    np.testing.assert_array_equal(indices, stable_top_k(scores, 20)[0])
    np.testing.assert_array_equal(hits, np.take_along_axis(truth, indices, axis=1) > 0)
    np.testing.assert_array_equal(num_true, truth.sum(axis=1))


def test_truth_in_any_layout_and_negative_zero():
    rng = np.random.default_rng(6)
    truth = rng.random((200, 3862)) < 0.003
    scores = rng.random((200, 3862)).astype(np.float32)
    expected = selection.select_with_hits(truth, scores, 10)
    for layout in (np.asfortranarray(truth), truth.astype(np.float16), truth.astype(np.int8)[:, :]):
        for got, want in zip(selection.select_with_hits(layout, scores, 10), expected):
            np.testing.assert_array_equal(got, want)
    signed = truth.astype(np.float32)
    signed[signed == 0] = -0.0  # equal to 0: not a true label
    np.testing.assert_array_equal(selection.true_counts(signed), truth.sum(axis=1))


def assert_same_bits(got, want):
    """Equal arrays, and equal signs of zero (-0.0 is a score of its own input)."""
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(want))


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_non_negative_and_general_blocks_in_one_run(dtype):
    # Blocks of scores >= +0.0 take the unsigned-bits path (values read back from the sort keys);
    # a block with a negative score or -0.0 takes the float path, and a run holding one reads
    # its values back from the scores, so -0.0 stays -0.0.
    rng = np.random.default_rng(8)
    rows = 4 * selection.ROWS_PER_BLOCK
    scores = rng.random((rows, 3862)).astype(dtype)
    scores[selection.ROWS_PER_BLOCK : 2 * selection.ROWS_PER_BLOCK] -= dtype(0.5)  # negatives
    zeros = slice(3 * selection.ROWS_PER_BLOCK, 3 * selection.ROWS_PER_BLOCK + 5)
    scores[zeros] = -0.0
    scores[zeros, ::3] = 0.0
    truth = (rng.random((rows, 3862)) < 0.003).astype(np.float32)
    for k in (1, 7, 20):
        indices, values = selection.top_k_rows(scores, k)
        expected_indices, expected_values = stable_top_k(scores, k)
        np.testing.assert_array_equal(indices, expected_indices)
        assert_same_bits(values, expected_values)
        _, values, hits, num_true = selection.select_with_hits(truth, scores, k, indices=False)
        assert_same_bits(values, expected_values)
        np.testing.assert_array_equal(hits, np.take_along_axis(truth, expected_indices, axis=1) > 0)


def test_rows_whose_survivors_crowd_one_group_or_the_last_columns():
    # Group j of a row holds the columns j, j + W, ..., j + 7 W (W = 3862 // 8 = 482) and, for
    # j < 6, one of the 6 last columns. Put the top scores all in one group, all in the last
    # columns, or tie a whole row with its k-th score: every member of a reaching group is looked at.
    rng = np.random.default_rng(9)
    width = 3862 // 8
    scores = rng.random((6, 3862)).astype(np.float32) * 0.5
    scores[0, 3 + width * np.arange(8)] = 0.9  # group 3, eight members
    scores[0, 8 * width + 3] = 0.95  # and its ninth, in the last columns
    scores[1, 8 * width :] = [0.7, 0.8, 0.9, 0.9, 0.8, 0.7]  # the last columns only
    scores[2] = 0.25  # every score ties
    scores[3, :40] = 0.75  # 40 scores tie at the top, more than k
    scores[4, ::2] = 0.0  # half the row ties at 0.0
    scores[5] = np.float32(2.0) ** -140  # subnormal scores are non-negative too
    for k in (2, 9, 20, 64):
        assert_top_k_exact(scores, k)
    assert_top_k_exact(scores.astype(np.float16), 20)


@pytest.mark.parametrize("dtype", [bool, np.int8, np.float16, np.float32, np.float64, np.int64])
def test_truth_read_in_words_or_not(dtype):
    # C-contiguous truth whose blocks are a multiple of 64 bytes is compared 8 bytes at a time;
    # a misaligned view, a block of another size or a non-contiguous array are compared value by value.
    rng = np.random.default_rng(10)
    expected = rng.random((300, 64)) < 0.05
    expected[5, :] = True  # a full row
    dense = expected.astype(dtype)
    storage = np.zeros(dense.size + 1, dtype)
    misaligned = storage[1:].reshape(dense.shape)
    misaligned[...] = dense
    for layout in (dense, misaligned, dense[:, :63], np.asfortranarray(dense)):
        want = expected[:, : layout.shape[1]].sum(axis=1)
        np.testing.assert_array_equal(selection.true_counts(layout), want)
    if dtype != bool:
        bad = dense.copy()
        bad[200, 10] = 2
        with pytest.raises(ValueError, match="y_true must be multi-hot"):
            selection.true_counts(bad)


@pytest.mark.parametrize("keep", [True, False])
def test_scratch_kept_between_calls_of_other_shapes_and_dtypes(monkeypatch, keep):
    # Each thread keeps its scratch buffers from call to call (or frees them after each call
    # when WORKSPACE_BYTES is 0): calls of other widths, depths, dtypes and thread counts, one
    # after the other, each equal the stable sort.
    if not keep:
        monkeypatch.setattr(selection, "WORKSPACE_BYTES", 0)
    rng = np.random.default_rng(11)
    for threads, rows, classes, dtype, k in [
        (2, 3 * selection.ROWS_PER_BLOCK + 5, 3862, np.float32, 20),
        (2, 40, 1000, np.float16, 7),
        (1, selection.ROWS_PER_BLOCK + 1, 3862, np.float64, 20),
        (3, 2 * selection.ROWS_PER_BLOCK, 500, np.float32, 3),
        (2, 3 * selection.ROWS_PER_BLOCK + 5, 3862, np.float32, 20),
    ]:
        monkeypatch.setattr(selection, "THREADS", threads)
        scores = np.round(rng.random((rows, classes)) * 30).astype(dtype)
        assert_top_k_exact(scores, k)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_depth_of_each_block_its_largest_label_count_for_every_key_path(dtype):
    # k=None (PERR): blocks of different depths in one sorted run, padded on the right; float16
    # and float32 scores go through 64-bit keys, float64 through np.lexsort.
    rng = np.random.default_rng(12)
    rows = 3 * selection.ROWS_PER_BLOCK + 9
    truth = (rng.random((rows, 3862)) < 0.001).astype(np.float32)
    truth[selection.ROWS_PER_BLOCK + 3, :30] = 1  # one deep row in the second block
    scores = np.round(rng.random((rows, 3862)) * 100).astype(dtype)
    scores[5] -= dtype(50)  # a block with negative scores: the float path
    indices, values, hits, num_true = selection.select_with_hits(truth, scores, None)
    expected_indices, expected_values = stable_top_k(scores, indices.shape[1])
    assert indices.shape[1] == num_true.max() >= 30
    for start in range(0, rows, selection.ROWS_PER_BLOCK):
        block = slice(start, start + selection.ROWS_PER_BLOCK)
        depth = max(1, num_true[block].max())
        np.testing.assert_array_equal(indices[block, :depth], expected_indices[block, :depth])
        np.testing.assert_array_equal(values[block, :depth], expected_values[block, :depth])
        want_hits = np.take_along_axis(truth[block], expected_indices[block, :depth], axis=1) > 0
        np.testing.assert_array_equal(hits[block, :depth], want_hits)
        assert (indices[block, depth:] == -1).all() and (values[block, depth:] == -np.inf).all()
        assert not hits[block, depth:].any()
