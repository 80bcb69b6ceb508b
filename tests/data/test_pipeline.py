import warnings

import numpy as np
import pytest
import tensorflow as tf

from course_lib.data import ShardError, load_vocabulary, load_yt8m, spec
from course_lib.data.reference import python_batches


def _by_hand(files):
    """Reference: every record parsed with tf.train.Example in plain Python, in file order."""
    batches = list(python_batches(files, 10_000))
    return (
        [video for b in batches for video in b["id"]],
        np.concatenate([b["labels"] for b in batches]),
        np.concatenate([b["mean_rgb"] for b in batches]),
    )


def _all(dataset):
    ids, labels, rgb = [], [], []
    for features, y in dataset:
        ids.extend(features["id"].numpy())
        labels.append(y.numpy())
        rgb.append(features["mean_rgb"].numpy())
    return ids, np.concatenate(labels), np.concatenate(rgb)


def test_shapes_dtypes_and_densification_match_a_by_hand_reference(tiny_world):
    files = sorted(tiny_world.glob("train*.tfrecord"))
    dataset = load_yt8m(str(tiny_world / "train*.tfrecord"), 64, include_id=True)
    features, labels = next(iter(dataset))
    assert features["mean_rgb"].shape == (64, 1024) and features["mean_rgb"].dtype == tf.float32
    assert features["mean_audio"].shape == (64, 128) and features["mean_audio"].dtype == tf.float32
    assert labels.shape == (64, 3862) and labels.dtype == tf.float32
    assert features["id"].dtype == tf.string
    ids, y, rgb = _all(dataset)
    ref_ids, ref_y, ref_rgb = _by_hand(files)
    # Interleaving changes the order, not the content.
    order, ref_order = np.argsort(ids), np.argsort(ref_ids)
    np.testing.assert_array_equal(np.array(ids)[order], np.array(ref_ids)[ref_order])
    np.testing.assert_array_equal(y[order], ref_y[ref_order])
    np.testing.assert_array_equal(rgb[order], ref_rgb[ref_order])


def test_without_id_and_static_shapes_with_drop_remainder(tiny_world):
    dataset = load_yt8m(str(tiny_world / "train*.tfrecord"), 32, drop_remainder=True)
    features_spec, labels_spec = dataset.element_spec
    assert set(features_spec) == {"mean_rgb", "mean_audio"}
    assert features_spec["mean_rgb"].shape == (32, 1024) and labels_spec.shape == (32, 3862)
    assert sum(1 for _ in dataset) == 480 // 32


def test_seeded_shuffle_is_deterministic(tiny_world):
    def first_ids(seed):
        dataset = load_yt8m(str(tiny_world / "train*.tfrecord"), 16, shuffle=True, seed=seed, include_id=True)
        return [features["id"].numpy().tolist() for features, _ in dataset.take(3)]

    assert first_ids(1) == first_ids(1)
    assert first_ids(1) != first_ids(2)


def test_file_level_sharding_is_a_partition(tiny_world):
    pattern = str(tiny_world / "train*.tfrecord")
    everything = set(_all(load_yt8m(pattern, 50, include_id=True))[0])
    parts = [set(_all(load_yt8m(pattern, 50, include_id=True, num_shards=2, shard_index=i))[0]) for i in range(2)]
    assert parts[0] | parts[1] == everything and not parts[0] & parts[1]
    context = tf.distribute.InputContext(num_input_pipelines=2, input_pipeline_id=1, num_replicas_in_sync=2)
    dataset = load_yt8m(pattern, 50, include_id=True, input_context=context, drop_remainder=True)
    assert dataset.element_spec[1].shape == (25, 3862)
    with pytest.raises(ShardError, match="fewer than num_shards"):
        load_yt8m(pattern, 8, num_shards=5)
    with pytest.raises(ValueError, match="shard_index"):
        load_yt8m(pattern, 8, num_shards=2, shard_index=2)


def test_label_groups_give_one_tensor_per_vertical(tiny_world):
    groups = load_vocabulary().vertical_groups()
    pattern = str(tiny_world / "validate*.tfrecord")
    _, dense = next(iter(load_yt8m(pattern, 40)))
    _, split = next(iter(load_yt8m(pattern, 40, label_groups=groups)))
    assert list(split) == list(groups)
    for name, ids in groups.items():
        np.testing.assert_array_equal(split[name].numpy(), dense.numpy()[:, ids])


def test_cache_and_repeat(tiny_world):
    dataset = load_yt8m(str(tiny_world / "validate*.tfrecord"), 40, cache=True, repeat=True)
    batches = [y.numpy() for _, y in dataset.take(6)]  # 120 videos: the second pass comes from the cache
    np.testing.assert_array_equal(np.concatenate(batches[:3]), np.concatenate(batches[3:]))


def test_empty_pattern_names_the_pattern(tmp_path):
    with pytest.raises(ShardError, match="no files match pattern .*nothing"):
        load_yt8m(str(tmp_path / "nothing*.tfrecord"), 8)


def test_bad_arguments():
    with pytest.raises(ValueError, match="batch_size"):
        load_yt8m("whatever", 0)


def _write(path, examples):
    with tf.io.TFRecordWriter(str(path)) as writer:
        for example in examples:
            writer.write(example.SerializeToString())


def _good(i, labels=(1, 2)):
    return spec.make_example(f"v{i:03d}", labels, np.zeros(1024), np.zeros(128))


def test_truncated_shard_is_named_or_skipped(tmp_path):
    _write(tmp_path / "train0000.tfrecord", [_good(i) for i in range(5)])
    _write(tmp_path / "train0001.tfrecord", [_good(i) for i in range(5, 10)])
    raw = (tmp_path / "train0001.tfrecord").read_bytes()
    (tmp_path / "train0001.tfrecord").write_bytes(raw[: len(raw) // 2])
    pattern = str(tmp_path / "train*.tfrecord")
    with pytest.raises(ShardError, match="train0001.tfrecord: truncated record"):
        load_yt8m(pattern, 4)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        dataset = load_yt8m(pattern, 4, skip_corrupt=True, include_id=True)
    assert "skipped 1 corrupt shard(s) of 2" in str(caught[0].message)
    assert "train0001.tfrecord" in str(caught[0].message)
    assert sorted(_all(dataset)[0]) == [f"v{i:03d}".encode() for i in range(5)]


def test_missing_or_wrongly_sized_feature_names_feature_and_file(tmp_path):
    short = spec.make_example("x", [1], np.zeros(1000), np.zeros(128))
    _write(tmp_path / "train0000.tfrecord", [_good(0), short])
    with pytest.raises(ShardError, match=r"train0000.tfrecord, record 1: Key: mean_rgb"):
        list(load_yt8m(str(tmp_path / "train*.tfrecord"), 4))
    missing = _good(0)
    del missing.features.feature["mean_audio"]
    _write(tmp_path / "validate0000.tfrecord", [missing])
    with pytest.raises(ShardError, match=r"validate0000.tfrecord, record 0: .*mean_audio"):
        list(load_yt8m(str(tmp_path / "validate*.tfrecord"), 4))


def test_label_out_of_range_names_the_file(tmp_path):
    _write(tmp_path / "train0000.tfrecord", [_good(0), _good(1, labels=(3, 3862))])
    with pytest.raises(ShardError, match=r"train0000.tfrecord, record 1: label 3862 is out of range"):
        list(load_yt8m(str(tmp_path / "train*.tfrecord"), 4))
    _, labels = next(iter(load_yt8m(str(tmp_path / "train*.tfrecord"), 4, num_classes=4000)))
    assert labels.shape == (2, 4000)


@pytest.mark.real_data
def test_real_shards(real_shards):
    ids, labels, rgb = _all(load_yt8m([str(p) for p in real_shards], 1024, include_id=True))
    assert len(ids) == len(set(ids)) == 5889
    assert labels.sum(1).min() >= 1 and abs(labels.sum(1).mean() - 2.99) < 0.01
    assert int((labels.sum(0) > 0).sum()) == 2167  # distinct labels in these 20 shards
    assert -1.9922 <= rgb.min() and rgb.max() <= 2.0079
    ref_ids, ref_labels, _ = _by_hand(real_shards[:1])
    position = {video: i for i, video in enumerate(ids)}
    rows = [position[video] for video in ref_ids]
    np.testing.assert_array_equal(labels[rows], ref_labels)


def test_a_label_listed_twice_is_one_label(tmp_path):
    _write(tmp_path / "train0000.tfrecord", [_good(0, labels=(3, 3, 5))])
    _, labels = next(iter(load_yt8m(str(tmp_path / "train*.tfrecord"), 1)))
    assert np.flatnonzero(labels.numpy()[0]).tolist() == [3, 5] and labels.numpy().max() == 1.0


def test_unshuffled_order_is_blocks_of_each_file_in_turn(tiny_world):
    ids = _all(load_yt8m(str(tiny_world / "train*.tfrecord"), 1000, include_id=True))[0]
    first = _by_hand(sorted(tiny_world.glob("train*.tfrecord"))[:2])[0]
    assert ids[:64] == first[:64] and ids[64:128] == first[120:184]  # 120 videos a shard


def test_shard_errors_names_file_and_record(tmp_path):
    from course_lib.data import shard_errors

    good = tmp_path / "train0000.tfrecord"
    _write(good, [_good(i) for i in range(5)])
    bad = tmp_path / "train0001.tfrecord"
    _write(bad, [_good(i) for i in range(3)] + [_good(3, labels=(3862,))])
    pattern = str(tmp_path / "train*.tfrecord")
    with pytest.raises(ShardError, match=r"train0001.tfrecord, record 3: label 3862 is out of range \[0, 3862\)"):
        with shard_errors(pattern):
            _all(load_yt8m(pattern, 2, include_id=True))


def test_skip_corrupt_skips_a_label_beyond_num_classes(tmp_path):
    _write(tmp_path / "train0000.tfrecord", [_good(i) for i in range(5)])
    _write(tmp_path / "train0001.tfrecord", [_good(5, labels=(3862,))])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        dataset = load_yt8m(str(tmp_path / "train*.tfrecord"), 4, skip_corrupt=True, include_id=True)
    assert "train0001.tfrecord, record 0: label 3862 is out of range" in str(caught[0].message)
    assert len(_all(dataset)[0]) == 5
