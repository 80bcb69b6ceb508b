"""``load_yt8m``: YouTube-8M video-level shards as a ``tf.data.Dataset`` of ``(features, labels)``.

Taught in notebook 01. The pipeline, in order::

    files (sorted; shuffled with the seed; sharded per input pipeline for tf.distribute)
      -> interleave blocks of 64 records, each record tagged "<file>:<index>"
      -> [cache] -> [unbatch and shuffle records] -> [repeat]
      -> batch -> parse the whole batch at once -> densify labels -> prefetch

Parsing after batching lets ``tf.io.parse_example`` work on a vector of records (one op per batch,
not per video), which is where tf.data beats a Python loop. The record tags are passed to
``parse_example`` as ``example_names``, so a record with a missing or wrongly sized feature fails
with a message that names its file and index.
"""

import numbers
import os
import warnings
from pathlib import Path

import numpy as np
import tensorflow as tf

from course_lib.data import spec, tfrecord
from course_lib.data.errors import (  # noqa: F401  (re-exported: the pipeline's errors)
    ShardError,
    list_shards,
    shard_errors,
    tf_error_text,
    verify_shards,
)


def load_yt8m(
    pattern,
    batch_size,
    *,
    num_classes=spec.NUM_CLASSES,
    include_id=False,
    shuffle=False,
    seed=None,
    shuffle_buffer=8192,
    repeat=False,
    cache=False,
    drop_remainder=False,
    num_shards=1,
    shard_index=0,
    input_context=None,
    label_groups=None,
    skip_corrupt=False,
    check_files=True,
):
    """YouTube-8M video-level shards as a batched ``tf.data.Dataset`` of ``(features, labels)``.

    Args:
        pattern: glob (or list of globs) of TFRecord shards; local paths or any filesystem
            TensorFlow reads (``gs://...``). Files are read in sorted order.
        batch_size: videos per batch (the global batch when ``input_context`` is given).
        num_classes: width of the multi-hot labels. Default 3,862. A label index
            ``>= num_classes`` is an error naming the file and record.
        include_id: also return ``features["id"]`` (bytes, shape ``(B,)``).
        shuffle: shuffle file order and records (buffer ``shuffle_buffer``), seeded by ``seed``.
        seed: int; with the same seed the same batches come out in the same order.
        repeat: repeat forever (each pass reshuffled) instead of stopping after one pass.
        cache: ``True`` keeps the serialized records in memory after the first pass; a string is
            a cache file path.
        drop_remainder: drop the last incomplete batch, so every batch has the static shape
            ``(batch_size, ...)`` that XLA and TPUs want.
        num_shards, shard_index: read only files ``shard_index::num_shards`` (file-level sharding,
            one input pipeline per worker). ``input_context`` (a ``tf.distribute.InputContext``)
            sets both and divides ``batch_size`` into the per-replica batch.
        label_groups: ``None`` for labels as one ``(B, num_classes)`` tensor; or a mapping
            ``{name: label ids}`` (for example ``load_vocabulary().vertical_groups()``) for a dict
            of ``(B, len(ids))`` tensors, one per multi-task head.
        skip_corrupt: read every shard once up front and leave out the ones that fail
            (a warning lists each with its problem) instead of raising.
        check_files: walk each local shard's record frames up front (fast) so that a truncated
            file is reported by name before training starts. Remote shards (``gs://``) are not
            walked: that would be many small reads per file.

    Returns:
        A ``tf.data.Dataset`` of ``(features, labels)``: ``features["mean_rgb"]`` float32
        ``(B, 1024)``, ``features["mean_audio"]`` float32 ``(B, 128)``; labels float32 multi-hot.

    Raises:
        ShardError: no file matches ``pattern``, or a shard is truncated or corrupt (checked
            now). A bad record (a failed checksum, a missing feature, a label out of range,
            non-finite features) is only met while the dataset is iterated: iterating the returned
            dataset itself (``for``, ``next(iter(...))``) raises a ``ShardError`` naming the file
            and record. A dataset derived from it (``.map``, ``.take``, Keras' ``fit``) raises
            TensorFlow's ``tf.errors.OpError`` instead: iterate it inside
            ``with shard_errors(pattern):`` for the ``ShardError`` (the course's commands do).
        ValueError: an argument is out of range or of the wrong type.

    Example:

    >>> from course_lib import settings
    >>> dataset = load_yt8m(settings.data_pattern("train"), batch_size=32)
    >>> features, labels = next(iter(dataset))
    >>> labels.shape
    TensorShape([32, 3862])
    """
    _check_arguments(batch_size=batch_size, num_classes=num_classes, shuffle_buffer=shuffle_buffer,
                     num_shards=num_shards, shard_index=shard_index, seed=seed, cache=cache)
    groups = _label_groups(label_groups, num_classes)
    batch_size, num_shards, shard_index = _input_pipeline(batch_size, num_shards, shard_index, input_context)
    files = _pipeline_files(pattern, num_shards, shard_index, num_classes, skip_corrupt, check_files)
    dataset = _records(files, shuffle=shuffle, seed=seed, cache=cache)
    dataset = _batches(dataset, batch_size, shuffle=shuffle, seed=seed, shuffle_buffer=shuffle_buffer, repeat=repeat,
                       drop_remainder=drop_remainder)
    parse = _batch_parser(int(num_classes), include_id, groups)
    dataset = dataset.map(parse, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return _named_errors(dataset.prefetch(tf.data.AUTOTUNE), files, int(num_classes))


def _input_pipeline(batch_size, num_shards, shard_index, input_context):
    """``(batch size, num_shards, shard_index)`` of this input pipeline, from ``input_context`` when given."""
    if input_context is not None:
        num_shards = input_context.num_input_pipelines
        shard_index = input_context.input_pipeline_id
        batch_size = input_context.get_per_replica_batch_size(batch_size)
    if not 0 <= shard_index < num_shards:
        raise ValueError(
            f"shard_index must be in [0, num_shards). Received: shard_index={shard_index}, "
            f"num_shards={num_shards}"
        )
    return batch_size, num_shards, shard_index


def _pipeline_files(pattern, num_shards, shard_index, num_classes, skip_corrupt, check_files):
    """The files this pipeline reads: every match of ``pattern`` checked (or the corrupt ones left out), sharded."""
    files = list_shards(pattern)
    if skip_corrupt:
        files = _without_corrupt(files, pattern, num_classes)
    elif check_files:
        for path in (f for f in files if "://" not in f):
            problem = tfrecord.check_framing(path)
            if problem:
                raise ShardError(problem + f" ({CORRUPT_HINT})")
    if len(files) < num_shards:
        raise ShardError(
            f"{len(files)} file(s) match {pattern!r}, fewer than num_shards={num_shards}: "
            "file-level sharding needs at least one file per input pipeline"
        )
    return files[shard_index::num_shards]


def _without_corrupt(files, pattern, num_classes):
    """``files`` but the ones that fail a full read, with a warning listing each; ``ShardError`` if none is left."""
    problems = verify_shards(files, full=True, num_classes=num_classes)
    if not problems:
        return files
    warnings.warn(
        f"skipped {len(problems)} corrupt shard(s) of {len(files)}:\n"
        + "\n".join(f"  {problem}" for problem in problems.values()),
        stacklevel=4,  # load_yt8m's caller
    )
    files = [f for f in files if f not in problems]
    if not files:
        raise ShardError(f"every shard matching {pattern!r} is corrupt")
    return files


def _records(files, *, shuffle, seed, cache):
    """Blocks of up to ``BLOCK`` serialized records of one file each, tagged ``"<file>:<index>"``, interleaved."""
    dataset = tf.data.Dataset.from_tensor_slices(files)
    if shuffle:
        dataset = dataset.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.interleave(
        _tagged_blocks,
        cycle_length=min(len(files), 8),
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=True,
    )
    if cache:
        dataset = dataset.cache("" if cache is True else str(cache))
    return dataset


def _batches(blocks, batch_size, *, shuffle, seed, shuffle_buffer, repeat, drop_remainder):
    """Batches of ``batch_size`` tagged records from ``blocks``: shuffled records, or blocks re-batched in order."""
    if not shuffle:
        return (blocks.repeat() if repeat else blocks).rebatch(batch_size, drop_remainder=drop_remainder)
    # record-level shuffling needs records, not blocks
    records = blocks.unbatch().shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    if repeat:
        records = records.repeat()
    return records.batch(batch_size, drop_remainder=drop_remainder)


def _check_arguments(cache, seed, **counts):
    """``ValueError("... Received: name=value")`` for the first bad argument of :func:`load_yt8m`."""
    for name, value in counts.items():
        low = 0 if name == "shard_index" else 1
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
            kind = "a non-negative" if low == 0 else "a positive"
            raise ValueError(f"{name} must be {kind} integer. Received: {name}={value!r}")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
        raise ValueError(f"seed must be an integer or None. Received: seed={seed!r}")
    if cache not in (True, False, None, "") and not isinstance(cache, (str, os.PathLike)):
        raise ValueError(f"cache must be True or a file path. Received: cache={cache!r}")
    if isinstance(cache, (str, os.PathLike)) and cache != "" and "://" not in str(cache):
        folder = Path(cache).expanduser().parent
        if not folder.is_dir():
            raise ValueError(f"cache: the folder {folder} of the cache file does not exist. Received: cache={str(cache)!r}")


def _label_groups(label_groups, num_classes):
    """``{name: int32 ids}`` from ``label_groups``; ``ValueError`` naming a group with an id out of range."""
    if label_groups is None:
        return None
    if not hasattr(label_groups, "items") or not label_groups:
        raise ValueError(f"label_groups must be a non-empty mapping {{name: label ids}}. Received: {label_groups!r}")
    groups = {}
    for name, ids in label_groups.items():
        values = np.asarray(ids)
        if values.ndim != 1 or not values.size or values.dtype.kind not in "iu":
            raise ValueError(f"label_groups[{name!r}] must be a non-empty list of integer label ids. Received: {ids!r}")
        if values.min() < 0 or values.max() >= num_classes:
            raise ValueError(f"label_groups[{name!r}] holds label ids outside [0, num_classes={num_classes}). "
                             f"Received: ids in [{values.min()}, {values.max()}]")
        groups[str(name)] = tf.constant(values, tf.int32)
    return groups


def _named_errors(dataset, files, num_classes):
    """``dataset`` whose own iterators raise :class:`ShardError` naming the file and record.

    tf.data has no hook for this: the dataset is re-wrapped in a subclass whose ``__iter__`` returns
    an iterator that translates errors in its ``next`` (TensorFlow's private classes; if they change,
    the plain dataset comes back and errors are TensorFlow's again).
    """
    try:
        return _NamedErrorsDataset(dataset, files, num_classes)
    except (AttributeError, ImportError, TypeError):
        return dataset


class _NamedErrorsDataset(tf.data.Dataset):
    def __init__(self, dataset, files, num_classes):
        self._dataset, self._files, self._num_classes = dataset, files, num_classes
        super().__init__(dataset._variant_tensor)

    def _inputs(self):
        return [self._dataset]

    @property
    def element_spec(self):
        return self._dataset.element_spec

    def __iter__(self):
        if not tf.executing_eagerly():
            return super().__iter__()
        return _named_iterator_class()(self, self._files, self._num_classes)


def _named_iterator_class():
    from tensorflow.python.data.ops import iterator_ops

    class NamedErrorsIterator(iterator_ops.OwnedIterator):
        """An iterator of the dataset, raising :class:`ShardError` (``next``, ``for``, ``get_next``)."""

        def __init__(self, dataset, files, num_classes):
            self._shard_files, self._num_classes = files, num_classes
            super().__init__(dataset)

        def _next_internal(self):
            if not tf.executing_eagerly():
                return super()._next_internal()
            with shard_errors(self._shard_files, self._num_classes):
                return super()._next_internal()

    return NamedErrorsIterator


# Worded for both readers: the commands have no --skip-corrupt (they score or predict every shard).
CORRUPT_HINT = "replace or remove that file; in Python, load_yt8m(..., skip_corrupt=True) leaves bad shards out"

BLOCK = 64  # records per tagged block: large enough that per-element costs vanish (bench/input_pipeline.py)


def _tagged_blocks(path):
    # Tagging one record at a time costs about a third of the throughput (one tf.data element per
    # record); a block of BLOCK records is one element, and its names are joined in one op.
    prefix = tf.strings.join([path, ":"])
    starts = tf.data.Dataset.range(0, 2**62, BLOCK)
    blocks = tf.data.TFRecordDataset(path).batch(BLOCK)
    return tf.data.Dataset.zip((starts, blocks)).map(
        lambda start, records: (
            tf.strings.join([prefix, tf.strings.as_string(start + tf.range(tf.size(records, out_type=tf.int64)))]),
            records,
        )
    )


def _batch_parser(num_classes, include_id, groups):
    feature_spec = spec.feature_spec()

    def parse(names, records):
        parsed = tf.io.parse_example(records, feature_spec, example_names=names)
        labels = parsed["labels"]
        features = {name: parsed[name] for name in spec.FEATURE_SIZES}
        checks = [_labels_in_range(names, labels, num_classes)]
        checks += [_finite(names, name, x) for name, x in features.items()]
        with tf.control_dependencies(checks):
            values = tf.identity(labels.flat_values)
        # an indicator, not a sum: a label listed twice in a record is still one label
        dense = tf.cast(tf.sparse.to_indicator(labels.with_flat_values(values).to_sparse(), num_classes), tf.float32)
        dense.set_shape([records.shape[0], num_classes])  # keep the static batch size for XLA
        if include_id:
            features["id"] = parsed["id"]
        if groups is not None:
            return features, {name: tf.gather(dense, ids, axis=1) for name, ids in groups.items()}
        return features, dense

    return parse


# The two checks below are Assert ops on string data only, so TensorFlow adds no tf.cond around
# them (a cond's Merge node with a control input makes Grappler warn "Skipping loop optimization"
# at every trace). Each gathers the first offending record: one element, nearly free.


def _labels_in_range(names, labels, num_classes):
    """An Assert naming the first record (``"<file>:<index>"``) with a label outside [0, num_classes)."""
    values = labels.flat_values
    bad = tf.logical_or(values < 0, values >= num_classes)
    first = tf.argmax(tf.cast(bad, tf.int32), output_type=tf.int64)[None][: tf.size(values, tf.int64)]
    record = tf.gather(names, tf.gather(labels.value_rowids(), first))
    return tf.debugging.Assert(
        tf.logical_not(tf.reduce_any(bad)),
        [f"label index out of range [0, {num_classes}) in", record, "labels:", tf.strings.as_string(tf.gather(values, first))],
    )


def _finite(names, name, x):
    """An Assert naming the first record whose feature ``name`` holds NaN or an infinity."""
    finite = tf.reduce_all(tf.math.is_finite(x), axis=1)
    first = tf.argmin(tf.cast(finite, tf.int32), output_type=tf.int64)[None][: tf.size(finite, tf.int64)]
    return tf.debugging.Assert(tf.reduce_all(finite), [f"non-finite {name} in", tf.gather(names, first)])
