"""The model registry and the course demo's FCN baseline."""

import keras
import numpy as np
import pytest

from course_lib import models
from course_lib.data import spec
from course_lib.models import registry
from course_lib.precision import dtype_policy

SMALL = {"hidden_units": 16}


def features(batch=3, seed=0):
    rng = np.random.default_rng(seed)
    return {
        "mean_rgb": rng.uniform(-2, 2, (batch, spec.RGB_SIZE)).astype("float32"),
        "mean_audio": rng.uniform(-2, 2, (batch, spec.AUDIO_SIZE)).astype("float32"),
    }


def test_registry_lists_and_builds_the_baseline():
    assert "fcn" in models.available_models()
    assert models.model_arguments("fcn") == {"num_classes": 3862, "hidden_units": 1024, "dropout": 0.2, "head_bias": "zeros",
                                             "seed": 0}
    assert models.model_tasks("fcn") == {"labels": models.Task()}  # the run's --loss on labels
    assert isinstance(models.build_model("fcn", **SMALL), keras.Model)


def test_registry_errors_name_the_problem():
    with pytest.raises(ValueError, match=r"available: .*fcn.*Received: model='nope'"):
        models.build_model("nope")
    with pytest.raises(ValueError, match="Received: width"):
        models.build_model("fcn", width=3)
    with pytest.raises(ValueError, match="already registered"):
        models.register_model("fcn")(lambda: None)


def test_register_model_adds_a_name(monkeypatch):
    monkeypatch.setattr(registry, "_BUILDERS", dict(registry._BUILDERS))
    monkeypatch.setattr(registry, "_TASKS", dict(registry._TASKS))

    @models.register_model("tiny_linear")
    def tiny_linear(num_classes=3):
        rgb = keras.Input((spec.RGB_SIZE,), name="mean_rgb")
        return keras.Model({"mean_rgb": rgb}, {"labels": keras.layers.Dense(num_classes, name="labels")(rgb)})

    assert "tiny_linear" in models.available_models()
    assert tuple(models.build_model("tiny_linear", num_classes=2).output["labels"].shape) == (None, 2)


def test_fcn_shapes_names_and_dtype():
    model = models.build_model("fcn", **SMALL)
    assert sorted(t.name for t in model.inputs) == ["mean_audio", "mean_rgb"]
    probabilities = model(features(), training=False)["labels"]
    assert probabilities.shape == (3, spec.NUM_CLASSES)
    assert probabilities.dtype == "float32"
    assert model.get_layer("labels").activation is keras.activations.sigmoid
    p = np.asarray(probabilities)
    assert np.all((p > 0) & (p < 1))


def test_fcn_validates_arguments():
    with pytest.raises(ValueError, match="Received: hidden_units=0"):
        models.build_model("fcn", hidden_units=0)
    with pytest.raises(ValueError, match="Received: dropout=1"):
        models.build_model("fcn", dropout=1)


def test_fcn_seeds_each_layer_separately():
    first = models.build_model("fcn", seed=5, **SMALL)
    again = models.build_model("fcn", seed=5, **SMALL)
    other = models.build_model("fcn", seed=6, **SMALL)
    kernel = lambda m, name: np.asarray(m.get_layer(name).kernel)  # noqa: E731
    np.testing.assert_array_equal(kernel(first, "rgb_dense"), kernel(again, "rgb_dense"))
    assert not np.allclose(kernel(first, "rgb_dense"), kernel(other, "rgb_dense"))
    # One seed reused for every layer would make these rows proportional (the DeepCTR pitfall).
    audio_row, rgb_row = kernel(first, "audio_dense")[0], kernel(first, "rgb_dense")[0]
    assert abs(np.corrcoef(audio_row, rgb_row)[0, 1]) < 0.9


def test_fcn_saves_and_loads_in_safe_mode(tmp_path):
    model = models.build_model("fcn", **SMALL)
    path = tmp_path / "fcn.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(loaded(features(), training=False)["labels"], model(features(), training=False)["labels"],
                               rtol=1e-6)


def test_fcn_mixed_float16_keeps_a_float32_output():
    with dtype_policy("mixed_float16"):
        model = models.build_model("fcn", **SMALL)
    assert model.get_layer("joint_dense").compute_dtype == "float16"
    assert model.get_layer("labels").compute_dtype == "float32"
    assert model(features(), training=False)["labels"].dtype == "float32"


def test_fcn_under_jit_compile_matches_eager():
    model = models.build_model("fcn", **SMALL)
    model.compile(jit_compile=True)
    batch = features(batch=4)
    np.testing.assert_allclose(model.predict(batch, verbose=0)["labels"], model(batch, training=False)["labels"],
                               rtol=1e-4, atol=1e-6)


def test_vertical_heads_outputs_one_head_per_vertical_and_labels_in_id_order():
    from course_lib import heads
    from course_lib.data import load_vocabulary

    groups = load_vocabulary().vertical_groups()
    model = models.build_model("vertical_heads", **SMALL)
    outputs = {name: np.asarray(p) for name, p in model(features(), training=False).items()}
    assert sorted(outputs) == sorted([*groups, "labels"])
    assert outputs["labels"].shape == (3, spec.NUM_CLASSES) and outputs["labels"].dtype == "float32"
    per_vertical = {name: outputs[name] for name in groups}
    np.testing.assert_array_equal(outputs["labels"], heads.to_label_order(per_vertical, groups, num_classes=3862))


def test_vertical_heads_declares_a_weighted_task_per_vertical():
    tasks = models.model_tasks("vertical_heads", **SMALL)
    assert tasks["labels"].loss is None  # measured, not trained: the verticals' losses train it
    verticals = [t for name, t in tasks.items() if name != "labels"]
    assert len(verticals) == 25 and all(t.loss == models.RUN_LOSS for t in verticals)
    assert sum(t.weight for t in verticals) == pytest.approx(1.0)  # "size": the FCN's loss, split by vertical
    assert sorted(i for t in verticals for i in t.label_ids) == list(range(spec.NUM_CLASSES))
    uniform = models.model_tasks("vertical_heads", weighting="uniform")
    assert {t.weight for name, t in uniform.items() if name != "labels"} == {1 / 25}
    with pytest.raises(ValueError, match="Received: weighting='equal'"):
        models.build_model("vertical_heads", weighting="equal")


def test_vertical_heads_under_mixed_float16_and_seeded_heads():
    with dtype_policy("mixed_float16"):
        model = models.build_model("vertical_heads", **SMALL)
    assert model.get_layer("joint_dense").compute_dtype == "float16"
    assert all(p.dtype == "float32" for p in model(features(), training=False).values())
    kernels = [np.asarray(head.kernel).ravel() for head in model.get_layer("heads").heads]
    assert abs(np.corrcoef(kernels[0][:96], kernels[1][:96])[0, 1]) < 0.9  # each head its own seed


@pytest.mark.parametrize("name", ["fcn", "vertical_heads"])
def test_baselines_can_start_at_the_labels_priors(name):
    from course_lib.data import load_vocabulary

    odds = load_vocabulary().log_prior_odds()
    logits = {}
    for head_bias in ("zeros", "prior"):
        p = np.asarray(models.build_model(name, **SMALL, head_bias=head_bias)(features(batch=64))["labels"], "float64")
        logits[head_bias] = np.log(p / (1 - p)).mean(axis=0)
    assert np.median(np.abs(logits["prior"] - odds)) < 0.2  # log-prior odds of about -7.6 on average
    assert np.median(np.abs(logits["zeros"])) < 0.2  # the default: p = 0.5

