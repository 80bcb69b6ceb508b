"""Tests for course_lib.data.arrays.load_arrays: the first videos in reading order, rgb then audio,
no more read than asked for."""

import doctest

import numpy as np
import pytest

from course_lib.data import arrays, load_yt8m
from course_lib.data.arrays import load_arrays


def test_matches_the_pipeline_in_reading_order(tiny_world):
    pattern = str(tiny_world / "train*.tfrecord")
    X, Y = load_arrays(pattern, videos=130, batch_size=50)
    features, labels = next(iter(load_yt8m(pattern, batch_size=130)))
    assert X.shape == (130, 1152) and Y.shape == (130, 3862) and X.dtype == Y.dtype == np.float32
    np.testing.assert_array_equal(X[:, :1024], features["mean_rgb"].numpy())
    np.testing.assert_array_equal(X[:, 1024:], features["mean_audio"].numpy())
    np.testing.assert_array_equal(Y, labels.numpy())


def test_fewer_videos_than_asked_and_the_split_names(tiny_world, monkeypatch):
    monkeypatch.setenv("YT8M_DATA", str(tiny_world))
    X, Y = load_arrays("validate", videos=10_000)
    assert len(X) == len(Y) == 120  # 600 videos in 5 shards: one validation shard
    X5, _ = load_arrays("validate", videos=5)
    np.testing.assert_array_equal(X5, X[:5])


def test_reads_only_the_batches_it_needs(tiny_world, monkeypatch):
    taken = []
    real = arrays.load_yt8m

    def spy(*args, **kwargs):
        dataset = real(*args, **kwargs)
        taken.append(kwargs["batch_size"])
        return dataset

    monkeypatch.setattr(arrays, "load_yt8m", spy)
    load_arrays(str(tiny_world / "train*.tfrecord"), videos=7, batch_size=500)
    assert taken == [7]  # one batch of 7, not one of 500


@pytest.mark.parametrize("kwargs, name", [({"videos": 0}, "videos"), ({"videos": 2.5}, "videos"),
                                          ({"videos": 5, "batch_size": 0}, "batch_size")])
def test_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=f"Received: {name}="):
        load_arrays("train", **kwargs)


def test_docstring_examples(tiny_world, monkeypatch):
    monkeypatch.setenv("YT8M_DATA", str(tiny_world))
    result = doctest.testmod(arrays, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
