"""OMoE, MMoE, SNR, CGC and PLE: 25 vertical towers, labels in label-id order, seeds, precision."""

import doctest

import numpy as np
import pytest

from course_lib import heads, models
from course_lib.data import load_vocabulary, spec
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


def test_docstring_examples_run():
    result = doctest.testmod(mixtures, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
