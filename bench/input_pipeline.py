"""Input pipeline throughput: a Python loop vs parse-only tf.data vs ``load_yt8m``, in one run.

    python bench/input_pipeline.py --data '../shared/data/yt8m/validate/*.tfrecord'

(a) the loop a student writes first (the course demo's), ``course_lib.data.reference``:
    ``tf_record_iterator`` + ``tf.train.Example.FromString`` + a NumPy multi-hot, video by video;
(b) parse-only tf.data: ``TFRecordDataset -> batch -> parse_example`` with no label densification;
(c) ``course_lib.data.load_yt8m`` (file names in errors, label checks, dense multi-hot labels).

All three read the same shards with the page cache warmed for all alike. Each is timed as training
reads it, one endless stream of batches on a long-lived iterator: a fresh stream is warmed up for
one pass, then ``--passes`` passes are timed (timing short passes on fresh iterators would mostly
time the pipeline's start-up). The readers take turns ``--repeats`` times; each one's best counts. Prints videos per second and the ratios the README quotes.
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
    """(b): the same reading as ``load_yt8m`` (interleaved shards, batches of serialized records),
    then ``parse_example`` and nothing else: no file tags, no label check, labels left ragged. What
    (c) costs beyond this is the price of its errors that name files and of its dense labels."""
    feature_spec = spec.feature_spec()
    dataset = tf.data.Dataset.from_tensor_slices(files).interleave(
        tf.data.TFRecordDataset, cycle_length=min(len(files), 8), block_length=16,
        num_parallel_calls=tf.data.AUTOTUNE, deterministic=True,
    )
    dataset = dataset.batch(batch_size).map(lambda r: tf.io.parse_example(r, feature_spec), num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.prefetch(tf.data.AUTOTUNE)


def endless(make_batches):
    """Epoch after epoch from one long-lived iterator, as training reads."""
    while True:
        yield from make_batches()


def videos_per_second(stream, batches, repeats):
    """Best of ``repeats`` timings of ``batches`` batches; a batch counts the rows of its rgb features."""
    rates = []
    for _ in range(repeats):
        start, videos = time.perf_counter(), 0
        for _ in range(batches):
            batch = next(stream)
            features = batch if isinstance(batch, dict) else batch[0]  # (a), (b): dict; (c): (features, labels)
            videos += len(features["mean_rgb"])
        rates.append(videos / (time.perf_counter() - start))
    return max(rates)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=settings.data_pattern("validate"), help="glob of shards (default: the course data's validate split)")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=5, help="timings per reader; the best counts (default 5)")
    parser.add_argument("--passes", type=int, default=10, help="passes over the shards in one timing (default 10)")
    args = parser.parse_args(argv)
    files = list_shards(args.data)
    for path in files:  # warm the page cache for all three alike
        with open(path, "rb") as f:
            while f.read(1 << 20):
                pass
    videos = sum(1 for _ in tf.data.TFRecordDataset(files))
    batches = args.passes * videos // args.batch_size
    print(f"{len(files)} shards matching {args.data} ({videos} videos), batch {args.batch_size}; "
          f"{batches} batches ({args.passes} passes) a timing, best of {args.repeats}; "
          f"TensorFlow {tf.__version__}, {os.cpu_count()} CPU cores")
    # Each reader is one endless stream, as in training. Every timing starts a fresh stream, warms it
    # up for one pass (graphs built, files open, buffers full) and then times `passes` passes. The
    # readers take turns, so all three see the machine in the same state; a stream is deleted before
    # the next starts, so no reader fills its prefetch buffer while another is being timed.
    makers = {
        "(a) Python loop": lambda: endless(lambda: python_batches(files, args.batch_size)),
        "(b) parse-only tf.data": lambda: iter(parse_only(files, args.batch_size).repeat()),
        "(c) load_yt8m": lambda: iter(load_yt8m(files, args.batch_size, repeat=True)),
    }
    rates = dict.fromkeys(makers, 0.0)
    for _ in range(args.repeats):
        for name, make in makers.items():
            stream = make()
            videos_per_second(stream, batches // args.passes, 1)
            rates[name] = max(rates[name], videos_per_second(stream, batches, 1))
            del stream
    for name, rate in rates.items():
        print(f"{name:<24} {rate:>10,.0f} videos/s")
    a, b, c = rates.values()
    print(f"load_yt8m / Python loop    {c / a:5.2f}x   (goal >= 1.6)")
    print(f"load_yt8m / parse-only     {c / b:5.2f}    (goal >= 0.85)")


if __name__ == "__main__":
    main()
