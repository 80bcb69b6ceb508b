"""Ordering the survivors of :mod:`course_lib.metrics.blocks` into each row's top ``k``, a run of
blocks at a time (the last step of :mod:`course_lib.metrics.selection`; notebook 02 uses it through
``top_k`` and the metrics).

float16 and float32 scores (and class indices that fit 15 bits, 16 with no truth): each block's
survivors become 64-bit sort keys while the block is in cache::

    key = row in the run (16 bits) | value key (32 bits) | class index | is a true label (1 bit)

with the value key ``0x7FFFFFFF`` minus the float32 bits when the block's scores are all ``>= +0.0``
(it gives the score back) and :func:`descending_keys` otherwise. One in-place sort of the run's keys
orders every row by decreasing score, then increasing class index; each row's first ``depth`` keys
are its top ``depth``, and the class indices, scores and hits are read back from them. Other
scores (float64) keep the survivors as they are and sort them with ``np.lexsort``.

The run's keys and the picks live in the thread's workspace (:func:`course_lib.metrics.blocks.buffer`):
fresh arrays of that size would cost a page fault per 4 kB.

Example:

>>> positions, values = np.array([1, 3, 5, 6]), np.float32([0.5, 0.75, 0.75, 0.25])  # rows of 4 scores
>>> entry = block_entry(positions, values, None, True, 4, 0, 2, 2, key_shift(4, False))
>>> columns, values, hits = rank_run([entry], np.zeros((2, 4), np.float32), (True, True), key_shift(4, False), {})
>>> columns.tolist(), values.tolist()
([[3, 1], [1, 2]], [[0.75, 0.5], [0.75, 0.25]])
"""

from collections import namedtuple

import numpy as np

from course_lib.metrics.blocks import buffer

ROW_BITS = 16  # rows of a run (see course_lib.metrics.selection.ROWS_PER_SORT)

Entry = namedtuple("Entry", "num_rows depth exact counts keys rows columns values hits")
# One block: its rows, depth and path (exact: every survivor >= +0.0), its survivors per row, and
# either their sort keys or (the lexsort path) their rows in the run, columns, scores and hits.


def key_shift(num_classes, with_hits):
    """Bits below the value key (class index, then hit), or ``None`` if a key would not fit 64 bits."""
    shift = max(1, (num_classes - 1).bit_length()) + bool(with_hits)
    return shift if ROW_BITS + 32 + shift <= 64 else None


def block_entry(positions, values, hits, exact, c, row, num_rows, depth, shift):
    """One block's survivors as an :class:`Entry`: ``positions`` (int64 flat positions in the block,
    overwritten), ``values``, ``hits`` (bool or ``None``); ``row``: the block's first row in its run;
    sort keys unless ``shift`` is ``None`` or the scores are float64."""
    rows = positions // c
    positions -= rows * c  # now the columns
    counts = np.bincount(rows, minlength=num_rows)
    rows += row
    if shift is None or values.dtype.itemsize > 4:
        return Entry(num_rows, depth, exact, counts, None, rows, positions, values, hits)
    values = values.astype(np.float32, copy=False)
    value_keys = np.subtract(np.uint32(0x7FFFFFFF), values.view(np.uint32)) if exact else descending_keys(values)
    keys = rows.view(np.uint64)  # non-negative: the same bits
    keys <<= np.uint64(32)
    keys |= value_keys
    keys <<= np.uint64(shift)
    if hits is not None:
        positions <<= 1
        positions |= hits
    keys |= positions.view(np.uint64)
    return Entry(num_rows, depth, exact, counts, keys, None, None, None, None)


def rank_run(entries, scores, wanted, shift, workspace):
    """``(columns, values, hits)`` ``(rows, depth)`` of a run of block entries; columns only if
    ``wanted[0]``, values only if ``wanted[1]``, hits ``None`` without truth. ``scores``: the run's
    rows of the score matrix (values are read from it when the keys cannot give them back, for
    ``-0.0``); ``shift``: that of :func:`key_shift`.

    Every row has at least its block's depth of survivors, and they are its top scores, so its first
    ``depth`` survivors in order are its top ``depth``. Rows of shallower blocks are padded (index
    -1, score -inf, no hit).
    """
    counts = np.concatenate([e.counts for e in entries]) if len(entries) > 1 else entries[0].counts
    width = max(e.depth for e in entries)
    starts = np.cumsum(counts)
    starts -= counts
    picks = np.add(starts[:, None], np.arange(width), out=buffer(workspace, "picks", (len(counts), width), np.int64))
    depth = np.repeat([e.depth for e in entries], [e.num_rows for e in entries])
    valid = None if depth.min() == width else np.arange(width) < depth[:, None]
    if valid is not None:
        picks[~valid] = 0
    exact = all(e.exact for e in entries)
    want_columns = wanted[0] or (wanted[1] and not exact)  # values not read from the keys are gathered
    if entries[0].keys is None:
        columns, values, hits = _lexsorted(entries, picks)
    else:
        has_hits = shift - max(1, (scores.shape[1] - 1).bit_length())
        columns, values, hits = _from_keys(entries, picks, shift, has_hits, (want_columns, exact and wanted[1]), workspace)
    if wanted[1] and values is None:
        values = take_rows(scores, columns if valid is None else np.where(valid, columns, 0))
    values = values.astype(scores.dtype, copy=False) if wanted[1] else None
    if valid is not None:
        for array, pad in ((columns, -1), (values, -np.inf), (hits, False)):
            if array is not None:
                array[~valid] = pad
    return (columns if wanted[0] else None), values, hits


def _from_keys(entries, picks, shift, has_hits, wanted, workspace):
    """Sort the entries' keys in place (a workspace buffer) and read ``(columns, values, hits)`` of
    the picks back from them (``None`` where not ``wanted``; hits ``None`` unless ``has_hits``)."""
    total = sum(len(e.keys) for e in entries)
    keys = buffer(workspace, "keys", (total,), np.uint64)
    if len(entries) > 1:
        np.concatenate([e.keys for e in entries], out=keys)
    else:
        keys[...] = entries[0].keys
    keys.sort()
    top = keys.take(picks, out=buffer(workspace, "top", picks.shape, np.uint64))
    scratch = buffer(workspace, "scratch", picks.shape, np.uint64)
    hits = np.bitwise_and(top, np.uint64(1), out=scratch).astype(bool) if has_hits else None
    values = None
    if wanted[1]:
        values = np.right_shift(top, np.uint64(shift), out=scratch).astype(np.uint32)  # the low 32 bits
        values = np.subtract(np.uint32(0x7FFFFFFF), values, out=values).view(np.float32)
    columns = None
    if wanted[0]:
        columns = np.right_shift(top, np.uint64(has_hits))
        columns &= np.uint64((1 << (shift - has_hits)) - 1)
        columns = columns.view(np.int64)
    return columns, values, hits


def _lexsorted(entries, picks):
    """The lexsort path: survivors ordered by row, decreasing value, increasing column."""
    rows = np.concatenate([e.rows for e in entries])
    columns = np.concatenate([e.columns for e in entries])
    values = np.concatenate([e.values for e in entries])
    hits = None if entries[0].hits is None else np.concatenate([e.hits for e in entries])
    order = np.lexsort((columns, -values, rows)).take(picks)
    return columns.take(order), values.take(order), None if hits is None else hits.take(order)


def descending_keys(values):
    """uint32 keys of float32 ``values`` that sort in the order of decreasing value.

    The IEEE bits of a float, with the sign bit flipped for positive numbers and every bit flipped
    for negative ones, sort like the floats; inverting them reverses the order. ``-0.0`` gets the
    key of ``0.0`` (the floats are equal).

    >>> values = np.array([0.5, -1.0, 2.0, -0.0, 0.0], np.float32)
    >>> values[np.argsort(descending_keys(values), kind="stable")]
    array([ 2. ,  0.5, -0. ,  0. , -1. ], dtype=float32)
    """
    bits = (values + np.float32(0)).view(np.int32)  # + 0 turns -0.0 into 0.0
    flip = ~(bits >> 31) & np.int32(0x7FFFFFFF)  # 0x7FFFFFFF for positive numbers, 0 for negative ones
    return (bits ^ flip).view(np.uint32)


def take_rows(array, indices):
    """``np.take_along_axis(array, indices, axis=1)``, by one flat take when ``array`` is contiguous."""
    if not array.flags.c_contiguous:
        return np.take_along_axis(array, indices, axis=1)
    return np.take(array.reshape(-1), indices + (np.arange(len(indices)) * array.shape[1])[:, None])
