"""YouTube-8M video-level features and labels as in-memory NumPy arrays, for small experiments.

Taught in notebook 02 (the baselines) and used again in notebook 03b, part 5::

    X, Y = load_arrays("train", videos=4000)   # X (N, 1152) rgb then audio, Y (N, 3862) multi-hot
"""

import math

import numpy as np

from course_lib import settings
from course_lib.data import spec
from course_lib.data.pipeline import load_yt8m

__all__ = ["load_arrays"]

SPLITS = ("train", "validate", "test")


def _pattern(split_or_pattern):
    return settings.data_pattern(split_or_pattern) if split_or_pattern in SPLITS else split_or_pattern


def load_arrays(split_or_pattern, videos, *, batch_size=500, num_classes=spec.NUM_CLASSES):
    """The first ``videos`` videos of a split (or a glob) as ``(X, Y)`` NumPy arrays.

    ``X[i]`` is video ``i``'s ``mean_rgb`` (1,024 values) followed by its ``mean_audio`` (128), and
    ``Y[i]`` its multi-hot labels, in the order :func:`course_lib.data.load_yt8m` reads them
    (files sorted, records in file order, no shuffling): the same videos on every call. Only the
    batches needed are requested from the pipeline (``ceil(videos / batch_size)``), and each batch
    is copied into arrays allocated once, so memory stays at the size of the result.

    Args:
        split_or_pattern: ``"train"``, ``"validate"`` or ``"test"`` (shards in
            :func:`course_lib.settings.data_dir`), or a glob of TFRecord shards.
        videos: positive number of videos to read. Fewer come back when the shards hold fewer.
        batch_size: videos per batch read from the pipeline (default 500).
        num_classes: width of ``Y`` (default 3,862).

    Returns:
        ``(X, Y)``: float32 arrays of shapes ``(N, 1152)`` and ``(N, num_classes)``,
        ``N = min(videos, videos in the shards)``.

    Raises:
        ValueError: ``videos`` or ``batch_size`` is not a positive integer.
        ShardError: no shard matches, or one is corrupt (from ``load_yt8m``).

    Example:

    >>> X, Y = load_arrays("train", videos=100)
    >>> X.shape, Y.shape, X.dtype.name
    ((100, 1152), (100, 3862), 'float32')
    """
    for name, value in (("videos", videos), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer. Received: {name}={value!r}")
    batch_size = min(int(batch_size), int(videos))
    dataset = load_yt8m(_pattern(split_or_pattern), batch_size=batch_size, num_classes=num_classes)
    X = np.empty((videos, spec.RGB_SIZE + spec.AUDIO_SIZE), np.float32)
    Y = np.empty((videos, num_classes), np.float32)
    filled = 0
    for features, labels in dataset.take(math.ceil(videos / batch_size)):
        rows = min(len(labels), videos - filled)
        X[filled:filled + rows, :spec.RGB_SIZE] = features["mean_rgb"][:rows]
        X[filled:filled + rows, spec.RGB_SIZE:] = features["mean_audio"][:rows]
        Y[filled:filled + rows] = labels[:rows]
        filled += rows
    return X[:filled], Y[:filled]
