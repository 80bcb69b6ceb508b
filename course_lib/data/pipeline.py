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

import contextlib
import re
import warnings

import tensorflow as tf

from course_lib.data import spec, tfrecord


class ShardError(ValueError):
    """A pattern that matches nothing, or a shard that cannot be read. The message names it."""


def list_shards(pattern):
    """The sorted files matching ``pattern`` (a glob, a list of globs, local or ``gs://``)."""
    patterns = [pattern] if isinstance(pattern, (str, bytes)) or hasattr(pattern, "__fspath__") else list(pattern)
    files = []
    for p in patterns:
        p = str(p)
        try:
            matched = tf.io.gfile.glob(p)
        except tf.errors.OpError as error:
            raise ShardError(f"cannot list pattern {p!r}: {error.message}") from None
        if not matched:
            raise ShardError(f"no files match pattern {p!r}")
        files.extend(matched)
    return sorted(set(files))


def verify_shards(files, full=False, num_classes=spec.NUM_CLASSES):
    """Check shards; return ``{file: problem}`` for the bad ones (empty when all are fine).

    ``full=False`` walks the record frames only (fast: catches truncated or garbled files).
    ``full=True`` also reads every record through TensorFlow (checking the data CRCs) and parses it
    against the feature spec (missing features, wrong lengths).
    """
    problems = {}
    for path in files:
        problem = tfrecord.check_framing(path)
        if problem is None and full:
            problem = _parse_whole_file(path, num_classes)
        if problem is not None:
            problems[path] = problem
    return problems


def _parse_whole_file(path, num_classes=spec.NUM_CLASSES):
    dataset = tf.data.TFRecordDataset(path).batch(1024)
    try:
        for start, records in enumerate(dataset):
            names = tf.strings.join([f"{path}:", tf.strings.as_string(tf.range(len(records)) + 1024 * start)])
            try:
                parsed = tf.io.parse_example(records, spec.feature_spec(), example_names=names)
            except (tf.errors.InvalidArgumentError, UnicodeDecodeError) as error:
                return _first_unparsable(path, records, 1024 * start) or f"{path}: {_error_text(error)}"
            values = parsed["labels"].flat_values
            bad = tf.where((values < 0) | (values >= num_classes))[:, 0]
            if tf.size(bad):
                row = int(parsed["labels"].value_rowids()[int(bad[0])])
                return (f"{path}, record {1024 * start + row}: label {int(values[int(bad[0])])} "
                        f"is out of range [0, {num_classes})")
            for name in spec.FEATURE_SIZES:
                finite = tf.reduce_all(tf.math.is_finite(parsed[name]), axis=1)
                if not tf.reduce_all(finite):
                    row = int(tf.argmin(tf.cast(finite, tf.int32)))
                    return f"{path}, record {1024 * start + row}: {name} holds NaN or infinite values"
    except (tf.errors.OpError, UnicodeDecodeError) as error:
        return f"{path}: {_error_text(error)}"
    return None


def _first_unparsable(path, records, offset):
    """``"<path>, record N: ..."`` for the first record of ``records`` that does not parse, else None."""
    for index, record in enumerate(records):
        try:
            tf.io.parse_example(record[None], spec.feature_spec(), example_names=[f"{path}:{offset + index}"])
        except UnicodeDecodeError:  # TensorFlow quotes the record's bytes; they are not text
            return f"{path}, record {offset + index}: not a tf.train.Example"
        except tf.errors.InvalidArgumentError as error:
            located = _locate(error, path, spec.NUM_CLASSES, search=False)
            return located if located.startswith(f"{path}, record") else f"{path}, record {offset + index}: {located}"
    return None


@contextlib.contextmanager
def shard_errors(files, num_classes=spec.NUM_CLASSES):
    """Turn a TensorFlow read or parse error raised while reading ``files`` into a :class:`ShardError`.

    The message names the file and, where it is known, the record: as ``"<file>, record N: ..."``.
    The pipeline tags records, so parse errors and out-of-range labels name theirs; for an error
    that names no file (``corrupted record at 12``: a failed data checksum) the shards are read
    once more to find it.
    """
    try:
        yield
    except (tf.errors.OpError, UnicodeDecodeError) as error:
        if isinstance(error, tf.errors.OutOfRangeError):
            raise
        raise ShardError(_locate(error, files, num_classes)) from None


def _locate(error, files, num_classes, search=True):
    text = _error_text(error)
    tagged = re.search(r"\[([^\[\]]+?):(\d+)[^\[\]]*\] \[labels:\] \[(-?\d+)", text)  # from _batch_parser's assertion
    if tagged:
        return f"{tagged[1]}, record {tagged[2]}: label {tagged[3]} is out of range [0, {num_classes})"
    not_finite = re.search(r"non-finite (\w+) in\] \[([^\[\]]+?):(\d+)\]", text)  # from _finite
    if not_finite:
        return f"{not_finite[2]}, record {not_finite[3]}: {not_finite[1]} holds NaN or infinite values"
    named = re.search(r"Name: (.+?):(\d+), (.*)", text)  # from parse_example's example_names
    if named:
        reason = re.sub(r"Index: \d+\. ", "", named[3])  # the index within the batch, not the file
        return f"{named[1]}, record {named[2]}: {reason}"
    if not search:
        return text
    problems = verify_shards(list_shards(files), full=True, num_classes=num_classes)
    return "; ".join(problems.values()) or text


def _error_text(error):
    if isinstance(error, UnicodeDecodeError):
        return "a record is not a tf.train.Example (TensorFlow's message quotes bytes that are not text)"
    text = tf_error_text(error)
    text = re.sub(r"^Error in user-defined function passed to .*? transformation with iterator: [\w:]+: ", "",
                  text)
    text = re.sub(r"\s*\[\[\{\{node [^]]*\]\]", "", text)
    text = re.sub(r"^Could not parse example input.*", "not a tf.train.Example", text)
    text = re.sub(r"^corrupted record at (\d+)$", r"corrupted record at byte \1 (its data checksum fails)", text)
    return text.strip()


def tf_error_text(error):
    """The useful part of a TensorFlow op error: without ``{{function_node ...}}`` and ``[Op:...]``."""
    text = re.sub(r"\{\{function_node [^}]*\}\}", "", error.message)
    text = re.sub(r"\[Op:\w+\].*$", "", text, flags=re.S)
    return " ".join(text.split())


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
        ShardError: no file matches ``pattern``, or a shard is truncated or corrupt. A bad record
            (a failed checksum, a missing feature, a label out of range) is only met while the
            dataset is iterated, as TensorFlow's ``tf.errors.OpError``: iterate inside
            ``with shard_errors(pattern):`` for a ``ShardError`` naming the file and record (the
            course's commands do).
        ValueError: an argument is out of range.

    Example:

    >>> from course_lib import settings
    >>> dataset = load_yt8m(settings.data_pattern("train"), batch_size=32)
    >>> features, labels = next(iter(dataset))
    >>> labels.shape
    TensorShape([32, 3862])
    """
    if int(batch_size) < 1:
        raise ValueError(f"batch_size must be a positive integer. Received: batch_size={batch_size!r}")
    if int(num_classes) < 1:
        raise ValueError(f"num_classes must be positive. Received: num_classes={num_classes!r}")
    if input_context is not None:
        num_shards = input_context.num_input_pipelines
        shard_index = input_context.input_pipeline_id
        batch_size = input_context.get_per_replica_batch_size(batch_size)
    if not 0 <= shard_index < num_shards:
        raise ValueError(
            f"shard_index must be in [0, num_shards). Received: shard_index={shard_index}, "
            f"num_shards={num_shards}"
        )

    files = list_shards(pattern)
    if skip_corrupt:
        problems = verify_shards(files, full=True, num_classes=num_classes)
        if problems:
            warnings.warn(
                f"skipped {len(problems)} corrupt shard(s) of {len(files)}:\n"
                + "\n".join(f"  {problem}" for problem in problems.values()),
                stacklevel=2,
            )
            files = [f for f in files if f not in problems]
            if not files:
                raise ShardError(f"every shard matching {pattern!r} is corrupt")
    elif check_files:
        for path in (f for f in files if "://" not in f):
            problem = tfrecord.check_framing(path)
            if problem:
                raise ShardError(problem + " (pass skip_corrupt=True to leave bad shards out)")
    if len(files) < num_shards:
        raise ShardError(
            f"{len(files)} file(s) match {pattern!r}, fewer than num_shards={num_shards}: "
            "file-level sharding needs at least one file per input pipeline"
        )
    files = files[shard_index::num_shards]

    dataset = tf.data.Dataset.from_tensor_slices(files)
    if shuffle:
        dataset = dataset.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
    # Elements are blocks of up to BLOCK records of one file, each record tagged "<file>:<index>".
    dataset = dataset.interleave(
        _tagged_blocks,
        cycle_length=min(len(files), 8),
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=True,
    )
    if cache:
        dataset = dataset.cache("" if cache is True else str(cache))
    if shuffle:  # record-level shuffling needs records, not blocks
        dataset = dataset.unbatch().shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
        if repeat:
            dataset = dataset.repeat()
        dataset = dataset.batch(batch_size, drop_remainder=drop_remainder)
    else:
        if repeat:
            dataset = dataset.repeat()
        dataset = dataset.rebatch(batch_size, drop_remainder=drop_remainder)
    groups = None
    if label_groups is not None:
        groups = {name: tf.constant(ids, tf.int32) for name, ids in dict(label_groups).items()}
    parse = _batch_parser(int(num_classes), include_id, groups)
    dataset = dataset.map(parse, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return dataset.prefetch(tf.data.AUTOTUNE)


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
