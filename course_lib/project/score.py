"""``python -m course_lib score``: check a submission CSV and score it against the shards' labels.

Taught in notebook 02. A submission is valid when it has the header ``VideoId,Label``, one row per
video of the shards (no unknown, repeated or missing id), and in each row exactly 10 distinct
label indices in ``[0, 3862)`` separated by spaces, most confident first. The first problem found
is reported as ``submission.csv, line N: ...``.

Printed figures, from :class:`course_lib.metrics.TopKEvaluator`::

    MAP@10 0.xxxx    mean over videos of AP@10 of the submitted ranking (min(r, 10) normaliser)
    GAP@20 0.xxxx    global AP over all submitted (video, label) pairs
    hit@1 0.xxxx     share of videos whose first label is one of theirs

A CSV carries ranks, not probabilities, so each submitted label gets the confidence
``(10 - rank) / 10`` (1.0 for the first, 0.1 for the tenth). MAP@10 and hit@1 only need the order
within a video, so they are exact. GAP pools every video's predictions and sorts them by
confidence: here the predictions of one rank tie across videos, and each tie group counts as one
threshold (the tie policy of :mod:`course_lib.metrics.ranking`). A submission has 10 labels a
video, so its "GAP@20" is GAP over those 10 (the 11th to 20th do not exist). It is the
submission's GAP, not the model's: the model's GAP@20 from its probabilities is the
``val_gap_at_20`` column of the run's ``history.csv``.
"""

import csv
import re

import numpy as np

from course_lib import settings
from course_lib.data import spec

TOP_K = 10
HEADER = ["VideoId", "Label"]
_INTEGER = re.compile(r"-?[0-9]+\Z")  # ASCII digits only (int() would also take "1_0" or "٣")


def _shown(text, limit=80):
    """``text`` as ``repr``, cut to about ``limit`` characters (a message stays one short line)."""
    return repr(text) if len(text) <= limit else repr(text[:limit]) + f" ... ({len(text):,} characters)"


class SubmissionError(ValueError):
    """A malformed submission; the message names the file and line."""


def read_labels(pattern, batch_size=1024):
    """``{video id: sorted label indices}`` of every video in the shards matching ``pattern``.

    Raises ``ShardError`` naming the file and record of a record that does not read or parse, and
    of a video id that is not UTF-8, has spaces around it, or repeats (:mod:`course_lib.data.videos`).
    """
    from course_lib.data.videos import videos

    truth = {}
    for ids, _, labels in videos(pattern, batch_size):
        rows, columns = np.nonzero(labels.numpy())
        per_video = np.split(columns, np.searchsorted(rows, np.arange(1, len(labels))))
        truth.update(zip(ids, per_video))
    return truth


def read_submission(path, known_ids, *, top_k=TOP_K, num_classes=spec.NUM_CLASSES):
    """Check submission ``path`` line by line; yield ``(video_id, labels)`` for each row.

    Args:
        path: the CSV.
        known_ids: the video ids of the shards (a dict or set); each must appear exactly once.
        top_k: labels a row must have (10 in the project).
        num_classes: labels must lie in ``[0, num_classes)``.

    Raises:
        SubmissionError: the first malformed line, as ``"{path}, line {n}: ..."``; or missing
            videos, as ``"{path}: ..."`` naming the first missing id.
    """
    seen = {}
    with open(path, newline="", encoding="utf-8-sig") as handle:  # -sig: a BOM from a spreadsheet is fine
        reader = csv.reader(handle)
        row_start = 1  # the line the row being read starts on (csv lets a quoted field run over lines)
        try:
            header = next(reader, None)
            if header is None:
                raise SubmissionError(f"{path}, line 1: empty file; expected the header {','.join(HEADER)}")
            if [field.strip() for field in header] != HEADER:
                raise _RowProblem(f"the header must be {','.join(HEADER)}. Received: {_shown(','.join(header))}")
            row_start = reader.line_num + 1
            for row in reader:
                if reader.line_num != row_start:  # a field ran over a line end: its quote was never closed
                    raise _RowProblem(f'a quote (") opened on this line is not closed on it: {_shown(",".join(row))}')
                if row:  # not a blank line
                    video_id, labels = _check_row(row, known_ids, seen, top_k, num_classes)
                    seen[video_id] = row_start
                    yield video_id, labels
                row_start = reader.line_num + 1
        except _RowProblem as problem:
            raise SubmissionError(f"{path}, line {row_start}: {problem}") from None
        except csv.Error as error:  # e.g. "field larger than field limit": a quote left open long before
            raise SubmissionError(f'{path}, line {row_start}: not valid CSV ({error}); a quote (") opened on this '
                                  "line may not be closed") from None
        except UnicodeDecodeError:
            raise SubmissionError(f"{path}: not UTF-8 text") from None
    missing = [video_id for video_id in known_ids if video_id not in seen]
    if missing:
        raise SubmissionError(
            f"{path}: {len(missing)} video(s) of the shards have no row, first {missing[0]!r}; "
            "a submission predicts every video"
        )


class _RowProblem(Exception):
    """What is wrong with one row (read_submission adds the file and line)."""


def _check_row(row, known_ids, seen, top_k, num_classes):
    """``(video id, int64 labels)`` of a submission row, else :class:`_RowProblem` saying why."""
    if len(row) != 2:
        raise _RowProblem(f"expected 2 fields (VideoId,Label), found {len(row)}: {_shown(','.join(row))}")
    video_id, field = row[0].strip(), row[1]
    if video_id not in known_ids:
        raise _RowProblem(f"unknown video id {_shown(video_id)}: it is in none of the shards scored")
    if video_id in seen:
        raise _RowProblem(f"video id {video_id!r} repeated (first on line {seen[video_id]})")
    tokens = field.split()
    if len(tokens) != top_k:
        raise _RowProblem(f"expected {top_k} labels separated by spaces, found {len(tokens)}: {_shown(field)}")
    bad = [token for token in tokens if not _INTEGER.match(token)]
    if bad:
        raise _RowProblem(f"label {_shown(bad[0])} is not an integer")
    values = [int(token) for token in tokens]  # Python ints: checked before they meet int64
    out_of_range = [value for value in values if not 0 <= value < num_classes]
    if out_of_range:
        raise _RowProblem(f"label {out_of_range[0]} is out of range [0, {num_classes})")
    if len(set(values)) != top_k:
        repeated = next(x for i, x in enumerate(values) if x in values[:i])
        raise _RowProblem(f"label {repeated} repeated; a row lists {top_k} distinct labels")
    return video_id, np.array(values, np.int64)


def score(submission, data=None, *, top_k=TOP_K, num_classes=spec.NUM_CLASSES, chunk=4096):
    """Validate ``submission`` and score it against the labels of the shards ``data``.

    Args:
        submission: path of the CSV.
        data: glob of the shards it predicts. Default ``settings.data_pattern("validate")``.
        top_k: labels per row (10).
        num_classes: the vocabulary size.
        chunk: rows handed to the evaluator at once.

    Returns:
        ``{"MAP@10": ..., "GAP@20": ..., "hit@1": ..., "videos": ...}`` (floats, and an int).
    """
    from course_lib import metrics

    truth = read_labels(data or settings.data_pattern("validate"))
    # k = top_k: the evaluator keeps the submitted labels only, so its GAP@10 is GAP@20 of a
    # 10-label submission (the 11th to 20th predictions do not exist).
    evaluator = metrics.TopKEvaluator(k=top_k, num_classes=num_classes, map_k=top_k)
    rank_scores = (top_k - np.arange(top_k)) / top_k  # 1.0, 0.9, ..., 0.1: the CSV's only confidence
    ids, ranked = [], []

    def flush():
        evaluator.update_top_k([truth[i] for i in ids], np.stack(ranked), np.tile(rank_scores, (len(ids), 1)))
        ids.clear()
        ranked.clear()

    for video_id, labels in read_submission(submission, truth, top_k=top_k, num_classes=num_classes):
        ids.append(video_id)
        ranked.append(labels)
        if len(ids) == chunk:
            flush()
    if ids:
        flush()
    if evaluator.num_videos == 0:
        raise SubmissionError(f"{submission}: no video to score (the shards are empty)")
    result = evaluator.result()
    return {
        f"MAP@{top_k}": result[f"map@{top_k}"],
        "GAP@20": result[f"gap@{top_k}"],
        "hit@1": result["hit@1"],
        "videos": result["num_videos"],
    }


def format_scores(scores):
    return "\n".join(f"{name} {scores[name]:.4f}" for name in ("MAP@10", "GAP@20", "hit@1"))


def main(args):
    """``python -m course_lib score``."""
    scores = score(args.submission, args.data)
    print(format_scores(scores))
    print(f"videos {scores['videos']}")
    return 0
