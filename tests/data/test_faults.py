"""Shards and arguments under attack (issue 11): each is a ShardError or ValueError naming it."""

import warnings

import numpy as np
import pytest
import tensorflow as tf

from course_lib.data import ShardError, load_yt8m, spec
from course_lib.data.videos import VideoIds, videos


def write(path, records):
    with tf.io.TFRecordWriter(str(path)) as writer:
        for record in records:
            writer.write(record.SerializeToString())
    return path


def example(i, labels=(1, 2), rgb=None, audio=None, video_id=None):
    return spec.make_example(video_id if video_id is not None else f"v{i:03d}", labels,
                             np.zeros(spec.RGB_SIZE) if rgb is None else rgb,
                             np.zeros(spec.AUDIO_SIZE) if audio is None else audio)


def with_value(size, index, value):
    x = np.zeros(size)
    x[index] = value
    return x


@pytest.mark.parametrize("name, value", [("mean_rgb", np.nan), ("mean_audio", np.inf), ("mean_rgb", -np.inf)])
def test_non_finite_features_name_file_record_and_feature(tmp_path, name, value):
    bad = {"rgb": with_value(spec.RGB_SIZE, 5, value)} if name == "mean_rgb" else \
        {"audio": with_value(spec.AUDIO_SIZE, 0, value)}
    shard = write(tmp_path / "train0000.tfrecord", [example(i) for i in range(6)] + [example(6, **bad)])
    with pytest.raises(ShardError) as caught:
        list(load_yt8m(str(shard), 4))
    assert str(caught.value) == f"{shard}, record 6: {name} holds NaN or infinite values"
    with warnings.catch_warnings(record=True) as skipped:  # skip_corrupt leaves such a shard out
        warnings.simplefilter("always")
        with pytest.raises(ShardError, match="every shard .* is corrupt"):
            load_yt8m(str(shard), 4, skip_corrupt=True)
    assert f"{shard}, record 6: {name} holds NaN or infinite values" in str(skipped[0].message)


def test_iterating_load_yt8m_itself_raises_shard_error_naming_the_file(tmp_path):
    shard = write(tmp_path / "train0000.tfrecord", [example(i) for i in range(10)])
    raw = bytearray(shard.read_bytes())
    raw[100] ^= 0xFF  # inside the first record's data: its length and length CRC stay valid
    shard.write_bytes(bytes(raw))
    dataset = load_yt8m(str(shard), 4)
    for iterate in (lambda: [x for x in dataset], lambda: next(iter(dataset)), lambda: list(dataset.as_numpy_iterator())):
        with pytest.raises(ShardError, match=f"{shard}: corrupted record at byte 12 \\(its data checksum fails\\)"):
            iterate()
    # What tf.data does not allow: a dataset derived from it raises TensorFlow's own error.
    with pytest.raises(tf.errors.DataLossError):
        next(iter(dataset.take(1)))


def test_the_returned_dataset_still_trains_and_counts(tiny_world):
    import keras

    dataset = load_yt8m(str(tiny_world / "validate*.tfrecord"), 40)
    assert sum(1 for _ in dataset) == 3  # 120 videos
    model = keras.Sequential([keras.Input((spec.RGB_SIZE,)), keras.layers.Dense(spec.NUM_CLASSES)])
    model.compile("sgd", "binary_crossentropy")
    history = model.fit(dataset.map(lambda f, y: (f["mean_rgb"], y)), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][-1])


@pytest.mark.parametrize("arguments, message", [
    (dict(batch_size=2.5), "batch_size must be a positive integer. Received: batch_size=2.5"),
    (dict(batch_size=True), "batch_size must be a positive integer. Received: batch_size=True"),
    (dict(pattern=[]), "pattern must be a glob or a non-empty list of globs. Received: pattern=[]"),
    (dict(pattern=None), "pattern must be a glob or a non-empty list of globs. Received: pattern=None"),
    (dict(label_groups={"music": [0, 3862]}),
     "label_groups['music'] holds label ids outside [0, num_classes=3862). Received: ids in [0, 3862]"),
    (dict(label_groups={"music": [1.5]}), "label_groups['music'] must be a non-empty list of integer label ids."),
    (dict(label_groups=[3, 4]), "label_groups must be a non-empty mapping {name: label ids}. Received: [3, 4]"),
    (dict(cache="/no/such/folder/cache"),
     "cache: the folder /no/such/folder of the cache file does not exist. Received: cache='/no/such/folder/cache'"),
    (dict(shuffle_buffer=0), "shuffle_buffer must be a positive integer. Received: shuffle_buffer=0"),
    (dict(seed=1.5), "seed must be an integer or None. Received: seed=1.5"),
])
def test_bad_arguments_are_named(tiny_world, arguments, message):
    arguments = {"pattern": str(tiny_world / "validate*.tfrecord"), "batch_size": 4, **arguments}
    with pytest.raises(ValueError) as caught:
        load_yt8m(arguments.pop("pattern"), arguments.pop("batch_size"), **arguments)
    assert str(caught.value).startswith(message)


def test_a_truncated_shard_hint_is_for_the_commands_and_python(tmp_path):
    shard = write(tmp_path / "train0000.tfrecord", [example(i) for i in range(5)])
    shard.write_bytes(shard.read_bytes()[:-10])
    with pytest.raises(ShardError) as caught:
        load_yt8m(str(shard), 4)
    assert str(caught.value).endswith(
        "(replace or remove that file; in Python, load_yt8m(..., skip_corrupt=True) leaves bad shards out)")
    assert "pass skip_corrupt=True" not in str(caught.value)  # an option no command has


@pytest.mark.parametrize("ids, message", [
    ([b"v000", b"v001", b"v000"], "{a}, record 2: video id 'v000' repeated (first in {a}, record 0)"),
    ([b"v000", b"\xff\xfeab"], "{a}, record 1: video id b'\\xff\\xfeab' is not UTF-8 text"),
    ([b" v000 "], "{a}, record 0: video id ' v000 ' is empty or has spaces around it"),
    ([b""], "{a}, record 0: video id '' is empty"),
])
def test_video_ids_are_checked_where_they_are_read(ids, message):
    with pytest.raises(ShardError) as caught:
        VideoIds().check("a.tfrecord", 0, ids)
    assert str(caught.value).startswith(message.format(a="a.tfrecord"))


def test_a_video_id_repeated_across_shards_names_both(tmp_path):
    first = write(tmp_path / "validate0000.tfrecord", [example(i) for i in range(3)])
    second = write(tmp_path / "validate0001.tfrecord", [example(i) for i in range(3, 6)] + [example(9, video_id="v001")])
    with pytest.raises(ShardError) as caught:
        list(videos(str(tmp_path / "validate*.tfrecord"), 2))
    assert str(caught.value) == f"{second}, record 3: video id 'v001' repeated (first in {first}, record 1)"


def test_synth_needs_a_video_a_shard(tmp_path, capsys):
    from course_lib import cli

    assert cli.main(["synth", "--out", str(tmp_path / "w"), "--videos", "3", "--shards", "5"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == ("error: 2 train video(s) for 4 train shard(s): every shard needs a video, so --videos must be "
                   "at least --shards. Received: videos=3, shards=5")
    assert not (tmp_path / "w").exists()
