"""course_lib.metrics.keras: MAPAtK and GAPAtK against the NumPy functions, across batches."""

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from course_lib.metrics import GAPAtK, MAPAtK, gap_at_k, map_at_k  # noqa: E402
from course_lib.precision import dtype_policy  # noqa: E402

NUM_CLASSES = 200


def random_batch(seed, n=300, c=NUM_CLASSES):
    rng = np.random.default_rng(seed)
    truth = (rng.random((n, c)) < 0.03).astype(np.float32)
    truth[: n // 10] = 0  # some videos without labels
    scores = (rng.random((n, c)) * 0.7 + 0.3 * truth * rng.random((n, c))).astype(np.float32)
    return truth, scores


def accumulate(metric, truth, scores, batch_size=64, sample_weight=None):
    metric.reset_state()
    for start in range(0, len(truth), batch_size):
        weight = None if sample_weight is None else sample_weight[start : start + batch_size]
        metric.update_state(truth[start : start + batch_size], scores[start : start + batch_size], weight)
    return float(metric.result())


def test_names_dtype_and_defaults():
    assert MAPAtK().name == "map_at_10" and MAPAtK().k == 10
    assert GAPAtK().name == "gap_at_20" and GAPAtK().k == 20
    assert MAPAtK(k=5, name="m").name == "m"
    assert keras.backend.standardize_dtype(MAPAtK()(*random_batch(0)).dtype) == "float32"


def test_map_across_batches_equals_numpy():
    truth, scores = random_batch(1)
    for k in (1, 10, 20):
        assert accumulate(MAPAtK(k), truth, scores) == pytest.approx(map_at_k(truth, scores, k), abs=1e-6)


def test_map_is_not_the_mean_of_batch_values():
    truth, scores = random_batch(2)
    metric = MAPAtK(10)
    # Uneven batches: a mean of per-batch values would weigh the 20 videos like the 280.
    metric.update_state(truth[:280], scores[:280])
    metric.update_state(truth[280:], scores[280:])
    assert float(metric.result()) == pytest.approx(map_at_k(truth, scores, 10), abs=1e-6)


@pytest.mark.parametrize("jit_compile", [False, True])
def test_ties_follow_the_numpy_policy_in_graph_and_xla(jit_compile):
    truth, scores = random_batch(10)
    tied = (np.round(scores * 4) / 4).astype(np.float32)  # a handful of distinct values: ties everywhere
    metric = MAPAtK(10)
    tf = pytest.importorskip("tensorflow")
    update = tf.function(metric.update_state, jit_compile=jit_compile)
    for start in range(0, len(truth), 100):
        update(truth[start : start + 100], tied[start : start + 100])
    assert float(metric.result()) == pytest.approx(map_at_k(truth, tied, 10), abs=1e-6)


def test_gap_on_bin_aligned_scores_equals_numpy_exactly():
    truth, scores = random_batch(3)
    num_bins = 1000
    aligned = ((np.floor(scores * num_bins) + 0.5) / num_bins).astype(np.float32)  # one score per bin
    value = accumulate(GAPAtK(20, num_bins=num_bins), truth, aligned)
    assert value == pytest.approx(gap_at_k(truth, aligned, 20), abs=1e-6)


def test_gap_on_continuous_scores_is_within_the_binning_error():
    truth, scores = random_batch(4, n=1000)
    assert accumulate(GAPAtK(20), truth, scores) == pytest.approx(gap_at_k(truth, scores, 20), abs=1e-3)


def test_gap_from_logits():
    truth, scores = random_batch(5)
    logits = np.log(scores + 1e-3) - np.log1p(-scores + 1e-3)
    probabilities = 1 / (1 + np.exp(-logits))
    expected = accumulate(GAPAtK(20), truth, probabilities.astype(np.float32))
    assert accumulate(GAPAtK(20, from_logits=True), truth, logits.astype(np.float32)) == pytest.approx(expected, abs=1e-6)


def test_sample_weight_zero_drops_videos():
    truth, scores = random_batch(6)
    weight = np.ones(len(truth), np.float32)
    weight[::3] = 0
    keep = weight > 0
    assert accumulate(MAPAtK(10), truth, scores, sample_weight=weight) == pytest.approx(
        map_at_k(truth[keep], scores[keep], 10), abs=1e-6
    )
    assert accumulate(GAPAtK(20, num_bins=100_000), truth, scores, sample_weight=weight) == pytest.approx(
        gap_at_k(truth[keep], scores[keep], 20), abs=1e-3
    )


def test_reset_state_and_empty_result():
    truth, scores = random_batch(7)
    for metric in (MAPAtK(), GAPAtK()):
        metric.update_state(truth, scores)
        metric.reset_state()
        assert float(metric.result()) == 0.0


def test_get_config_round_trip():
    for metric in (MAPAtK(k=7, name="map7"), GAPAtK(k=15, num_bins=500, from_logits=True)):
        restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(metric))
        assert type(restored) is type(metric)
        assert restored.get_config() == metric.get_config()


def small_model(num_classes=NUM_CLASSES):
    inputs = keras.Input((16,))
    outputs = keras.layers.Dense(num_classes, activation="sigmoid", dtype="float32")(
        keras.layers.Dense(32, activation="relu")(inputs)
    )
    return keras.Model(inputs, outputs)


@pytest.mark.parametrize("jit_compile", [False, True])
def test_evaluate_in_a_compiled_model_equals_numpy(jit_compile):
    keras.utils.set_random_seed(0)
    truth, _ = random_batch(8)
    features = np.random.default_rng(8).normal(size=(len(truth), 16)).astype(np.float32)
    model = small_model()
    model.compile("adam", "binary_crossentropy", metrics=[MAPAtK(10), GAPAtK(20)], jit_compile=jit_compile)
    model.fit(features, truth, batch_size=64, epochs=1, verbose=0)
    logs = model.evaluate(features, truth, batch_size=64, verbose=0, return_dict=True)
    predictions = model.predict(features, batch_size=64, verbose=0)
    assert logs["map_at_10"] == pytest.approx(map_at_k(truth, predictions, 10), abs=1e-5)
    assert logs["gap_at_20"] == pytest.approx(gap_at_k(truth, predictions, 20), abs=1e-3)


def test_mixed_float16_model_and_save_load(tmp_path):
    keras.utils.set_random_seed(0)
    truth, _ = random_batch(9, n=128)
    features = np.random.default_rng(9).normal(size=(len(truth), 16)).astype(np.float32)
    with dtype_policy("mixed_float16"):
        model = small_model()
        model.compile("adam", "binary_crossentropy", metrics=[MAPAtK(10), GAPAtK(20)])
        model.fit(features, truth, batch_size=32, epochs=1, verbose=0)
        logs = model.evaluate(features, truth, batch_size=32, verbose=0, return_dict=True)
        predictions = model.predict(features, batch_size=32, verbose=0)
        assert logs["map_at_10"] == pytest.approx(map_at_k(truth, predictions, 10), abs=1e-5)
        # float16 inputs to the metric directly
        metric = MAPAtK(10)
        metric.update_state(truth.astype(np.float16), predictions.astype(np.float16))
        assert keras.backend.standardize_dtype(metric.result().dtype) == "float32"
        path = tmp_path / "model.keras"
        model.save(path)
        restored = keras.saving.load_model(path)  # the metrics are found by their registered names
        restored_logs = restored.evaluate(features, truth, batch_size=32, verbose=0, return_dict=True)
    assert restored_logs["map_at_10"] == pytest.approx(logs["map_at_10"], abs=1e-6)
    assert restored_logs["gap_at_20"] == pytest.approx(logs["gap_at_20"], abs=1e-6)


def test_callbacks_know_higher_is_better():
    keras.utils.set_random_seed(0)
    truth, _ = random_batch(11, n=64)
    features = np.random.default_rng(11).normal(size=(len(truth), 16)).astype(np.float32)
    model = small_model()
    model.compile("adam", "binary_crossentropy", metrics=[MAPAtK(10), GAPAtK(20)])
    stops = [keras.callbacks.EarlyStopping(monitor=f"val_{name}", patience=1) for name in ("map_at_10", "gap_at_20")]
    model.fit(features, truth, validation_data=(features, truth), epochs=1, verbose=0, callbacks=stops)
    assert all(stop.monitor_op is keras.ops.greater for stop in stops)


@pytest.mark.parametrize("make", [lambda: MAPAtK(k=0), lambda: GAPAtK(k=-2), lambda: GAPAtK(num_bins=0)])
def test_bad_arguments_raise_value_error(make):
    with pytest.raises(ValueError, match="k|num_bins"):
        make()
