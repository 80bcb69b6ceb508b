"""Tests for course_lib.heads: head order <-> label ids (the layers are in tests/layers/test_heads.py)."""

import numpy as np
import pytest

from course_lib import heads
from course_lib.data import load_vocabulary


def test_round_trip_with_the_real_verticals():
    groups = load_vocabulary().vertical_groups()
    rng = np.random.default_rng(0)
    labels = rng.random((5, 3862))
    in_heads = heads.to_head_order(labels, groups)
    assert in_heads.shape == (5, 3862)  # the 25 verticals partition the 3,862 labels
    np.testing.assert_array_equal(heads.to_label_order(in_heads, groups, num_classes=3862), labels)
    first = next(iter(groups.values()))
    np.testing.assert_array_equal(in_heads[:, : len(first)], labels[:, first])


def test_dict_outputs_and_uncovered_ids_are_filled():
    groups = {"b": [3, 0], "a": [1]}
    scores = heads.to_label_order({"a": [[0.5]], "b": [[0.3, 0.9]]}, groups, num_classes=5, fill=-1.0)
    np.testing.assert_array_equal(scores, [[0.9, 0.5, -1.0, 0.3, -1.0]])


@pytest.mark.parametrize(
    "call, text",
    [
        (lambda: heads.head_order({"a": [0, 1], "b": [1]}), "overlap"),
        (lambda: heads.head_order({}), "groups"),
        (lambda: heads.to_label_order(np.zeros((2, 4)), {"a": [0, 1, 2]}), "scores.shape"),
        (lambda: heads.to_label_order(np.zeros((2, 2)), {"a": [0, 5]}, num_classes=3), "num_classes"),
        (lambda: heads.to_label_order({"a": np.zeros((1, 1))}, {"a": [0], "b": [1]}), "scores"),
        (lambda: heads.to_head_order(np.zeros(3), {"a": [0]}), "labels.shape"),
    ],
)
def test_bad_input(call, text):
    with pytest.raises(ValueError, match=text):
        call()

