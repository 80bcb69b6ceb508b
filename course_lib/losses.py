"""Losses: ``keras.losses.Loss`` subclasses for multi-label video classification.

::

    SummedBinaryCrossentropy()   sum over the labels of the binary cross-entropy, mean over videos

Registered for serialisation. Taught in notebook 03b, part 5; used by the later notebooks'
experiments (:mod:`course_lib.experiments`).
"""

import keras
import numpy as np  # noqa: F401 (the examples use it)
from keras import ops

__all__ = ["SummedBinaryCrossentropy"]


@keras.saving.register_keras_serializable(package="course_lib")
class SummedBinaryCrossentropy(keras.losses.Loss):
    """Binary cross-entropy summed over the labels (one yes/no question each), averaged over videos.

    .. math:: \\ell(y, p) = -\\sum_{c=1}^{C} \\big[y_c \\log p_c + (1 - y_c) \\log(1 - p_c)\\big]

    ``keras.losses.BinaryCrossentropy`` takes the *mean* over the ``C`` labels, which divides the
    gradient by ``C`` (3,862 for YouTube-8M): with the sum each label's question weighs as much
    as it would alone, and the learning rate does not depend on the size of the vocabulary.
    Probabilities are clipped to ``[epsilon, 1 - epsilon]`` (``keras.config.epsilon()``) as in
    Keras' own loss; with ``from_logits=True`` the stable form on logits is used.

    Args:
        from_logits: ``y_pred`` are logits rather than probabilities. Default ``False``.
        reduction, name, dtype: as for every ``keras.losses.Loss`` (default: mean over videos).

    Input shape:
        ``y_true`` and ``y_pred`` of shape ``(N, C)`` (multi-hot labels, scores).

    Example:

    >>> loss = SummedBinaryCrossentropy()
    >>> y_true = np.array([[1.0, 0.0, 0.0]])
    >>> y_pred = np.array([[0.5, 0.5, 0.2]])
    >>> round(float(loss(y_true, y_pred)), 4)  # -(log 0.5 + log 0.5 + log 0.8)
    1.6094
    >>> SummedBinaryCrossentropy.from_config(loss.get_config()).from_logits
    False

    Taught in notebook 03b, part 5.
    """

    def __init__(self, from_logits=False, reduction="sum_over_batch_size", name="summed_binary_crossentropy",
                 dtype=None):
        if not isinstance(from_logits, bool):
            raise ValueError(f"from_logits must be True or False. Received: from_logits={from_logits!r}")
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.from_logits = from_logits

    def call(self, y_true, y_pred):
        y_pred = ops.convert_to_tensor(y_pred)
        y_true = ops.cast(y_true, y_pred.dtype)
        per_label = keras.losses.binary_crossentropy(
            ops.expand_dims(y_true, -1), ops.expand_dims(y_pred, -1), from_logits=self.from_logits)
        return ops.sum(per_label, axis=-1)

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits}
