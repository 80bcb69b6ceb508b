"""The YouTube-8M video-level record, defined once.

Each record of a shard is a ``tf.train.Example`` (notebook 01 takes one apart by hand)::

    id          bytes_list  one value    the video id (4 characters in the 2018 release)
    labels      int64_list  >= 1 values  indices into the 3,862-entry vocabulary
    mean_rgb    float_list  1,024 values mean over frames of the visual features
    mean_audio  float_list  128 values   mean over frames of the audio features

The features are means of 8-bit-quantised frame features, so they lie in
[-1.9921875, 2.0078125] (:data:`FEATURE_RANGE`), about [-2, 2].
"""

import tensorflow as tf

NUM_CLASSES = 3862
RGB_SIZE = 1024
AUDIO_SIZE = 128
FEATURE_SIZES = {"mean_rgb": RGB_SIZE, "mean_audio": AUDIO_SIZE}
FEATURE_RANGE = (-1.9921875, 2.0078125)  # 8-bit q dequantised: q * 4 / 255 - 2 + 4 / 512


def feature_spec():
    """The ``tf.io.parse_example`` spec of a video-level record.

    ``labels`` is variable-length, so it comes back as a ``tf.RaggedTensor``; the features are
    fixed-length, so a record with a missing or wrongly sized feature is an error.
    """
    spec = {
        "id": tf.io.FixedLenFeature([], tf.string),
        "labels": tf.io.RaggedFeature(tf.int64),
    }
    for name, size in FEATURE_SIZES.items():
        spec[name] = tf.io.FixedLenFeature([size], tf.float32)
    return spec


def make_example(video_id, labels, mean_rgb, mean_audio):
    """Build one record as a ``tf.train.Example`` (the writer side of :func:`feature_spec`)."""
    if isinstance(video_id, str):
        video_id = video_id.encode("utf-8")
    feature = {
        "id": tf.train.Feature(bytes_list=tf.train.BytesList(value=[video_id])),
        "labels": tf.train.Feature(int64_list=tf.train.Int64List(value=list(labels))),
        "mean_rgb": tf.train.Feature(float_list=tf.train.FloatList(value=mean_rgb)),
        "mean_audio": tf.train.Feature(float_list=tf.train.FloatList(value=mean_audio)),
    }
    return tf.train.Example(features=tf.train.Features(feature=feature))
