"""Tests for course_lib.losses.SummedBinaryCrossentropy: a by-hand NumPy reference, logits, mixed
precision, serialisation."""

import doctest

import keras
import numpy as np
import pytest

from course_lib import losses
from course_lib.precision import dtype_policy
from course_lib.losses import SummedBinaryCrossentropy

rng = np.random.default_rng(0)
Y = (rng.random((16, 40)) < 0.1).astype("float32")
P = rng.uniform(0.01, 0.99, (16, 40)).astype("float32")


def by_hand(y, p):
    p = np.clip(p.astype(np.float64), 1e-7, 1 - 1e-7)
    return float(np.mean(-np.sum(y * np.log(p) + (1 - y) * np.log(1 - p), axis=1)))


def test_matches_the_numpy_sum_over_labels():
    assert float(SummedBinaryCrossentropy()(Y, P)) == pytest.approx(by_hand(Y, P), rel=1e-5)
    # the Keras mean over labels times the number of labels
    assert float(SummedBinaryCrossentropy()(Y, P)) == pytest.approx(
        40 * float(keras.losses.BinaryCrossentropy()(Y, P)), rel=1e-5)


def test_from_logits():
    logits = np.log(P / (1 - P))
    assert float(SummedBinaryCrossentropy(from_logits=True)(Y, logits)) == pytest.approx(by_hand(Y, P), rel=1e-4)


def test_under_mixed_float16():
    with dtype_policy("mixed_float16"):
        inputs = keras.Input((8,))
        outputs = keras.layers.Dense(40, activation="sigmoid", dtype="mixed_float16")(inputs)
        model = keras.Model(inputs, outputs)
        model.compile(optimizer=keras.optimizers.SGD(0.01), loss=SummedBinaryCrossentropy())
        X = rng.standard_normal((16, 8)).astype("float32")
        history = model.fit(X, Y, batch_size=8, epochs=2, verbose=0)
        assert np.all(np.isfinite(history.history["loss"]))
        half = SummedBinaryCrossentropy()(Y, P.astype("float16"))
        assert float(half) == pytest.approx(by_hand(Y, P), rel=1e-2)


def test_serialisation_round_trip(tmp_path):
    loss = SummedBinaryCrossentropy(from_logits=True)
    again = keras.losses.deserialize(keras.losses.serialize(loss))
    assert isinstance(again, SummedBinaryCrossentropy) and again.get_config() == loss.get_config()
    inputs = keras.Input((8,))
    model = keras.Model(inputs, keras.layers.Dense(40)(inputs))
    model.compile(optimizer="sgd", loss=loss)
    model.save(tmp_path / "model.keras")
    loaded = keras.models.load_model(tmp_path / "model.keras")
    assert loaded.loss.get_config() == loss.get_config()


def test_bad_argument():
    with pytest.raises(ValueError, match="Received: from_logits"):
        SummedBinaryCrossentropy(from_logits="yes")


def test_docstring_examples():
    result = doctest.testmod(losses, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
