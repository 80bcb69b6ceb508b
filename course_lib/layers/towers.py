"""One tower per task: a hidden layer each (batched) and a sigmoid head whose units are the task's labels.

Taught in notebook 07. The SNR paper's choice for YouTube-8M: instead of 3,862 towers, one tower
per topic vertical (25: 24 topics and ``(Unknown)``), whose output units are that vertical's
labels, one unit per label::

    h_k = act(x_k V_k + c_k)                # (h,), tower k's hidden layer; V_k of shape (u, h)
    p_k = sigmoid(h_k W_k + b_k)            # (|g_k|,), the labels of vertical k

``x_k`` is the ``k``-th row of a mixture's output (MMoE, SNR, CGC, PLE: one input per tower) or one
shared representation for every tower (shared-bottom). The hidden layers are one ``(K, u, h)``
kernel and one ``einsum``; the heads have different widths, so they are ``K`` ``Dense`` layers.
Tower ``k``'s hidden slice starts from seed ``seed + k``, its head from ``seed + K + k``.
"""

import keras
import numpy as np  # noqa: F401 (the examples use it)
from keras import ops

from course_lib.layers.experts import _seed, stacked_initializer
from course_lib.layers.heads import _groups

__all__ = ["Towers"]


@keras.saving.register_keras_serializable(package="course_lib")
class Towers(keras.layers.Layer):
    """``K`` towers, one per label group: a hidden layer each and a sigmoid head of ``|group|`` units.

    The heads compute in float32 (as :class:`~course_lib.layers.VerticalHeads`), the hidden
    layers in the layer's compute dtype.

    Args:
        groups: mapping ``{name: label ids}`` (or ``(name, ids)`` pairs), one tower per group.
        hidden_units: ``h``; 0 for heads only. Default 64.
        activation: of the hidden layers. Default ``"relu"``.
        seed: default ``None``.

    Input shape:
        ``(batch, K, u)`` (row ``k`` for tower ``k``) or ``(batch, u)`` (one input for all).

    Output shape:
        A dict ``{name: (batch, |group|)}`` in group order, float32 probabilities.

    Example:

    >>> towers = Towers({"music": [2, 0], "sports": [1]}, hidden_units=3, seed=0)
    >>> {k: tuple(v.shape) for k, v in towers(np.ones((4, 2, 5))).items()}
    {'music': (4, 2), 'sports': (4, 1)}
    """

    def __init__(self, groups, hidden_units=64, activation="relu", seed=None, **kwargs):
        super().__init__(**kwargs)
        if int(hidden_units) != hidden_units or hidden_units < 0:
            raise ValueError(f"hidden_units must be a non-negative integer. Received: hidden_units={hidden_units!r}")
        self.groups, self.hidden_units, self.seed = _groups(groups), int(hidden_units), _seed(seed)
        self.activation = keras.activations.get(activation)
        K = len(self.groups)
        self.heads = [
            keras.layers.Dense(len(ids), activation="sigmoid", dtype="float32", name=name,
                               kernel_initializer=keras.initializers.GlorotUniform(None if seed is None else seed + K + i))
            for i, (name, ids) in enumerate(self.groups.items())
        ]

    def build(self, input_shape):
        K, u = len(self.groups), input_shape[-1]
        if u is None or (len(input_shape) == 3 and input_shape[1] != K):
            raise ValueError(f"Expected (batch, u) or (batch, {K}, u) with u known. Received: input_shape={input_shape}")
        self.kernel = None
        width = u
        if self.hidden_units:
            self.kernel = self.add_weight(name="kernel", shape=(K, u, self.hidden_units),
                                          initializer=stacked_initializer("glorot_uniform", K, self.seed))
            self.bias = self.add_weight(name="bias", shape=(K, self.hidden_units), initializer="zeros")
            width = self.hidden_units
        for head in self.heads:
            head.build((None, width))

    def call(self, inputs):
        if len(inputs.shape) == 2:
            inputs = ops.repeat(ops.expand_dims(inputs, 1), len(self.groups), axis=1)
        hidden = inputs
        if self.hidden_units:
            hidden = self.activation(ops.einsum("bku,kuh->bkh", inputs, self.kernel) + self.bias)
        return {head.name: head(hidden[:, k]) for k, head in enumerate(self.heads)}

    def compute_output_shape(self, input_shape):
        return {name: (input_shape[0], len(ids)) for name, ids in self.groups.items()}

    def get_config(self):
        config = super().get_config()
        config.update({
            "groups": [[name, ids] for name, ids in self.groups.items()], "hidden_units": self.hidden_units,
            "activation": keras.activations.serialize(self.activation), "seed": self.seed,
        })
        return config
