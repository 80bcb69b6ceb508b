"""A tiny regression and a two-layer model, shared by the regulariser and callback tests."""

import keras
import numpy as np


def tiny_regression(seed=0, n=64, d=8, units=4):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)).astype(np.float32)
    y = (X[:, :2] @ rng.standard_normal((2, 1))).astype(np.float32)
    keras.utils.set_random_seed(seed)
    return X, y


def small_model(d=8, units=4, regularizer=None, dtype=None):
    inputs = keras.Input((d,))
    hidden = keras.layers.Dense(units, kernel_regularizer=regularizer, name="shared", dtype=dtype)(inputs)
    outputs = keras.layers.Dense(1, name="head", dtype="float32")(hidden)
    return keras.Model(inputs, outputs)
