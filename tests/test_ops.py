"""Tests for course_lib.ops: the proximal steps against the NumPy versions, gradients at zero rows,
mixed_float16, jit_compile=True."""

import doctest

import keras
import numpy as np
import pytest
import tensorflow as tf

from course_lib import ops, sparsity

rng = np.random.default_rng(0)
KERNEL = np.concatenate([rng.standard_normal((6, 4)), 0.1 * rng.standard_normal((6, 4)), np.zeros((2, 4))])


@pytest.mark.parametrize("t", [0.0, 0.3, 1.0, 5.0])
def test_soft_threshold_matches_numpy(t):
    np.testing.assert_allclose(ops.soft_threshold(KERNEL.astype("float32"), t), sparsity.soft_threshold(KERNEL, t),
                               atol=1e-6)


@pytest.mark.parametrize("t", [0.0, 0.3, 1.0, 5.0])
def test_block_soft_threshold_matches_numpy(t):
    result = keras.ops.convert_to_numpy(ops.block_soft_threshold(KERNEL.astype("float32"), t))
    np.testing.assert_allclose(result, sparsity.block_soft_threshold(KERNEL, t), atol=1e-6)
    assert np.all(np.isfinite(result))  # the zero rows at t = 0 too


def test_block_soft_threshold_of_a_higher_rank_kernel_groups_by_the_first_axis():
    kernel = rng.standard_normal((5, 3, 2)).astype("float32")
    flat = sparsity.block_soft_threshold(kernel.reshape(5, -1), 2.0).reshape(kernel.shape)
    np.testing.assert_allclose(ops.block_soft_threshold(kernel, 2.0), flat, atol=1e-6)
    np.testing.assert_allclose(ops.row_norms(kernel), np.linalg.norm(kernel.reshape(5, -1), axis=1), rtol=1e-6)


def test_row_norms_gradient_is_finite_at_a_zero_row():
    variable = tf.Variable(np.array([[3.0, 4.0], [0.0, 0.0]], np.float32))
    with tf.GradientTape() as tape:
        total = keras.ops.sum(ops.row_norms(variable))
    np.testing.assert_allclose(tape.gradient(total, variable), [[0.6, 0.8], [0.0, 0.0]], atol=1e-7)


@pytest.mark.parametrize("function", [ops.soft_threshold, ops.block_soft_threshold])
def test_under_mixed_float16_dtype_is_kept_and_values_are_finite(function):
    big = (300 * KERNEL).astype("float16")  # squared row sums overflow float16 (max 65,504)
    result = function(big, 30.0)
    assert keras.backend.standardize_dtype(result.dtype) == "float16"
    assert np.all(np.isfinite(keras.ops.convert_to_numpy(result)))
    expected = getattr(sparsity, function.__name__)(big.astype(np.float64), 30.0)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(result).astype(np.float64), expected, rtol=2e-3, atol=0.1)


@pytest.mark.parametrize("function", [ops.soft_threshold, ops.block_soft_threshold, ops.row_norms])
def test_jit_compile_gives_the_same_values(function):
    x = KERNEL.astype("float32")
    args = (x,) if function is ops.row_norms else (x, tf.constant(0.7))
    eager = function(*args)
    compiled = tf.function(function, jit_compile=True)(*args)
    np.testing.assert_allclose(compiled, eager, rtol=1e-6, atol=1e-7)


def test_bad_input():
    with pytest.raises(ValueError, match="Received: threshold"):
        ops.soft_threshold(KERNEL.astype("float32"), -1.0)
    with pytest.raises(ValueError, match="Received: x.dtype"):
        ops.block_soft_threshold(np.ones((2, 2), np.int32), 1.0)
    with pytest.raises(ValueError, match="Received: x.shape"):
        ops.row_norms(np.float32(1.0))


def test_docstring_examples():
    result = doctest.testmod(ops, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
