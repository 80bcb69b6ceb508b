"""The cross_stitch model: outputs, tasks, seeds, the units' start, and a run of `train --model cross_stitch`."""

import csv
import doctest

import keras
import numpy as np
import pytest

from course_lib import cli, models
from course_lib.data import load_vocabulary, spec
from course_lib.models import cross_stitch as cross_stitch_module
from tests.project.conftest import train_args

SMALL = {"hidden_units": 8, "depth": 2}


def features(batch=3, seed=0):
    rng = np.random.default_rng(seed)
    return {"mean_rgb": rng.uniform(-2, 2, (batch, spec.RGB_SIZE)).astype("float32"),
            "mean_audio": rng.uniform(-2, 2, (batch, spec.AUDIO_SIZE)).astype("float32")}


def test_outputs_cover_every_label_in_label_id_order():
    model = models.build_model("cross_stitch", verticals="games,sports", **SMALL)
    out = model(features(), training=False)
    groups = load_vocabulary().vertical_groups()
    assert sorted(out) == ["games", "labels", "rest", "sports"]
    labels = np.asarray(out["labels"])
    assert labels.shape == (3, spec.NUM_CLASSES) and labels.dtype == np.float32
    np.testing.assert_array_equal(labels[:, groups["sports"]], np.asarray(out["sports"]))
    assert np.all((labels > 0) & (labels < 1))  # rest covers the other 23 verticals


def test_without_rest_the_other_labels_score_zero():
    model = models.build_model("cross_stitch", verticals=["games", "sports"], rest=False, **SMALL)
    labels = np.asarray(model(features(), training=False)["labels"])
    others = np.setdiff1d(np.arange(spec.NUM_CLASSES), np.r_[load_vocabulary().vertical_groups()["games"],
                                                             load_vocabulary().vertical_groups()["sports"]])
    assert np.all(labels[:, others] == 0)


def test_tasks_are_weighted_by_their_share_of_the_labels():
    tasks = models.model_tasks("cross_stitch", verticals="games,sports")
    assert set(tasks) == {"games", "sports", "rest", "labels"} and tasks["labels"].loss is None
    assert sum(len(t.label_ids) for name, t in tasks.items() if name != "labels") == spec.NUM_CLASSES
    assert sum(t.weight for name, t in tasks.items() if name != "labels") == pytest.approx(1.0)


def test_units_start_convex_and_task_networks_start_apart():
    model = models.build_model("cross_stitch", verticals="games,sports,food_drink", rest=False, **SMALL)
    alpha = model.get_layer("stitch_0").mixing()
    assert alpha.shape == (3, 3, 8)
    np.testing.assert_allclose(alpha[:, :, 0], [[0.9, 0.05, 0.05], [0.05, 0.9, 0.05], [0.05, 0.05, 0.9]], rtol=1e-6)
    kernels = [np.asarray(t.kernel) for t in model.get_layer("hidden_1").towers]
    assert not np.allclose(kernels[0], kernels[1]) and not np.allclose(kernels[1], kernels[2])
    again = models.build_model("cross_stitch", verticals="games,sports,food_drink", rest=False, **SMALL)
    np.testing.assert_array_equal(kernels[0], np.asarray(again.get_layer("hidden_1").towers[0].kernel))


def test_stitch_false_is_independent_networks_and_sharing_adds_a_loss():
    independent = models.build_model("cross_stitch", stitch=False, **SMALL)
    assert not [layer for layer in independent.layers if isinstance(layer, keras.layers.Layer)
                and type(layer).__name__ == "CrossStitch"]
    soft = models.build_model("cross_stitch", stitch=False, sharing=0.01, **SMALL)
    soft(features(), training=True)
    assert len(soft.losses) == 2  # one penalty per depth


def test_bad_arguments_name_the_problem():
    with pytest.raises(ValueError, match="Received: verticals='games,nope'"):
        models.build_model("cross_stitch", verticals="games,nope")
    with pytest.raises(ValueError, match="at least two tasks"):
        models.build_model("cross_stitch", verticals="games", rest=False)
    with pytest.raises(ValueError, match="Received: depth=0"):
        models.build_model("cross_stitch", depth=0)
    with pytest.raises(ValueError, match="granularity="):
        models.build_model("cross_stitch", granularity="pixel")


def test_train_model_cross_stitch_runs_one_epoch(tiny_world, tmp_path):
    out = tmp_path / "cross_stitch"
    args = train_args(tiny_world, out, "--model", "cross_stitch", "--model-arg", "verticals=games,sports",
                      "--model-arg", "depth=1")
    assert cli.main(args) == 0
    with open(out / "history.csv", newline="") as handle:
        row = list(csv.DictReader(handle))[-1]
    assert {"games_loss", "sports_loss", "rest_loss", "val_labels_map_at_10"} <= set(row)
    assert 0 <= float(row["val_labels_map_at_10"]) <= 1


def test_docstring_examples_run():
    assert doctest.testmod(cross_stitch_module, extraglobs={"keras": keras}).failed == 0
