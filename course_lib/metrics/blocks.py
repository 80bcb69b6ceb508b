"""The per-block scans of :mod:`course_lib.metrics.selection`: which scores of a block of rows can
be in their row's top ``k``, and where a block of truth holds its true labels.

A block is :data:`course_lib.metrics.selection.ROWS_PER_BLOCK` rows (256 x 3,862 float32 scores =
4 MB). :func:`survivors` returns the *survivors* of a block: the flat positions (in the block, C
order) of every score that reaches its row's lower bound on the ``k``-th largest score, and their
values. A row keeps at least ``k`` survivors, and they are exactly its top ``len(survivors)`` scores
(every other score is below the bound), so ordering the survivors alone gives the row's exact top
``k``. See :mod:`course_lib.metrics.selection` for the bound.

The group maxima (:data:`FOLD` strided slabs reduced into one), the bound (the ``k``-th largest of
those reduced again, :data:`COARSE` slabs into one), the groups that reach it (an eighth of the
block), and a gather of the :data:`FOLD` scores of each such group (:func:`_gather`): about 22
groups per row at k = 20 instead of comparing all 3,862 scores. Two ways to get the group maxima,
chosen block by block:

* **Non-negative scores** (probabilities; float16, float32 or float64). The scores' IEEE bits, read
  as unsigned integers, sort like the scores themselves, and every NaN, infinity and negative
  number (``-0.0`` included) has bits at least those of ``+inf``. So one ``max`` of the bits checks
  :data:`SUB_ROWS` rows (and, streamed from memory, brings them into the core's cache), and their
  group maxima are folded from that cache; the rest works on the bits.
* **Any other block** (a negative score, a non-finite one, an integer matrix made float64): ``min``
  for the finite check, then the same groups on the float values (``-0.0`` equals ``0.0``).

Example:

>>> block = np.zeros((1, 48))
>>> block[0, [5, 17, 40]] = [0.9, 0.5, 0.9]
>>> positions, values, exact = survivors(block, 2, {})  # 6 groups; the 2nd largest maximum is 0.9
>>> positions.tolist(), values.tolist(), exact
([5, 40], [0.9, 0.9], True)
"""

import math

import numpy as np

FOLD = 8  # first-level groups: slab j of a row holds the columns j, j + W, ..., j + 7 W
COARSE = 4  # the group maxima folded again (while at least 3 k remain) for the bound
SUB_ROWS = 64  # rows checked and folded at a time: 64 x 3,862 float32 scores (1 MB) stay in a core's cache
UNSIGNED = {2: np.uint16, 4: np.uint32, 8: np.uint64}


class NotFinite(Exception):
    """A block held NaN or an infinite score (re-raised as ``ValueError`` for the whole array)."""


def buffer(workspace, name, shape, dtype):
    """A scratch array of ``shape`` and ``dtype`` from ``workspace``, grown when too small.

    Fresh arrays of a block's size would cost a page fault per 4 kB, about as much as the scan
    that fills them.
    """
    size = math.prod(shape)
    scratch = workspace.get(name)
    if scratch is None or scratch.size < size or scratch.dtype != dtype:
        scratch = workspace[name] = np.empty(max(size, 1), dtype)
    return scratch[:size].reshape(shape)


_KINDS = {}  # float dtype -> (unsigned dtype of its size, bits of +inf), or None


def _bits(block):
    """``(unsigned view, bits of +inf)`` of a C-contiguous float block, else ``None``."""
    kind = _KINDS.get(block.dtype, False)
    if kind is False:
        unsigned = UNSIGNED.get(block.dtype.itemsize) if block.dtype.kind == "f" else None
        kind = None if unsigned is None else (unsigned, int(np.array(np.inf, block.dtype).view(unsigned)))
        _KINDS[block.dtype] = kind
    if kind is None or not block.flags.c_contiguous:
        return None
    return block.view(kind[0]), kind[1]


def groups_fit(num_classes, k):
    """Whether rows of ``num_classes`` scores split into enough groups for a bound on the ``k``-th."""
    return k > 1 and num_classes // FOLD >= 3 * k


def survivors(block, k, workspace):
    """``(positions, values)`` of the scores of ``block`` ``(n, C)`` that can be in their row's top ``k``.

    Returns ``(positions, values, exact)``. ``positions``: int64 flat positions in the block (any
    order), at least ``min(k, C)`` per row and exactly each row's top ``len`` scores; ``values``:
    their scores (float16 scores stay float16 on the non-negative path and become float32
    otherwise, exactly); ``exact``: whether no survivor can be ``-0.0`` (the non-negative path).
    Raises :class:`NotFinite`.
    """
    block = np.ascontiguousarray(block)
    if not groups_fit(block.shape[1], k):
        return _directly(block, k, workspace)
    bits = _bits(block)
    groups = None if bits is None else _checked_groups(bits[0], bits[1], workspace)
    if groups is not None:
        positions, values = _gather(bits[0], groups, k, workspace)
        return positions, values.view(block.dtype), True
    return (*_general(block, k, workspace), False)


def _checked_groups(bits, inf_bits, workspace):
    """The group maxima of :func:`_fold` of a block's unsigned ``bits``, or ``None`` if a score is
    negative or not finite: :data:`SUB_ROWS` rows at a time, one ``max`` of their bits (streamed
    from memory into the core's cache) and then their fold from that cache."""
    n, c = bits.shape
    width = c // FOLD
    groups = buffer(workspace, "groups", (n, width), bits.dtype)
    for start in range(0, n, SUB_ROWS):
        part = bits[start : start + SUB_ROWS]
        if np.maximum.reduce(part.reshape(-1)) >= inf_bits:
            return None
        slabs = part[:, : FOLD * width].reshape(len(part), FOLD, width)
        np.maximum.reduce(slabs, axis=1, out=groups[start : start + SUB_ROWS])
    return groups


def _fold(block, workspace, name, fold):
    """Group maxima ``(n, C // fold)``: the element-wise maximum of ``fold`` slabs of width
    ``C // fold``, one ``np.maximum.reduce`` over a 3-D view (no copy) into a reused buffer."""
    n, c = block.shape
    width = c // fold
    slabs = block[:, : fold * width].reshape(n, fold, width)
    return np.maximum.reduce(slabs, axis=1, out=buffer(workspace, name, (n, width), block.dtype))


def _bound(groups, k, workspace):
    """Per row, the ``k``-th largest of disjoint groups' maxima: at most the row's ``k``-th score."""
    n, m = groups.shape
    width = m // COARSE
    if width < 3 * k:
        return np.partition(groups, m - k, axis=1)[:, m - k]
    coarse = np.maximum(groups[:, :width], groups[:, width : 2 * width], out=buffer(workspace, "coarse", (n, width), groups.dtype))
    for j in range(2, COARSE):  # element-wise maxima of 2-D views: faster than a reduce over slabs
        np.maximum(coarse, groups[:, j * width : (j + 1) * width], out=coarse)
    coarse.partition(width - k, axis=1)  # in place: a scratch buffer
    return coarse[:, width - k].copy()


def _gather(values, groups, k, workspace):
    """``(positions, values)`` of the survivors of a block of ``values`` ``(n, C)`` from its group
    maxima ``groups`` (overwritten): the unsigned bits of scores that are all finite and ``>= +0.0``,
    or the float scores of any other finite block.

    The groups of :func:`_fold` cover ``FOLD * W`` columns; the last ``t = C - FOLD * W`` columns
    join groups ``0 .. t-1`` (one more member each), so every score is in exactly one group. Every
    score that reaches the bound is in a group whose maximum does, and only those are gathered.
    The gathers fill reused buffers (fresh ones would cost page faults); ndarray methods, not the
    ``np.`` wrappers, keep the calls short.
    """
    bits = values
    n, c = bits.shape
    width = groups.shape[1]
    tail = c - FOLD * width
    bound = _bound(groups, k, workspace)  # from disjoint groups: before the tail joins them
    if tail:
        np.maximum(groups[:, :tail], bits[:, FOLD * width :], out=groups[:, :tail])
    reach = np.greater_equal(groups, bound[:, None], out=buffer(workspace, "reach", groups.shape, np.bool_))
    found = np.flatnonzero(reach)
    rows = found // width
    first = found + rows * (c - width)  # row * C + column: the group's member in slab 0
    size = (FOLD + (tail > 0), len(found))
    offsets = workspace.get(("offsets", size[0], width))
    if offsets is None:
        offsets = workspace[("offsets", size[0], width)] = np.arange(0, size[0] * width, width)[:, None]
    members = np.add(offsets, first, out=buffer(workspace, "members", size, np.int64))
    if tail:
        beyond = (found - rows * width) >= tail
        np.copyto(members[FOLD], first, where=beyond)  # no such member: stay in the row
    candidates = bits.reshape(-1).take(members, out=buffer(workspace, "candidates", size, bits.dtype), mode="clip")
    keep = np.greater_equal(candidates, bound.take(rows), out=buffer(workspace, "keep", size, np.bool_))
    if tail:
        keep[FOLD] &= ~beyond
    chosen = keep.reshape(-1).nonzero()[0]
    return members.reshape(-1).take(chosen), candidates.reshape(-1).take(chosen)


def _work(block, workspace):
    """The block, float16 widened exactly to float32; checked finite (one ``min``)."""
    if block.dtype == np.float16:
        work = buffer(workspace, "wide", block.shape, np.float32)
        work[...] = block
        block = work
    if not np.isfinite(block.min()):  # NaN propagates through min; so does -inf
        raise NotFinite
    return block


def _general(block, k, workspace):
    """The survivors of any finite block (negative scores, ``-0.0``, float64 integers): the same
    groups on the float values, after one ``min`` for the check.

    ``+inf`` passes ``min``; it reaches every bound, so it is caught among the survivors. ``-0.0``
    equals ``0.0`` in every comparison, so both reach a bound of either.
    """
    work = _work(block, workspace)
    positions, values = _gather(work, _fold(work, workspace, "groups", FOLD), k, workspace)
    if not np.all(np.isfinite(values)):
        raise NotFinite
    return positions, values


def _directly(block, k, workspace):
    """Too few classes for groups, or ``k == 1``: each row's top ``min(k, C)`` positions outright.

    ``k == 1``: ``argmax`` (the first of equal maxima), of the unsigned bits when the row maxima
    show every score non-negative and finite; otherwise a stable sort of each (short) row.
    """
    n, c = block.shape
    k = min(k, c)
    rows = np.arange(n, dtype=np.int64)[:, None] * c
    bits = _bits(block) if k == 1 else None
    if bits is not None:
        best = np.argmax(bits[0], axis=1)[:, None] + rows
        if np.take(bits[0].reshape(-1), best).max() < bits[1]:  # the largest bits of every row
            return best.reshape(-1), np.take(block.reshape(-1), best.reshape(-1)), True
    work = _work(block, workspace)
    if k == 1:
        best = np.argmax(work, axis=1)[:, None]
    else:
        best = np.argsort(-work, axis=1, kind="stable")[:, :k]
    positions = (best + rows).reshape(-1)
    values = np.take(work.reshape(-1), positions)
    if not np.all(np.isfinite(values)):  # +inf passes min and ranks first
        raise NotFinite
    return positions, values, False


def truth_positions(block, workspace):
    """Flat positions (C order, ascending) of the non-zero entries of a truth block, or ``None``
    if one of them is not 1.

    One comparison with 0 finds them, a few per row; only those are looked at again (``-0.0`` is
    zero, NaN is not 1). A C-contiguous block is compared 8 bytes at a time (its bytes read as
    64-bit words: two float32 labels, eight booleans), and the mask of non-zero words is searched
    8 words at a time (:func:`_sparse_nonzero`).
    """
    flat = block.reshape(-1) if block.flags.c_contiguous else None
    if flat is not None and flat.nbytes % 64 == 0 and flat.ctypes.data % 8 == 0:
        words = flat.view(np.uint64)
        found = _sparse_nonzero(np.not_equal(words, 0, out=buffer(workspace, "nonzero", words.shape, np.bool_)))
        per = 8 // flat.itemsize
        candidates = (found[:, None] * per + np.arange(per)).reshape(-1) if per > 1 else found
        values = flat.take(candidates)
        nonzero = values != 0
        positions, values = candidates[nonzero], values[nonzero]
    else:
        nonzero = np.not_equal(block, 0, out=buffer(workspace, "nonzero", block.shape, np.bool_))
        positions = nonzero.reshape(-1).nonzero()[0]
        values = _take_flat(block, positions)
    if block.dtype != np.bool_ and not (values == 1).all():  # NaN is not 1 either
        return None
    return positions


def _sparse_nonzero(mask):
    """``np.flatnonzero`` of a mostly False boolean mask whose length is a multiple of 8 (and
    whose data is 8-byte aligned): the mask's bytes read as 64-bit words, then the few non-zero
    words opened."""
    words = np.flatnonzero(mask.view(np.uint64) != 0)
    candidates = (words[:, None] * 8 + np.arange(8)).reshape(-1)
    return candidates[mask.take(candidates)]


def _take_flat(block, positions):
    """``block.reshape(-1)[positions]`` without copying a non-contiguous block."""
    if block.flags.c_contiguous:
        return block.reshape(-1).take(positions)
    rows, columns = np.divmod(positions, block.shape[1])
    return block[rows, columns]


def hits_at(truth_block, positions):
    """Whether the truth block is non-zero (a true label, once checked) at ``positions``: bool."""
    return _take_flat(truth_block, positions) != 0
