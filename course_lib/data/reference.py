"""The straightforward loader: one record at a time, in plain Python.

This is the loop a student writes first (and the course demo's): ``tf_record_iterator`` +
``tf.train.Example.FromString`` + a NumPy multi-hot per video. Notebook 01 times it against
``load_yt8m``; ``bench/input_pipeline.py`` measures it; the tests use it as the by-hand reference
that ``load_yt8m`` must agree with. It is correct, and slow where it matters: on a GPU, the model
waits for it.
"""

import contextlib

import numpy as np
import tensorflow as tf

from course_lib.data import spec


def python_batches(files, batch_size, num_classes=spec.NUM_CLASSES):
    """Yield dicts of NumPy arrays ``id``, ``mean_rgb``, ``mean_audio``, ``labels`` (multi-hot),
    reading ``files`` in the order given, ``batch_size`` videos at a time (the last batch may be
    smaller)."""
    batch = {"id": [], "mean_rgb": [], "mean_audio": [], "labels": []}
    for path in files:
        for record in _tf_record_iterator(str(path)):
            feature = tf.train.Example.FromString(record).features.feature
            batch["id"].append(feature["id"].bytes_list.value[0])
            batch["mean_rgb"].append(np.array(feature["mean_rgb"].float_list.value, np.float32))
            batch["mean_audio"].append(np.array(feature["mean_audio"].float_list.value, np.float32))
            ids = list(feature["labels"].int64_list.value)
            if any(not 0 <= label < num_classes for label in ids):
                raise ValueError(f"{path}: label out of range [0, {num_classes}) in video {batch['id'][-1]!r}: {ids}")
            labels = np.zeros(num_classes, np.float32)
            labels[ids] = 1.0
            batch["labels"].append(labels)
            if len(batch["labels"]) == batch_size:
                yield {name: np.stack(values) for name, values in batch.items()}
                batch = {name: [] for name in batch}
    if batch["labels"]:
        yield {name: np.stack(values) for name, values in batch.items()}


def _tf_record_iterator(path):
    # The course demo's reader. TensorFlow 2 marks it deprecated and logs a warning on first use;
    # it is kept here on purpose, as the baseline, so the warning is silenced.
    try:
        from tensorflow.python.util import deprecation

        quiet = deprecation.silence()
    except (ImportError, AttributeError):
        quiet = contextlib.nullcontext()
    with quiet:
        yield from tf.compat.v1.io.tf_record_iterator(path)
