"""Shard and video naming of YouTube-8M, shared by the generator and the downloader.

Taught in notebook 01. Imports nothing but the standard library (no TensorFlow), so the downloader
can use it without loading TensorFlow. The server names a shard by its split and two characters
(``trainbI.tfrecord``); the official download script saves it under the index of those two
characters (``train0096.tfrecord``). Real video ids are four characters from the same alphabet.

>>> shard_code(96), code_index("bI")
('bI', 96)
"""

import string

ID_ALPHABET = string.ascii_lowercase + string.ascii_uppercase + string.digits
CODES = len(ID_ALPHABET) ** 2  # 3,844 two-character codes: the number of shards of a split

__all__ = ["CODES", "ID_ALPHABET", "code_index", "shard_code", "split_plan"]


def shard_code(index):
    """The two-character code of shard ``index``: 0 -> 'aa', 96 -> 'bI', 3843 -> '99'."""
    if not 0 <= index < CODES:
        raise ValueError(f"a shard index is in [0, {CODES}). Received: index={index!r}")
    return ID_ALPHABET[index // len(ID_ALPHABET)] + ID_ALPHABET[index % len(ID_ALPHABET)]


def code_index(code):
    """The inverse of :func:`shard_code`: 'aa' -> 0, 'bI' -> 96, '99' -> 3843."""
    if len(code) != 2 or any(c not in ID_ALPHABET for c in code):
        raise ValueError(f"a shard code is two characters from a-z A-Z 0-9. Received: code={code!r}")
    return ID_ALPHABET.index(code[0]) * len(ID_ALPHABET) + ID_ALPHABET.index(code[1])


def split_plan(videos, shards, validate_fraction):
    """The shards of a generated dataset: a list of ``(split, index, videos)``, train shards first.

    >>> split_plan(10, 3, 0.2)
    [('train', 0, 4), ('train', 1, 4), ('validate', 0, 2)]
    """
    if videos < 2 or shards < 2:
        raise ValueError(f"need at least 2 videos and 2 shards (one per split). Received: videos={videos}, shards={shards}")
    if not 0 < validate_fraction < 1:
        raise ValueError(f"validate_fraction must be in (0, 1). Received: validate_fraction={validate_fraction}")
    val_shards = min(shards - 1, max(1, round(shards * validate_fraction)))
    val_videos = min(videos - 1, max(1, round(videos * validate_fraction)))
    plan = []
    for split, num_shards, num_videos in (
        ("train", shards - val_shards, videos - val_videos),
        ("validate", val_shards, val_videos),
    ):
        if num_videos < num_shards:  # an empty shard is no shard: every reader would reject it
            raise ValueError(
                f"{num_videos} {split} video(s) for {num_shards} {split} shard(s): every shard needs a video, so "
                f"--videos must be at least --shards. Received: videos={videos}, shards={shards}"
            )
        plan.extend((split, i, num_videos // num_shards + (i < num_videos % num_shards)) for i in range(num_shards))
    if max(size for *_, size in plan) > CODES:
        raise ValueError(f"at most {CODES} videos a shard; use more shards")
    if len(plan) > CODES:
        raise ValueError(f"at most {CODES} shards")
    return plan
