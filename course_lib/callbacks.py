"""Keras callbacks the course's training uses: ``keras.callbacks.Callback`` subclasses passed to
``fit(callbacks=...)``.

::

    EpochCheckpoint(folder, keep=3)
        the model and its optimizer after every epoch, written atomically, the newest few kept
        (notebook 02, ``python -m course_lib train``; :mod:`course_lib.project.runs` places the
        checkpoints in ``runs/NAME/checkpoints/``)
    ProximalCallback(layers, strength, penalty="group")
        after every train step, kernel <- prox_{lr * strength}(kernel): exact zeros (notebook 03b),
        registered for serialisation, with a ``get_config`` round trip

A callback here knows Keras and the file system, nothing of the run folder's other files.
"""

import math
import os
import re
from pathlib import Path

import keras
import numpy as np  # noqa: F401 (the examples use it)
from keras import ops

from course_lib import ops as course_ops

__all__ = ["EpochCheckpoint", "ProximalCallback"]

PROXIMAL_STEPS = {"group": course_ops.block_soft_threshold, "l1": course_ops.soft_threshold}


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


@keras.saving.register_keras_serializable(package="course_lib")
class ProximalCallback(keras.callbacks.Callback):
    """After each training step, apply the proximal step of a sparsity penalty to kernels.

    For the objective ``loss(W) + strength * Omega(W)`` a proximal-gradient step is

    .. math:: W \\leftarrow \\operatorname{prox}_{\\eta\\lambda\\Omega}\\big(W - \\eta\\nabla\\mathrm{loss}(W)\\big)

    The optimizer takes the gradient step (on the loss *without* the penalty); this callback
    then applies the prox with threshold ``eta * strength``, where ``eta`` is the learning rate
    of the step just taken: the public ``optimizer.learning_rate`` read just before the step, so a
    ``LearningRateSchedule`` is followed. ``penalty="group"`` applies
    :func:`course_lib.ops.block_soft_threshold` to the rows (the l1/l2 norm of
    :class:`course_lib.regularizers.GroupLasso`), ``penalty="l1"``
    :func:`course_lib.ops.soft_threshold` to the entries. Rows (entries) whose norm falls below
    the threshold become exactly zero.

    This is proximal gradient descent (ISTA) for plain SGD without momentum. With momentum or
    Adam the step is no longer ``eta * gradient`` and thresholding at ``eta * strength`` is an
    approximation of the penalised problem (it still gives exact zeros, and a larger ``strength``
    still gives more of them). The number of steps taken is read from ``optimizer.iterations``:
    under mixed precision a step that ``LossScaleOptimizer`` skips (non-finite gradients) gets no
    prox either. With ``steps_per_execution=k`` Keras calls the callback once per ``k`` steps and
    it thresholds by ``k`` times the first step's ``eta * strength`` (the composition of
    soft-thresholds is one soft-threshold with the summed threshold; the ``k`` gradient steps are
    not interleaved with the prox, an approximation).

    Why a callback rather than an optimizer wrapper: it works with any optimizer and backend,
    leaves the (XLA-)compiled train step untouched, and is visible in ``fit(callbacks=...)``
    where the lesson is. Its cost: one small eager update per step.

    Args:
        layers: a layer name or ``keras.layers.Layer``, or a list of them, whose ``kernel`` is
            thresholded.
        strength: non-negative ``lambda``.
        penalty: ``"group"`` (rows, the default) or ``"l1"`` (entries).

    Example:

    >>> inputs = keras.Input((4,))
    >>> hidden = keras.layers.Dense(3, name="shared",
    ...                             kernel_initializer=keras.initializers.GlorotUniform(seed=0))(inputs)
    >>> model = keras.Model(inputs, keras.layers.Dense(1, kernel_initializer="ones")(hidden))
    >>> model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    >>> x = np.random.default_rng(0).standard_normal((64, 4)).astype("float32")
    >>> y = x[:, :1]  # only input 0 matters
    >>> _ = model.fit(x, y, batch_size=16, epochs=20, verbose=0, shuffle=False,
    ...               callbacks=[ProximalCallback("shared", strength=0.3)])
    >>> np.flatnonzero(np.linalg.norm(model.get_layer("shared").kernel.numpy(), axis=1))
    array([0])

    Taught in notebook 03b, part 5.
    """

    def __init__(self, layers, strength, penalty="group"):
        super().__init__()
        if isinstance(layers, (str, keras.layers.Layer)):
            layers = [layers]
        layers = list(layers)
        if not layers or not all(isinstance(layer, (str, keras.layers.Layer)) for layer in layers):
            raise ValueError(f"layers must be layer names or Keras layers. Received: layers={layers!r}")
        self._given = layers
        self.layer_names = [layer if isinstance(layer, str) else layer.name for layer in layers]
        try:
            value = float(strength)
        except (TypeError, ValueError):
            value = float("nan")
        if not (math.isfinite(value) and value >= 0):
            raise ValueError(f"strength must be a non-negative number. Received: strength={strength!r}")
        self.strength = value
        if penalty not in PROXIMAL_STEPS:
            raise ValueError(f"penalty must be one of {sorted(PROXIMAL_STEPS)}. Received: penalty={penalty!r}")
        self.penalty = penalty
        self._kernels = None
        self._start = None
        self._learning_rate = None

    def _resolve_kernels(self):
        kernels = []
        for given in self._given:
            layer = self.model.get_layer(given) if isinstance(given, str) else given
            if getattr(layer, "kernel", None) is None:
                raise ValueError(f"layer {layer.name!r} has no kernel to threshold. Received: layers="
                                 f"{self.layer_names!r}")
            kernels.append(layer.kernel)
        return kernels

    def _iterations(self):
        return int(ops.convert_to_numpy(self.model.optimizer.iterations))

    def step_learning_rate(self):
        """The learning rate of the step just taken (``optimizer.learning_rate`` read before it)."""
        return self._learning_rate

    def on_train_begin(self, logs=None):
        self._kernels = self._resolve_kernels()

    def on_train_batch_begin(self, batch, logs=None):
        self._start = self._iterations()
        self._learning_rate = float(ops.convert_to_numpy(self.model.optimizer.learning_rate))

    def on_train_batch_end(self, batch, logs=None):
        steps = self._iterations() - self._start
        threshold = self._learning_rate * self.strength * steps
        if threshold <= 0:
            return
        if self._kernels is None:  # called outside fit()
            self._kernels = self._resolve_kernels()
        step = PROXIMAL_STEPS[self.penalty]
        for kernel in self._kernels:
            kernel.assign(step(kernel, threshold))

    def get_config(self):
        return {"layers": list(self.layer_names), "strength": self.strength, "penalty": self.penalty}

    @classmethod
    def from_config(cls, config):
        return cls(**config)
