"""OMoE, MMoE, SNR, CGC and PLE through the project commands: train, resume, predict, score."""

import csv

import numpy as np
import pytest

from course_lib import cli
from course_lib.project import predict, score

TINY = {
    "omoe": ["num_experts=2", "expert_units=8", "tower_units=4"],
    "mmoe": ["num_experts=2", "expert_units=8", "tower_units=4", "expert_dropout=0.25"],
    "snr": ["num_experts=2", "expert_units=8", "output_units=4", "tower_units=4", "l0_weight=0.001"],
    "cgc": ["task_experts=1", "shared_experts=1", "expert_units=8", "tower_units=4"],
    "ple": ["task_experts=1", "shared_experts=1", "expert_units=8", "tower_units=0"],
}


def train_args(world, out, model, *extra):
    args = ["train", "--data", str(world / "train*.tfrecord"), "--validation-data", str(world / "validate*.tfrecord"),
            "--out", str(out), "--epochs", "1", "--batch-size", "64", "--model", model]
    for value in TINY[model]:
        args += ["--model-arg", value]
    return [*args, *extra]


def history(run):
    with open(run / "history.csv", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("model", ["mmoe", "snr", "ple"])  # omoe, cgc: built in tests/models
def test_train_fits_a_loss_per_vertical_and_measures_labels(model, tiny_world, tmp_path):
    run = tmp_path / model
    assert cli.main(train_args(tiny_world, run, model)) == 0
    row = history(run)[-1]
    assert {"games_loss", "real_estate_loss", "val_labels_map_at_10", "val_labels_gap_at_20"} <= set(row)
    assert np.isfinite(float(row["loss"])) and 0 <= float(row["val_labels_map_at_10"]) <= 1
    if model == "ple":
        validate = str(tiny_world / "validate*.tfrecord")
        videos = predict.predict(run, tmp_path / "submission.csv", validate, progress=False)
        assert score.score(tmp_path / "submission.csv", validate)["videos"] == videos > 0
    if model == "snr":  # the L0 penalty and the hard-concrete seed generator survive a resume
        assert cli.main(train_args(tiny_world, run, model, "--epochs", "2")) == 0
        assert [int(r["epoch"]) for r in history(run)] == [0, 1]
