"""``train --model shared_bottom``: one loss per vertical, predict and score through the run folder."""

import csv
import json

import numpy as np

from course_lib import cli
from course_lib.project import predict, score
from tests.project.conftest import train_args


def test_shared_bottom_trains_predicts_and_scores(tiny_world, tmp_path):
    out = tmp_path / "shared_bottom"
    args = train_args(tiny_world, out, "--model", "shared_bottom", "--model-arg", "tower_units=8")
    assert cli.main(args) == 0
    with open(out / "history.csv", newline="") as handle:
        row = list(csv.DictReader(handle))[-1]
    assert {"games_loss", "real_estate_loss", "val_labels_map_at_10", "val_labels_gap_at_20"} <= set(row)
    assert np.isfinite(float(row["loss"])) and 0 <= float(row["val_labels_map_at_10"]) <= 1
    config = json.loads((out / "config.json").read_text())
    assert config["model"] == "shared_bottom"
    validate = str(tiny_world / "validate*.tfrecord")
    videos = predict.predict(out, tmp_path / "submission.csv", validate, progress=False)
    assert score.score(tmp_path / "submission.csv", validate)["videos"] == videos > 0
