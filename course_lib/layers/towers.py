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

Two options for towers on a mixture of experts (measured in ``bench/towers.py``, README "Learned
sharing with 25 vertical towers"):

- ``head_bias="prior"``: each head's bias starts at its labels' log-prior odds
  (:meth:`course_lib.data.vocabulary.Vocabulary.log_prior_odds`), so every probability starts at
  the label's base rate instead of 0.5. From 0.5, the first epochs go into pushing 3,862 outputs
  down, which a small tower on a mixture does by inflating its activations and killing units:
  that kept MMoE and PLE below half the FCN's MAP@10.
- ``normalize=True``: layer normalisation (per tower, with its own scale and offset) of the tower
  input and of the hidden pre-activation, ``h_k = act(LN(LN(x_k) V_k))``. A mixture's output is
  a softmax average of ReLU experts, far smaller than the FCN's batch-normalised units, and Adam
  moves a logit in proportion to the activations beneath it. With prior biases it adds a little
  (MMoE, every seed); alone it does not help, since normalised activations cannot grow to push
  the outputs down from 0.5.
"""

import keras
import numpy as np  # noqa: F401 (the examples use it)
from keras import ops

from course_lib.layers.experts import _seed, stacked_initializer
from course_lib.layers.heads import _groups, head_bias_initializer

__all__ = ["Towers"]

EPSILON = 1e-3  # of the layer normalisations, as keras.layers.LayerNormalization's default


def _layer_norm(x, scale, offset):
    """Normalise the last axis of ``x`` (batch, K, n) to mean 0 and variance 1, then ``* scale + offset`` (K, n)."""
    mean = ops.mean(x, axis=-1, keepdims=True)
    variance = ops.mean(ops.square(x - mean), axis=-1, keepdims=True)
    return (x - mean) * ops.rsqrt(variance + EPSILON) * scale + offset


@keras.saving.register_keras_serializable(package="course_lib")
class Towers(keras.layers.Layer):
    """``K`` towers, one per label group: a hidden layer each and a sigmoid head of ``|group|`` units.

    The heads compute in float32 (as :class:`~course_lib.layers.VerticalHeads`), the hidden
    layers in the layer's compute dtype.

    Args:
        groups: mapping ``{name: label ids}`` (or ``(name, ids)`` pairs), one tower per group.
        hidden_units: ``h``; 0 for heads only. Default 64.
        activation: of the hidden layers. Default ``"relu"``.
        normalize: layer-normalise each tower's input and hidden pre-activation (the hidden layer
            then has no bias: the normalisation's offset is one). Default ``False``.
        head_bias: ``"zeros"`` (default) or ``"prior"``: every head's bias starts at its labels'
            log-prior odds (:func:`~course_lib.layers.heads.head_bias_initializer`; the group ids
            must be YouTube-8M label ids).
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

    def __init__(self, groups, hidden_units=64, activation="relu", normalize=False, head_bias="zeros", seed=None,
                 **kwargs):
        super().__init__(**kwargs)
        if int(hidden_units) != hidden_units or hidden_units < 0:
            raise ValueError(f"hidden_units must be a non-negative integer. Received: hidden_units={hidden_units!r}")
        self.groups, self.hidden_units, self.seed = _groups(groups), int(hidden_units), _seed(seed)
        self.activation = keras.activations.get(activation)
        self.normalize, self.head_bias = bool(normalize), head_bias
        K = len(self.groups)
        self.heads = [
            keras.layers.Dense(len(ids), activation="sigmoid", dtype="float32", name=name,
                               kernel_initializer=keras.initializers.GlorotUniform(None if seed is None else seed + K + i),
                               bias_initializer=head_bias_initializer(head_bias, ids))
            for i, (name, ids) in enumerate(self.groups.items())
        ]

    def build(self, input_shape):
        K, u = len(self.groups), input_shape[-1]
        if u is None or (len(input_shape) == 3 and input_shape[1] != K):
            raise ValueError(f"Expected (batch, u) or (batch, {K}, u) with u known. Received: input_shape={input_shape}")
        self.kernel = self.bias = None
        width = u
        if self.normalize:
            self.input_scale = self.add_weight(name="input_scale", shape=(K, u), initializer="ones")
            self.input_offset = self.add_weight(name="input_offset", shape=(K, u), initializer="zeros")
        if self.hidden_units:
            h = width = self.hidden_units
            self.kernel = self.add_weight(name="kernel", shape=(K, u, h),
                                          initializer=stacked_initializer("glorot_uniform", K, self.seed))
            if self.normalize:
                self.hidden_scale = self.add_weight(name="hidden_scale", shape=(K, h), initializer="ones")
                self.hidden_offset = self.add_weight(name="hidden_offset", shape=(K, h), initializer="zeros")
            else:
                self.bias = self.add_weight(name="bias", shape=(K, h), initializer="zeros")
        for head in self.heads:
            head.build((None, width))

    def call(self, inputs):
        if len(inputs.shape) == 2:
            inputs = ops.repeat(ops.expand_dims(inputs, 1), len(self.groups), axis=1)
        hidden = _layer_norm(inputs, self.input_scale, self.input_offset) if self.normalize else inputs
        if self.hidden_units:
            hidden = ops.einsum("bku,kuh->bkh", hidden, self.kernel)
            hidden = _layer_norm(hidden, self.hidden_scale, self.hidden_offset) if self.normalize else hidden + self.bias
            hidden = self.activation(hidden)
        return {head.name: head(hidden[:, k]) for k, head in enumerate(self.heads)}

    def compute_output_shape(self, input_shape):
        return {name: (input_shape[0], len(ids)) for name, ids in self.groups.items()}

    def get_config(self):
        config = super().get_config()
        config.update({
            "groups": [[name, ids] for name, ids in self.groups.items()], "hidden_units": self.hidden_units,
            "activation": keras.activations.serialize(self.activation), "normalize": self.normalize,
            "head_bias": self.head_bias, "seed": self.seed,
        })
        return config
