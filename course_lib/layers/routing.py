"""Sub-network routing (SNR): binary connections between sub-networks, learned as hard-concrete gates.

Taught in notebook 07. Ma et al., *SNR: Sub-Network Routing for Flexible Parameter Sharing in
Multi-Task Learning* (AAAI 2019). The lower level has ``J`` sub-networks with outputs ``u_j``; the
higher level (here: one tower per task) reads ``v_i``::

    SNR-Trans:  v_i = sum_j z_ij W_ij u_j        # W_ij: a (u, u') transformation per connection
    SNR-Aver:   v_i = sum_j z_ij u_j             # W_ij = I: more of the budget left to the experts

with binary coding variables ``z_ij in {0, 1}``. They are learned as in Louizos, Welling and
Kingma, *Learning Sparse Neural Networks through L0 Regularization* (ICLR 2018): a hard-concrete
variable per connection with a trainable ``log alpha_ij``, temperature ``beta = 2/3`` and stretch
``(gamma, zeta) = (-0.1, 1.1)``::

    s     = sigmoid((log u - log(1 - u) + log alpha) / beta),   u ~ U(0, 1)   (training)
    z     = min(1, max(0, s (zeta - gamma) + gamma))
    L0    = sum_ij sigmoid(log alpha_ij - beta log(-gamma / zeta))            (= sum_ij P(z_ij != 0))

The stretch puts probability mass on exactly 0 and exactly 1 while the sample stays
differentiable in ``log alpha``; the layer adds ``l0_weight * L0`` to the model's losses while
training. At test time the gates are exactly 0 or 1: Louizos's estimator
``min(1, max(0, sigmoid(log alpha) (zeta - gamma) + gamma))`` rounded at 1/2, that is
``z_ij = 1[log alpha_ij > 0]``, so the routing is a binary picture.
"""

import math

import keras
import numpy as np  # noqa: F401 (the examples use it)
from keras import ops

from course_lib.layers.experts import Experts, _positive, _seed, stacked_initializer

__all__ = ["SubNetworkRouting", "hard_concrete", "l0_penalty"]

MODES = ("trans", "aver")


def hard_concrete(log_alpha, noise=None, temperature=2 / 3, stretch=(-0.1, 1.1)):
    """The hard-concrete gate: a sample for uniform ``noise`` in (0, 1), the test-time 0/1 when ``None``."""
    gamma, zeta = stretch
    if noise is None:
        return ops.cast(log_alpha > 0, log_alpha.dtype)
    s = ops.sigmoid((ops.log(noise) - ops.log(1 - noise) + log_alpha) / temperature)
    return ops.clip(s * (zeta - gamma) + gamma, 0.0, 1.0)


def l0_penalty(log_alpha, temperature=2 / 3, stretch=(-0.1, 1.1)):
    """The expected number of open gates, ``sum sigmoid(log alpha - beta log(-gamma / zeta))``."""
    gamma, zeta = stretch
    return ops.sum(ops.sigmoid(log_alpha - temperature * math.log(-gamma / zeta)))


@keras.saving.register_keras_serializable(package="course_lib")
class SubNetworkRouting(keras.layers.Layer):
    """``J`` expert sub-networks routed to ``I`` outputs by hard-concrete gates ``z_ij`` (SNR).

    ``u = Experts(J, units)(x)``, then ``v_i = sum_j z_ij W_ij u_j`` (``mode="trans"``) or
    ``v_i = sum_j z_ij u_j`` (``mode="aver"``). Expert ``j`` starts from seed ``seed + j``, the
    transformation ``W_ij`` from ``seed + J + i J + j``; ``log alpha_ij`` starts at
    ``init_log_alpha`` plus a seeded ``N(0, 0.01^2)`` jitter (open gates, ``P(z != 0)`` about
    0.98 at the default 2).

    Args:
        num_outputs: ``I`` (the towers fed).
        num_experts: ``J``.
        units: width ``u`` of every expert.
        mode: ``"trans"`` (SNR-Trans, default) or ``"aver"`` (SNR-Aver).
        output_units: width of ``v_i`` for ``"trans"``. Default ``units`` (``"aver"``: always).
        temperature: ``beta``. Default 2/3.
        stretch: ``(gamma, zeta)``. Default ``(-0.1, 1.1)``.
        l0_weight: weight of the L0 penalty added while training. Default 1e-5.
        init_log_alpha: initial ``log alpha``. Default 2.
        activation: of the experts. Default ``"relu"``.
        seed: default ``None``.

    Input shape:
        ``(batch, d)``.

    Output shape:
        ``(batch, I, output_units)``. :meth:`routing` gives the test-time ``z`` ``(I, J)``.

    Example:

    >>> snr = SubNetworkRouting(num_outputs=2, num_experts=3, units=4, seed=0)
    >>> tuple(snr(np.ones((5, 6))).shape), np.asarray(snr.routing()).tolist()
    ((5, 2, 4), [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]])
    """

    def __init__(self, num_outputs, num_experts, units, mode="trans", output_units=None, temperature=2 / 3,
                 stretch=(-0.1, 1.1), l0_weight=1e-5, init_log_alpha=2.0, activation="relu", seed=None, **kwargs):
        super().__init__(**kwargs)
        _positive(num_outputs=num_outputs)
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}. Received: mode={mode!r}")
        gamma, zeta = (float(v) for v in stretch)
        if not (gamma < 0 and zeta > 1) or not temperature > 0 or l0_weight < 0:
            raise ValueError(f"Need gamma < 0 < 1 < zeta, temperature > 0, l0_weight >= 0. Received: "
                             f"stretch={stretch!r}, temperature={temperature!r}, l0_weight={l0_weight!r}")
        if mode == "aver" and output_units not in (None, units):
            raise ValueError(f"SNR-Aver keeps the experts' width. Received: output_units={output_units!r}")
        self.num_outputs, self.mode, self.seed = int(num_outputs), mode, _seed(seed)
        self.output_units = int(units if output_units is None else output_units)
        self.temperature, self.stretch = float(temperature), (gamma, zeta)
        self.l0_weight, self.init_log_alpha = float(l0_weight), float(init_log_alpha)
        self.experts = Experts(num_experts, units, activation=activation, seed=seed, dtype=self.dtype_policy,
                               name="experts")
        self.seed_generator = keras.random.SeedGenerator(self.seed)

    def build(self, input_shape):
        self.experts.build(input_shape)
        n_in, n_out, units = self.experts.num_experts, self.num_outputs, self.experts.units
        base = None if self.seed is None else self.seed + n_in
        jitter = keras.initializers.RandomNormal(mean=self.init_log_alpha, stddev=0.01, seed=base)
        self.log_alpha = self.add_weight(name="log_alpha", shape=(n_out, n_in), initializer=jitter, autocast=False)
        self.transforms = None
        if self.mode == "trans":
            init = stacked_initializer("glorot_uniform", n_out * n_in, None if base is None else base + 1)
            self.transforms = self.add_weight(name="transforms", shape=(n_out * n_in, units, self.output_units),
                                              initializer=init)

    def routing(self, training=False):
        """``z`` ``(I, J)``: a hard-concrete sample while training, exactly 0 or 1 otherwise."""
        if not training:
            return hard_concrete(self.log_alpha)
        noise = keras.random.uniform(ops.shape(self.log_alpha), minval=1e-6, maxval=1 - 1e-6,
                                     seed=self.seed_generator)
        return hard_concrete(self.log_alpha, noise, self.temperature, self.stretch)

    def l0(self):
        """The L0 penalty: the expected number of open connections."""
        return l0_penalty(self.log_alpha, self.temperature, self.stretch)

    def call(self, inputs, training=False):
        u = self.experts(inputs)  # (batch, J, units)
        z = ops.cast(self.routing(training), u.dtype)
        if training and self.l0_weight > 0:
            self.add_loss(self.l0_weight * self.l0())
        if self.mode == "aver":
            return ops.matmul(z, u)  # (I, J) x (batch, J, units)
        # v = [u_1 .. u_J] (z W): one (batch, J u) x (J u, I u') matmul; TensorFlow's three-operand einsum
        # "ij,bju,ijuv->biv" was most of the SNR model's step on CPU, in its gradient.
        (n_out, n_in), units, v = self.log_alpha.shape, self.experts.units, self.output_units
        w = ops.reshape(self.transforms, (n_out, n_in, units, v)) * ops.reshape(z, (n_out, n_in, 1, 1))
        wide = ops.reshape(ops.transpose(w, (1, 2, 0, 3)), (n_in * units, n_out * v))
        return ops.reshape(ops.matmul(ops.reshape(u, (-1, n_in * units)), wide), (-1, n_out, v))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.num_outputs, self.output_units)

    def get_config(self):
        config = super().get_config()
        config.update({
            "num_outputs": self.num_outputs, "num_experts": self.experts.num_experts, "units": self.experts.units,
            "mode": self.mode, "output_units": self.output_units, "temperature": self.temperature,
            "stretch": list(self.stretch), "l0_weight": self.l0_weight, "init_log_alpha": self.init_log_alpha,
            "activation": keras.activations.serialize(self.experts.activation), "seed": self.seed,
        })
        return config
