"""Reading shards video by video in file and record order, each video id checked.

Used by ``predict`` (one submission row per video) and ``score`` (the truth of every video): both
need ids that a CSV carries unchanged and that name one video each. A video id must be UTF-8 text,
without spaces around it (``score`` strips a row's fields, as spreadsheets pad them), and appear
once in all the shards read together. The first id that breaks a rule is a
:class:`~course_lib.data.pipeline.ShardError` naming its file and record (and, for a repeated id,
where it was first seen).
"""

from course_lib.data.pipeline import ShardError, list_shards, load_yt8m, shard_errors


class VideoIds:
    """The ids seen so far; :meth:`check` decodes and checks one batch of a shard.

    Example:

    >>> ids = VideoIds()
    >>> ids.check("a.tfrecord", 0, [b"v001", b"v002"])
    ['v001', 'v002']
    >>> ids.check("b.tfrecord", 0, [b"v002"])
    Traceback (most recent call last):
    ...
    course_lib.data.errors.ShardError: b.tfrecord, record 0: video id 'v002' repeated (first in a.tfrecord, record 1)
    """

    def __init__(self):
        self._first = {}  # id -> (index of its file in _files, record)
        self._files = []
        self._file_index = {}

    def __len__(self):
        return len(self._first)

    def check(self, path, start, raw_ids):
        """The ids of records ``start, start + 1, ...`` of ``path`` as ``str``; ``ShardError`` on a bad one."""
        file = self._file_index.setdefault(path, len(self._files))
        if file == len(self._files):
            self._files.append(path)
        ids = []
        for record, raw in enumerate(raw_ids, start):
            try:
                video_id = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise ShardError(f"{path}, record {record}: video id {raw!r} is not UTF-8 text") from None
            if not video_id.strip() or video_id != video_id.strip():
                raise ShardError(f"{path}, record {record}: video id {video_id!r} is empty or has spaces around it "
                                 "(a submission's ids are read stripped)")
            first = self._first.setdefault(video_id, (file, record))
            if first != (file, record):
                raise ShardError(f"{path}, record {record}: video id {video_id!r} repeated "
                                 f"(first in {self._files[first[0]]}, record {first[1]})")
            ids.append(video_id)
        return ids


def videos(pattern, batch_size, ids=None):
    """Yield ``(video ids, features, labels)`` batches of the shards ``pattern``, in file and record order.

    ``ids`` (a :class:`VideoIds`, default a new one) checks every id across all the files read; a
    record that fails to read or parse is a ``ShardError`` naming its file and record.
    """
    ids = VideoIds() if ids is None else ids
    for path in list_shards(pattern):  # one dataset per file: load_yt8m interleaves files
        start = 0
        with shard_errors(path):
            for features, labels in load_yt8m(path, batch_size, include_id=True):
                batch_ids = ids.check(path, start, features["id"].numpy())
                start += len(batch_ids)
                yield batch_ids, features, labels
