"""The shared-bottom model: towers and heads per vertical, the FCN's parameter count, seeds, dtypes."""

import doctest

import numpy as np
import pytest

from course_lib import heads, models
from course_lib.data import load_vocabulary
from course_lib.models import shared_bottom as module
from course_lib.precision import dtype_policy
from tests.models.test_models import features


def test_outputs_one_head_per_vertical_and_labels_in_id_order():
    groups = load_vocabulary().vertical_groups()
    model = models.build_model("shared_bottom", hidden_units=16, tower_units=4)
    outputs = {name: np.asarray(p) for name, p in model(features(), training=False).items()}
    assert sorted(outputs) == sorted([*groups, "labels"])
    per_vertical = {name: outputs[name] for name in groups}
    np.testing.assert_array_equal(outputs["labels"], heads.to_label_order(per_vertical, groups, num_classes=3862))
    assert model.get_layer("tower_games").units == 4 and model.get_layer("head_games").units == len(groups["games"])


@pytest.mark.parametrize("hidden_units", [16, 64, 1024])
def test_default_towers_give_the_fcns_parameter_count(hidden_units):
    fcn = models.build_model("fcn", hidden_units=hidden_units).count_params()
    bottom = models.build_model("shared_bottom", hidden_units=hidden_units).count_params()
    per_tower_unit = 25 * (hidden_units + 1) + 3862  # parameters one more unit in every tower adds
    assert abs(bottom - fcn) <= per_tower_unit / 2, (bottom, fcn)  # equal up to rounding t


def test_declares_the_vertical_tasks():
    tasks = models.model_tasks("shared_bottom", tower_units=4, weighting="uniform")
    assert tasks == models.model_tasks("vertical_heads", weighting="uniform")
    with pytest.raises(ValueError, match="Received: weighting='equal'"):
        models.build_model("shared_bottom", weighting="equal")
    with pytest.raises(ValueError, match="Received: tower_units=0"):
        models.build_model("shared_bottom", tower_units=0)


def test_mixed_float16_and_a_seed_per_tower():
    with dtype_policy("mixed_float16"):
        model = models.build_model("shared_bottom", hidden_units=16, tower_units=8)
    assert model.get_layer("tower_games").compute_dtype == "float16"
    assert all(p.dtype == "float32" for p in model(features(), training=False).values())
    towers = [np.asarray(model.get_layer(f"tower_{name}").kernel).ravel() for name in ("games", "arts_entertainment")]
    assert abs(np.corrcoef(towers[0], towers[1])[0, 1]) < 0.5
    again = models.build_model("shared_bottom", hidden_units=16, tower_units=8)
    np.testing.assert_array_equal(again.get_layer("tower_games").kernel, model.get_layer("tower_games").kernel)


def test_docstring_examples():
    assert doctest.testmod(module).failed == 0
