"""Tests for course_lib.experiments: evaluate on scores and on models (one output, a `labels` output),
fit_from repeats a run exactly (a dropout run with reset_seed_generators=True)."""

import doctest

import keras
import numpy as np
import pytest

from course_lib import experiments, metrics
from course_lib.experiments import evaluate, fit_from

rng = np.random.default_rng(0)
X = rng.standard_normal((40, 6)).astype("float32")
Y = (rng.random((40, 12)) < 0.2).astype("float32")


def test_evaluate_scores_matches_the_metrics():
    scores = rng.random(Y.shape)
    result = evaluate(scores, None, Y)
    assert result == {"MAP@10": pytest.approx(metrics.map_at_k(Y, scores, k=10)),
                      "GAP@20": pytest.approx(metrics.gap_at_k(Y, scores, k=20))}
    with pytest.raises(ValueError, match="Received: scores.shape"):
        evaluate(scores[:, :5], None, Y)


def test_evaluate_reads_the_output_named_labels():
    inputs = keras.Input((6,))
    labels = keras.layers.Dense(12, activation="sigmoid", name="labels")(inputs)
    other = keras.layers.Dense(3, name="vertical")(inputs)
    single = keras.Model(inputs, labels)
    expected = evaluate(single.predict(X, verbose=0), None, Y)
    assert evaluate(single, X, Y) == expected
    assert evaluate(keras.Model(inputs, {"vertical": other, "labels": labels}), X, Y) == expected
    assert evaluate(keras.Model(inputs, [other, labels]), X, Y) == expected
    with pytest.raises(ValueError, match="no output named 'labels'"):
        evaluate(keras.Model(inputs, {"a": other, "b": labels}), X, Y)


def small_model(momentum):
    inputs = keras.Input((6,))
    model = keras.Model(inputs, keras.layers.Dense(12, activation="sigmoid")(inputs))
    model.compile(optimizer=keras.optimizers.SGD(0.1, momentum=momentum), loss="binary_crossentropy")
    return model


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_fit_from_repeats_a_run_exactly(momentum):
    model = small_model(momentum)
    initial = model.get_weights()
    fit_from(model, initial, X, Y, epochs=2, batch_size=8)
    first = model.get_weights()
    fit_from(model, initial, X, Y, epochs=2, batch_size=8)
    for a, b in zip(first, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert int(model.optimizer.iterations) == 10
    assert float(model.optimizer.learning_rate) == pytest.approx(0.1)


def dropout_model():
    inputs = keras.Input((6,))
    hidden = keras.layers.Dropout(0.5, seed=3)(keras.layers.Dense(16, activation="relu")(inputs))
    model = keras.Model(inputs, keras.layers.Dense(12, activation="sigmoid")(hidden))
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy")
    return model


def same_weights(a, b):
    return all(np.array_equal(x, y) for x, y in zip(a, b))


def test_fit_from_with_reset_seed_generators_repeats_a_dropout_run_exactly():
    model = dropout_model()
    initial = model.get_weights()
    keras.utils.set_random_seed(0)
    model.fit(X, Y, epochs=2, batch_size=8, verbose=0)  # the first run, from the model as built
    first = model.get_weights()
    for _ in range(2):
        fit_from(model, initial, X, Y, epochs=2, batch_size=8, reset_seed_generators=True)
        for a, b in zip(first, model.get_weights()):
            np.testing.assert_array_equal(a, b)


def test_fit_from_carries_dropouts_random_state_on_by_default():
    # the default that notebook 07's outputs were produced with: the dropout masks go on from the last run
    model = dropout_model()
    initial = model.get_weights()
    fit_from(model, initial, X, Y, epochs=2, batch_size=8)
    first = model.get_weights()
    fit_from(model, initial, X, Y, epochs=2, batch_size=8)
    assert not same_weights(first, model.get_weights())
    fit_from(model, initial, X, Y, epochs=2, batch_size=8, reset_seed_generators=True)
    assert same_weights(first, model.get_weights())


def test_fit_from_needs_a_compiled_model():
    inputs = keras.Input((6,))
    model = keras.Model(inputs, keras.layers.Dense(12)(inputs))
    with pytest.raises(ValueError, match="compiled"):
        fit_from(model, model.get_weights(), X, Y, epochs=1, batch_size=8)


def test_docstring_examples():
    result = doctest.testmod(experiments, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_per_group_map_scores_each_group_on_its_own_videos_and_labels():
    from course_lib.metrics import ranking

    rng = np.random.default_rng(0)
    Y = (rng.random((40, 6)) < 0.3).astype(np.float32)
    Y[:, 5] = 0  # a group whose labels no video has
    scores = rng.random((40, 6))
    result = experiments.per_group_map(scores, Y, {"a": [0, 2, 4], "b": [1, 3], "none": [5]}, k=2)
    rows = Y[:, [1, 3]].any(1)
    assert result["b"] == pytest.approx(ranking.map_at_k(Y[rows][:, [1, 3]], scores[rows][:, [1, 3]], k=2))
    assert result["none"] is None and list(result) == ["a", "b", "none"]
    with pytest.raises(ValueError, match="Received: scores.shape"):
        experiments.per_group_map(scores[:3], Y, {"a": [0]})
