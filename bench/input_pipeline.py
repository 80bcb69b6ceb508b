"""Input pipeline throughput: a Python loop vs parse-only tf.data vs ``load_yt8m``, in one run.

    python bench/input_pipeline.py --data '../shared/data/yt8m/validate/*.tfrecord'

(a) the loop a student writes first (the course demo's), ``course_lib.data.reference``:
    ``tf_record_iterator`` + ``tf.train.Example.FromString`` + a NumPy multi-hot, video by video;
(b) parse-only tf.data: ``TFRecordDataset -> batch -> parse_example`` with no label densification;
(c) ``course_lib.data.load_yt8m`` (file names in errors, label checks, dense multi-hot labels).

All three read the same shards with the page cache warmed for all alike; each pipeline is built
once and timed over ``--repeats`` passes, the best pass counts. Prints videos per second and the ratios the README quotes.
Goal on real shards, 2 cores: (c) >= 1.6 x (a) and (c) >= 0.85 x (b).
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import tensorflow as tf  # noqa: E402

from course_lib import settings  # noqa: E402
from course_lib.data import list_shards, load_yt8m, spec  # noqa: E402
from course_lib.data.reference import python_batches  # noqa: E402


def parse_only(files, batch_size):
    """(b): tf.data reading and parsing in batches, labels left sparse."""
    feature_spec = spec.feature_spec()
    dataset = tf.data.TFRecordDataset(files, num_parallel_reads=tf.data.AUTOTUNE).batch(batch_size)
    dataset = dataset.map(lambda r: tf.io.parse_example(r, feature_spec), num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.prefetch(tf.data.AUTOTUNE)


def count_videos(batches):
    videos = 0
    for batch in batches:  # {"mean_rgb": ...} or (features, labels)
        features = batch if isinstance(batch, dict) else batch[0]
        videos += len(features["mean_rgb"])
    return videos


def best_rate(make_batches, repeats):
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        videos = count_videos(make_batches())
        rates.append(videos / (time.perf_counter() - start))
    return max(rates), videos


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=settings.data_pattern("validate"), help="glob of shards (default: the course data's validate split)")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    files = list_shards(args.data)
    for path in files:  # warm the page cache for all three alike
        with open(path, "rb") as f:
            while f.read(1 << 20):
                pass
    print(f"{len(files)} shards matching {args.data}, batch {args.batch_size}, best of {args.repeats}; "
          f"TensorFlow {tf.__version__}, {os.cpu_count()} CPU cores")
    # tf.data pipelines are built once (tracing, file checks) and iterated afresh on each pass.
    parsed, loaded = parse_only(files, args.batch_size), load_yt8m(files, args.batch_size)
    contenders = {
        "(a) Python loop": lambda: python_batches(files, args.batch_size),
        "(b) parse-only tf.data": lambda: parsed,
        "(c) load_yt8m": lambda: loaded,
    }
    rates = {}
    for name, make in contenders.items():
        best_rate(make, 1)  # warm-up: tracing, thread pools
        rates[name], videos = best_rate(make, args.repeats)
        print(f"{name:<24} {rates[name]:>10,.0f} videos/s   ({videos} videos)")
    a, b, c = rates.values()
    print(f"load_yt8m / Python loop    {c / a:5.2f}x   (goal >= 1.6)")
    print(f"load_yt8m / parse-only     {c / b:5.2f}    (goal >= 0.85)")


if __name__ == "__main__":
    main()
