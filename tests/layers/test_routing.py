"""SubNetworkRouting (SNR): the layer check, hard-concrete gates, the L0 penalty, NumPy references."""

import doctest
import math

import keras
import numpy as np
import pytest

from course_lib.layers import SubNetworkRouting
from course_lib.layers import routing as routing_module
from tests.layers.check import check_layer


def inputs(batch=6, width=5, seed=0):
    return np.random.default_rng(seed).normal(size=(batch, width)).astype("float32")


def sub_networks(layer):
    kernels = [layer.experts.kernel[i] for i in range(layer.experts.num_experts)]
    if layer.transforms is not None:
        kernels += [layer.transforms[i] for i in range(layer.transforms.shape[0])]
    return kernels


def expert_outputs(layer, x):
    return np.maximum(np.einsum("bd,idu->biu", x, np.asarray(layer.experts.kernel)) + np.asarray(layer.experts.bias), 0)


@pytest.mark.parametrize("mode", ["trans", "aver"])
def test_snr_passes_the_layer_check(mode):
    check_layer(lambda: SubNetworkRouting(2, 3, 4, mode=mode, seed=7), inputs(), sub_weights=sub_networks)


def test_snr_trans_and_aver_match_numpy_with_closed_connections():
    for mode in ("trans", "aver"):
        layer = SubNetworkRouting(2, 3, 4, mode=mode, seed=0)
        layer(inputs())
        z = np.array([[1, 0, 1], [0, 1, 0]], dtype="float32")
        layer.log_alpha.assign(np.where(z > 0, 3.0, -3.0))
        u = expert_outputs(layer, inputs())
        if mode == "aver":
            expected = np.einsum("ij,bju->biu", z, u)  # v_i = sum_j z_ij u_j
        else:
            w = np.asarray(layer.transforms).reshape(2, 3, 4, 4)
            expected = np.stack([sum(z[i, j] * u[:, j] @ w[i, j] for j in range(3)) for i in range(2)], axis=1)
        np.testing.assert_allclose(layer(inputs()), expected, rtol=1e-5, atol=1e-5)
        np.testing.assert_array_equal(layer.routing(), z)


def test_hard_concrete_samples_hit_exact_zero_and_one_with_the_stretch():
    log_alpha = keras.ops.zeros((20000,))
    noise = np.random.default_rng(0).uniform(1e-6, 1 - 1e-6, 20000).astype("float32")
    z = np.asarray(routing_module.hard_concrete(log_alpha, noise))
    # P(z = 0) = P(s < 1/12) with s = sigmoid(logit(u) / (2/3)): logit(u) < (2/3) logit(1/12)
    p0 = 1 / (1 + math.exp(-(2 / 3) * math.log((1 / 12) / (11 / 12))))
    assert abs((z == 0).mean() - p0) < 0.01 and abs((z == 1).mean() - p0) < 0.01
    assert np.all((z >= 0) & (z <= 1))


def test_l0_penalty_is_the_probability_that_a_gate_is_open():
    log_alpha = np.array([-2.0, 0.0, 3.0], dtype="float32")
    noise = np.random.default_rng(1).uniform(1e-6, 1 - 1e-6, (50000, 3)).astype("float32")
    z = np.asarray(routing_module.hard_concrete(keras.ops.convert_to_tensor(log_alpha), noise))
    want = float(routing_module.l0_penalty(keras.ops.convert_to_tensor(log_alpha)))
    assert abs((z > 0).mean(axis=0).sum() - want) < 0.02


def test_training_adds_the_l0_loss_and_samples_the_gates():
    layer = SubNetworkRouting(2, 3, 4, l0_weight=0.1, seed=0)
    x = keras.Input((5,))
    model = keras.Model(x, layer(x))
    model(inputs(), training=True)
    assert len(model.losses) == 1
    np.testing.assert_allclose(float(model.losses[0]), 0.1 * float(layer.l0()), rtol=1e-5)
    model(inputs(), training=False)
    assert len(model.losses) == 0


@pytest.mark.parametrize(
    "make, text",
    [
        (lambda: SubNetworkRouting(2, 3, 4, mode="avg"), "mode"),
        (lambda: SubNetworkRouting(2, 3, 4, stretch=(0.0, 1.1)), "stretch"),
        (lambda: SubNetworkRouting(2, 3, 4, mode="aver", output_units=8), "output_units"),
    ],
)
def test_bad_arguments_name_the_problem(make, text):
    with pytest.raises(ValueError, match=text):
        make()


def test_docstring_examples_run():
    result = doctest.testmod(routing_module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
