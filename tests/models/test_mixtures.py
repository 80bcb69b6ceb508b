"""OMoE, MMoE, SNR, CGC and PLE: 25 vertical towers, labels in label-id order, seeds, precision."""

import doctest

import keras
import numpy as np
import pytest

from course_lib import heads, models
from course_lib.data import load_vocabulary, spec
from course_lib.layers import towers as towers_module
from course_lib.models import mixtures
from course_lib.precision import dtype_policy
from tests.models.test_models import features

TINY = {
    "omoe": {"num_experts": 2, "expert_units": 8, "tower_units": 4},
    "mmoe": {"num_experts": 2, "expert_units": 8, "tower_units": 4},
    "snr": {"num_experts": 2, "expert_units": 8, "output_units": 4, "tower_units": 4},
    "cgc": {"task_experts": 1, "shared_experts": 2, "expert_units": 8, "tower_units": 4},
    "ple": {"task_experts": 1, "shared_experts": 2, "expert_units": 8, "tower_units": 4},
}


@pytest.mark.parametrize("name", sorted(TINY))
def test_one_tower_per_vertical_and_labels_in_label_id_order(name):
    groups = load_vocabulary().vertical_groups()
    model = models.build_model(name, **TINY[name])
    outputs = {key: np.asarray(p) for key, p in model(features(), training=False).items()}
    assert sorted(outputs) == sorted([*groups, "labels"])
    assert all(outputs[g].shape == (3, len(ids)) for g, ids in groups.items())
    assert outputs["labels"].shape == (3, spec.NUM_CLASSES) and outputs["labels"].dtype == "float32"
    per_vertical = {g: outputs[g] for g in groups}
    np.testing.assert_array_equal(outputs["labels"], heads.to_label_order(per_vertical, groups, num_classes=3862))
    tasks = models.model_tasks(name, **TINY[name])
    assert tasks["labels"].loss is None and len(tasks) == 26


@pytest.mark.parametrize("name", sorted(TINY))
def test_mixed_float16_keeps_float32_outputs(name):
    with dtype_policy("mixed_float16"):
        model = models.build_model(name, **TINY[name])
    assert model.get_layer("mixture").compute_dtype == "float16"
    assert all(p.dtype == "float32" for p in model(features(), training=False).values())


def test_towers_and_experts_start_different_and_one_seed_reproduces():
    model, again = models.build_model("mmoe", **TINY["mmoe"]), models.build_model("mmoe", **TINY["mmoe"])
    towers = model.get_layer("towers")
    kernels = [np.asarray(towers.kernel[k]).ravel() for k in range(3)]
    assert abs(np.corrcoef(kernels[0], kernels[1])[0, 1]) < 0.9
    experts = np.asarray(model.get_layer("mixture").experts.kernel)
    assert abs(np.corrcoef(experts[0].ravel(), experts[1].ravel())[0, 1]) < 0.9
    np.testing.assert_array_equal(experts, np.asarray(again.get_layer("mixture").experts.kernel))


def test_omoe_towers_read_one_mixture_and_mmoe_towers_do_not():
    x = features()
    for name, same in (("omoe", True), ("mmoe", False)):
        model = models.build_model(name, **TINY[name])
        mixed = np.asarray(model.get_layer("mixture")(np.concatenate([x["mean_rgb"], x["mean_audio"]], axis=1)))
        assert np.allclose(mixed[:, 0], mixed[:, 1]) == same


def start(name, **options):
    """The tiny model's (16 units per tower) starting label logits and tower hidden units on 64 videos."""
    model = models.build_model(name, **{**TINY[name], "tower_units": 16, **options})
    x = features(batch=64)
    p = np.asarray(model(x, training=False)["labels"], dtype="float64")
    towers = model.get_layer("towers")
    hidden = keras.Model(model.inputs, model.get_layer("mixture").output)(x)
    z = towers_module._layer_norm(hidden, towers.input_scale, towers.input_offset) if towers.normalize else hidden
    z = keras.ops.einsum("bku,kuh->bkh", z, towers.kernel)
    z = towers_module._layer_norm(z, towers.hidden_scale, towers.hidden_offset) if towers.normalize else z + towers.bias
    return np.log(p / (1 - p)), np.asarray(keras.ops.relu(z))


@pytest.mark.parametrize("name", sorted(TINY))
def test_models_start_at_the_labels_priors_with_almost_no_dead_tower_unit(name):
    logits, hidden = start(name)
    gap = np.abs(logits.mean(axis=0) - load_vocabulary().log_prior_odds())
    assert np.median(gap) < 0.2 and gap.max() < 2  # logits near log-prior odds of about -7.6 on average
    dead = np.mean(hidden.max(axis=0) <= 0)  # units of the 25 towers active for no video
    plain_logits, plain_hidden = start(name, tower_normalize=False, head_bias="zeros")
    assert np.median(np.abs(plain_logits.mean(axis=0))) < 1  # the plain towers start near p = 0.5
    # normalised: at most 4 of the 400 units (PLE's second level varies least from video to video)
    assert dead <= 0.01
    if name == "ple":
        assert np.mean(plain_hidden.max(axis=0) <= 0) > 0.05  # the plain towers: 1 unit in 8 (0.1225)


def test_docstring_examples_run():
    result = doctest.testmod(mixtures, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
