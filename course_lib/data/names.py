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

__all__ = ["CODES", "ID_ALPHABET", "code_index", "shard_code"]


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
