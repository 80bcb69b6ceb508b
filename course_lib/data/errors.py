"""Shard errors that name their file and record: :class:`ShardError`, :func:`shard_errors`, checks.

TensorFlow reports a bad record as a ``tf.errors.OpError`` whose message may name the record
(``parse_example``'s ``example_names``, the pipeline's assertions) or nothing at all (``corrupted
record at 12``: a failed data checksum). :func:`shard_errors` turns either into a
:class:`ShardError` ``"<file>, record N: ..."``, reading the shards once more when TensorFlow named
none. Used by :mod:`course_lib.data.pipeline` (which re-exports these names) and the commands.
"""

import contextlib
import os
import re

import tensorflow as tf

from course_lib.data import spec, tfrecord


class ShardError(ValueError):
    """A pattern that matches nothing, or a shard that cannot be read. The message names it."""


def list_shards(pattern):
    """The sorted files matching ``pattern`` (a glob, a list of globs, local or ``gs://``).

    ``ValueError`` for a pattern that is not a glob nor a non-empty list of globs; ``ShardError``
    for a glob that matches nothing.
    """
    if isinstance(pattern, (str, bytes)) or hasattr(pattern, "__fspath__"):
        patterns = [pattern]
    elif isinstance(pattern, (list, tuple)) and pattern:
        patterns = list(pattern)
    else:
        raise ValueError(f"pattern must be a glob or a non-empty list of globs. Received: pattern={pattern!r}")
    files = []
    for p in patterns:
        if not (isinstance(p, (str, bytes)) or hasattr(p, "__fspath__")) or not os.fsdecode(p).strip():
            raise ValueError(f"pattern must be a glob or a non-empty list of globs. Received: pattern={pattern!r}")
        p = os.fsdecode(p)
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
