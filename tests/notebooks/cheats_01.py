"""Known cheats of notebook 01's exercises: each must fail its check (test_exercises.py)."""

NOTEBOOK = "01_tfrecord_loading.ipynb"

_COPY = '''
def _copy(blob):
    copy = settings.course_root() / "build" / "cheat.tfrecord"
    copy.write_bytes(blob)
    return copy
'''

CHEATS = {
    1: {
        "TFRecordDataset on the shard": (
            "def count_records(blob):\n"
            "    return sum(1 for _ in tf.data.TFRecordDataset(validate_files[0]))"
        ),
        "the shard's count, computed beforehand": (
            "_count = sum(1 for _ in tf.data.TFRecordDataset(validate_files[0]))\n"
            "def count_records(blob):\n"
            "    return _count"
        ),
        "TFRecordDataset on a copy of the bytes": _COPY + (
            "def count_records(blob):\n"
            "    return sum(1 for _ in tf.data.TFRecordDataset(str(_copy(blob))))"
        ),
        "iter_frames on a copy of the bytes": _COPY + (
            "def count_records(blob):\n"
            "    return sum(1 for _ in tfrecord.iter_frames(_copy(blob), read_data=False))"
        ),
    },
    4: {
        "iter_frames on the uncut shard (the old solution)": (
            "def first_incomplete_frame(blob):\n"
            "    return [o for o, _, _ in tfrecord.iter_frames(train_files[0], read_data=False)][-1]"
        ),
        "the uncut shard's last frame, computed beforehand": (
            "_last = [o for o, _, _ in tfrecord.iter_frames(train_files[0], read_data=False)][-1]\n"
            "def first_incomplete_frame(blob):\n"
            "    return _last"
        ),
        "check_framing on a copy, its message parsed": _COPY + (
            "def first_incomplete_frame(blob):\n"
            "    report = tfrecord.check_framing(_copy(blob))\n"
            "    return None if report is None else int(report.split(' at byte ')[1].split()[0])"
        ),
    },
}
