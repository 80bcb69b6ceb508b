"""The official protocol: local names, the shard rule, partitions, URLs (no network)."""

import pytest

from course_lib.data.names import shard_code
from course_lib.download import protocol

from tests.download.server import official_rule


def test_local_names_follow_the_official_mapping():
    assert protocol.local_name("trainaa.tfrecord") == "train0000.tfrecord"
    assert protocol.local_name("trainbI.tfrecord") == "train0096.tfrecord"
    assert protocol.local_name("train99.tfrecord") == "train3843.tfrecord"
    assert protocol.local_name("validateaa.tfrecord") == "validate0000.tfrecord"
    assert protocol.local_name("test9a.tfrecord") == "test3782.tfrecord"
    codes = [shard_code(i) for i in range(62 * 62)]
    assert [protocol.local_name(f"train{c}.tfrecord") for c in codes] == [f"train{i:04d}.tfrecord" for i in range(3844)]
    for bad in ("trainaaa.tfrecord", "train-a.tfrecord", "foo.tfrecord", "trainaa.tfrecord.part"):
        with pytest.raises(ValueError, match="Received: name="):
            protocol.local_name(bad)


@pytest.mark.parametrize("split", ["train", "validate"])
def test_shard_selection_is_the_official_rule(split):
    names = [f"{split}{shard_code(i)}.tfrecord" for i in range(3844)]  # every real server name
    for x, y in [(1, 100), (7, 100), (1, 1), (2, 3), (10, 10)]:
        expected = [n for n in names if official_rule(n, x, y)]
        assert [n for n in names if protocol.is_selected(n, f"{x},{y}")] == expected
        assert [n for n in names if protocol.is_selected(n, (x, y))] == expected
    # The fractions of one Y split the files: each file in exactly one.
    picks = [{n for n in names if protocol.is_selected(n, f"{x},7")} for x in range(1, 8)]
    assert sum(map(len, picks)) == len(names) and set().union(*picks) == set(names)
    assert all(protocol.is_selected(n, None) for n in names)


def test_one_percent_picks_these_files():
    names = [f"train{shard_code(i)}.tfrecord" for i in range(3844)]
    picked = [n for n in names if protocol.is_selected(n, "1,100")]
    assert len(picked) == 41
    assert picked[:3] == ["trainbF.tfrecord", "trainbX.tfrecord", "traindw.tfrecord"]


@pytest.mark.parametrize("text", ["0,100", "5,4", "1", "a,b", "1,2,3"])
def test_bad_shard_is_a_clear_error(text):
    with pytest.raises(ValueError, match="Received: shard="):
        protocol.parse_shard(text)


@pytest.mark.parametrize("text", ["2/video", "2/audio/train", "2/video/dev", "video/train"])
def test_bad_partition_is_a_clear_error(text):
    with pytest.raises(ValueError, match="Received: partition="):
        protocol.Partition.parse(text)


def test_urls_and_plan_name():
    assert protocol.plan_url("2/video/train") == "http://data.yt8m.org/2/download_plans/video_train.json"
    assert protocol.shard_url("2/video/train", "trainbI.tfrecord", "us") == "http://us.data.yt8m.org/2/video/train/trainbI.tfrecord"
    assert protocol.shard_url("2/frame/validate", "validateaa.tfrecord", "asia") == (
        "http://asia.data.yt8m.org/2/frame/validate/validateaa.tfrecord")
    assert protocol.plan_url("2/video/train", "http://h:1/m/") == "http://h:1/m/2/download_plans/video_train.json"
    assert protocol.shard_url("2/video/train", "trainaa.tfrecord", base_url="http://h:1/m") == "http://h:1/m/2/video/train/trainaa.tfrecord"
    assert protocol.vocabulary_url("2") == "https://research.google.com/youtube8m/csv/2/vocabulary.csv"
    assert protocol.vocabulary_url("2", "http://h:1") == "http://h:1/2/vocabulary.csv"
    assert protocol.Partition.parse("2/video/train").plan_filename == "2_video_train_download_plan.json"
    with pytest.raises(ValueError, match="mirror"):
        protocol.shard_url("2/video/train", "trainaa.tfrecord", "mars")
