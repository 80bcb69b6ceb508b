"""Keras callbacks the course's training uses.

- :class:`EpochCheckpoint` (notebook 02, ``python -m course_lib train``): the model and its
  optimizer after every epoch, written atomically, the newest few kept.

A callback here knows Keras and the file system, nothing of the run folder's other files
(:mod:`course_lib.project.runs` places the checkpoints in ``runs/NAME/checkpoints/``).
"""

import math
import os
import re
from pathlib import Path

import keras

__all__ = ["EpochCheckpoint"]


class EpochCheckpoint(keras.callbacks.Callback):
    """Save the model (with its optimizer) after every epoch, atomically; keep the newest ``keep``.

    After epoch ``e`` (1-based) the model is saved to ``folder/epoch_{e:04d}.keras`` through a
    temporary ``.epoch_{e:04d}.partial.keras`` and ``os.replace``, so a crash never leaves a
    half-written checkpoint under a real name; older checkpoints beyond the newest ``keep`` are
    deleted. An epoch whose loss is not finite is not saved (``TerminateOnNaN`` then stops the
    run, and resuming starts from the last good checkpoint). ``keras.callbacks.ModelCheckpoint``
    writes in place and keeps every file, hence this class.

    Args:
        folder: where the checkpoints go (created on the first save).
        keep: how many of the newest checkpoints to keep (default 3).

    Example:

    >>> import tempfile
    >>> import numpy as np
    >>> folder = Path(tempfile.mkdtemp())
    >>> inputs = keras.Input((2,))
    >>> model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> _ = model.fit(np.ones((4, 2)), np.ones((4, 1)), epochs=3, verbose=0,
    ...               callbacks=[EpochCheckpoint(folder, keep=2)])
    >>> [path.name for _, path in EpochCheckpoint.saved(folder)]
    ['epoch_0002.keras', 'epoch_0003.keras']
    """

    _NAME = re.compile(r"^epoch_(\d+)\.keras$")

    def __init__(self, folder, keep=3):
        super().__init__()
        if int(keep) != keep or keep < 1:
            raise ValueError(f"keep must be a positive integer. Received: keep={keep!r}")
        self.folder = Path(folder)
        self.keep = int(keep)

    @staticmethod
    def path(folder, epoch):
        """Where the checkpoint after ``epoch`` (1-based) goes."""
        return Path(folder) / f"epoch_{epoch:04d}.keras"

    @classmethod
    def saved(cls, folder):
        """``[(epoch, path), ...]`` of the checkpoints in ``folder``, oldest first."""
        folder = Path(folder)
        if not folder.is_dir():
            return []
        found = ((cls._NAME.match(path.name), path) for path in folder.iterdir())
        return sorted((int(match.group(1)), path) for match, path in found if match)

    def on_epoch_end(self, epoch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            print(f"epoch {epoch + 1}: loss is {loss}, checkpoint not saved")
            return
        path = self.path(self.folder, epoch + 1)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.stem}.partial.keras")
        self.model.save(tmp)
        os.replace(tmp, path)
        for _, old in self.saved(self.folder)[: -self.keep]:
            old.unlink()
