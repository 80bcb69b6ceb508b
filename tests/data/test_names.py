"""Shard naming (``course_lib.data.names``): the two-character codes and their indices."""

import pytest

from course_lib.data import names


def test_every_code_round_trips():
    codes = [names.shard_code(i) for i in range(names.CODES)]
    assert names.CODES == 3844 == len(set(codes))
    assert [names.code_index(c) for c in codes] == list(range(names.CODES))
    assert (codes[0], codes[96], codes[-1]) == ("aa", "bI", "99")
    assert all(len(c) == 2 and set(c) <= set(names.ID_ALPHABET) for c in codes)


@pytest.mark.parametrize("index", [-1, 3844, 10_000])
def test_an_index_out_of_range_is_a_clear_error(index):
    with pytest.raises(ValueError, match=f"Received: index={index}"):
        names.shard_code(index)


@pytest.mark.parametrize("code", ["a", "aaa", "a-", "", "é1"])
def test_a_bad_code_is_a_clear_error(code):
    with pytest.raises(ValueError, match="Received: code="):
        names.code_index(code)
