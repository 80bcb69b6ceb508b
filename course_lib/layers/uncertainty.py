"""Uncertainty weighting (Kendall, Gal & Cipolla 2018): task losses weighted by a learned noise level.

Taught in notebook 06. Each task ``i`` has a homoscedastic (input-independent) noise level
``sigma_i``; maximising the likelihood of all tasks at once gives the weighted sum below, in which
a noisy task (large ``sigma_i``) weighs less and ``log sigma_i`` stops ``sigma_i`` from growing
without bound. The layer learns ``s_i = log sigma_i^2`` (unconstrained, no division by zero)::

    regression (Gaussian likelihood):          1/(2 sigma^2) L + log sigma   = 1/2 exp(-s) L + s/2
    classification (softmax(f / sigma^2)):     1/sigma^2 L + log sigma       =     exp(-s) L + s/2
    regularizer="positive" (Liebel & Koerner 2018): log sigma -> log(1 + sigma^2) = softplus(s) >= 0

With ``L`` fixed, the regression term is smallest at ``sigma^2 = L`` (classification:
``sigma^2 = 2 L``), where it equals ``1/2 + 1/2 log L``: below ``L = 1/e`` the total is negative.
"""

import keras
import numpy as np  # noqa: F401 (the example uses it)
from keras import ops

__all__ = ["KINDS", "REGULARIZERS", "UncertaintyWeighting"]

KINDS = {"regression": 0.5, "classification": 1.0}  # the factor c of c exp(-s) L
REGULARIZERS = ("log", "positive")


@keras.saving.register_keras_serializable(package="course_lib")
class UncertaintyWeighting(keras.layers.Layer):
    """The multi-task loss of Kendall et al. (2018), with one learned log-variance per task.

    .. math:: \\mathcal{L} = \\sum_i c_i e^{-s_i} L_i + r(s_i), \\qquad s_i = \\log\\sigma_i^2

    with ``c_i = 1/2`` for a regression task (from ``-log N(y; f, sigma^2)``), ``c_i = 1`` for a
    classification task (from ``-log softmax(f / sigma^2)``, with the paper's approximation
    ``sum_c' exp(f_c' / sigma^2) ~ sigma^-1 (sum_c' exp f_c')^(1 / sigma^2)``), and
    ``r(s) = s / 2 = log sigma`` (default) or ``r(s) = log(1 + e^s) = log(1 + sigma^2)``
    (``regularizer="positive"``, Liebel & Koerner 2018: never negative).

    The input holds the task losses ``L_i`` (per example, or already averaged over a batch); the
    output is their weighted total. The total is linear in the ``L_i``, so the mean over a batch
    of the per-example totals is the total of the batch means. The weights ``s`` (``log_variance``,
    float32) are trainable: train them with the network, with the same optimizer.

    Args:
        kinds: one of ``"regression"`` or ``"classification"`` per task, in the order of the
            input's last axis.
        regularizer: ``"log"`` (the paper's ``log sigma``, default) or ``"positive"``.
        initial_log_variance: ``s_i`` at the start, one float for all tasks or one per task.
            Default 0 (``sigma = 1``, every weight ``c_i``).
        **kwargs: base layer arguments (``name``, ``dtype``).

    Input shape:
        ``(..., T)`` task losses, ``T = len(kinds)``.

    Output shape:
        ``(...)``: the weighted total, float32 (also under ``mixed_float16``).

    Example:

    >>> layer = UncertaintyWeighting(["regression", "classification"], initial_log_variance=[0.0, np.log(2.0)])
    >>> round(float(layer(np.array([4.0, 3.0]))), 4)  # 4 / 2 + 0  +  3 / 2 + log(2) / 2
    3.8466
    >>> [round(s, 4) for s in layer.sigma().tolist()]
    [1.0, 1.4142]

    Taught in notebook 06.
    """

    def __init__(self, kinds, regularizer="log", initial_log_variance=0.0, **kwargs):
        super().__init__(**kwargs)
        kinds = [kinds] if isinstance(kinds, str) else list(kinds)
        if not kinds or any(kind not in KINDS for kind in kinds):
            raise ValueError(f"kinds must be a non-empty list of {' or '.join(KINDS)}. Received: kinds={kinds!r}")
        if regularizer not in REGULARIZERS:
            raise ValueError(f"regularizer must be one of {', '.join(REGULARIZERS)}. Received: regularizer={regularizer!r}")
        initial = np.broadcast_to(np.asarray(initial_log_variance, "float64"), (len(kinds),))
        if not np.all(np.isfinite(initial)):
            raise ValueError(f"initial_log_variance must be finite. Received: initial_log_variance={initial_log_variance!r}")
        self.kinds, self.regularizer = kinds, regularizer
        self.initial_log_variance = [float(s) for s in initial]

    def build(self, input_shape):
        if input_shape[-1] is not None and input_shape[-1] != len(self.kinds):
            raise ValueError(f"the last axis must hold {len(self.kinds)} task losses. Received: input_shape={input_shape}")
        self.log_variance = self.add_weight(
            name="log_variance", shape=(len(self.kinds),), dtype="float32",
            initializer=keras.initializers.Constant(self.initial_log_variance))

    def call(self, task_losses):
        losses = ops.cast(task_losses, "float32")
        s = ops.cast(self.log_variance, "float32")
        factors = ops.convert_to_tensor([KINDS[kind] for kind in self.kinds], "float32")
        penalty = 0.5 * s if self.regularizer == "log" else ops.softplus(s)
        return ops.sum(factors * ops.exp(-s) * losses + penalty, axis=-1)

    def compute_output_spec(self, task_losses):
        return keras.KerasTensor(task_losses.shape[:-1], dtype="float32")

    def weights_of_losses(self):
        """The current weights ``c_i exp(-s_i)`` of the task losses, NumPy ``(T,)``."""
        factors = np.array([KINDS[kind] for kind in self.kinds])
        return factors * np.exp(-ops.convert_to_numpy(self.log_variance).astype("float64"))

    def sigma(self):
        """The current ``sigma_i = exp(s_i / 2)``, NumPy ``(T,)``."""
        return np.exp(ops.convert_to_numpy(self.log_variance).astype("float64") / 2)

    def get_config(self):
        return {**super().get_config(), "kinds": list(self.kinds), "regularizer": self.regularizer,
                "initial_log_variance": list(self.initial_log_variance)}
