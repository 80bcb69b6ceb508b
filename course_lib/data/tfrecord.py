"""The TFRecord container, read frame by frame: what notebook 01 takes apart by hand.

A TFRecord file is a sequence of records, each framed as::

    uint64  length               little-endian
    uint32  masked_crc32c(length bytes)
    byte    data[length]         here a serialized tf.train.Example
    uint32  masked_crc32c(data)

where ``masked_crc32c(x) = ((crc >> 15) | (crc << 17)) + 0xa282ead8`` (mod 2**32) of the CRC-32C
of ``x``. TensorFlow's reader checks both CRCs; this module exists so that a student can see the
bytes, and so that :func:`check_framing` can name a truncated file before training starts (TF's own
``DataLossError`` does not say which file).
"""

import struct

import google_crc32c
import tensorflow as tf

HEADER_SIZE = 12  # length (8) + its CRC (4)
FOOTER_SIZE = 4  # CRC of the data
_MASK_DELTA = 0xA282EAD8


def masked_crc32c(data):
    """TFRecord's masked CRC-32C of ``data`` (bytes), as an int."""
    crc = google_crc32c.value(bytes(data))
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def _open(path):
    path = str(path)
    return tf.io.gfile.GFile(path, "rb") if "://" in path else open(path, "rb")


def iter_frames(path, read_data=True):
    """Yield ``(offset, length, data)`` for each record of a TFRecord file, checking both CRCs.

    With ``read_data=False`` the payload is skipped (``data`` is ``None``) and only the framing is
    checked: fast, and enough to catch a truncated download. Raises ``ValueError`` naming the file
    and the byte offset of the first bad frame.
    """
    size = tf.io.gfile.stat(str(path)).length
    with _open(path) as f:
        offset = 0
        while offset < size:
            header = f.read(HEADER_SIZE)
            if len(header) < HEADER_SIZE:
                raise ValueError(f"{path}: truncated record header at byte {offset}")
            length, length_crc = struct.unpack("<QI", header)
            if masked_crc32c(header[:8]) != length_crc:
                raise ValueError(f"{path}: corrupted record length at byte {offset}")
            end = offset + HEADER_SIZE + length + FOOTER_SIZE
            if end > size:
                raise ValueError(
                    f"{path}: truncated record at byte {offset} (needs {end} bytes, file has {size})"
                )
            data = None
            if read_data:
                data = f.read(length)
                if masked_crc32c(data) != struct.unpack("<I", f.read(FOOTER_SIZE))[0]:
                    raise ValueError(f"{path}: corrupted record data at byte {offset}")
            else:
                f.seek(end)
            yield offset, length, data
            offset = end


def check_framing(path):
    """Walk a file's record headers without reading payloads; return a problem string or None."""
    try:
        for _ in iter_frames(path, read_data=False):
            pass
    except ValueError as error:
        return str(error)
    except (OSError, tf.errors.OpError) as error:
        return f"{path}: cannot read ({getattr(error, 'strerror', None) or error})"
    return None
