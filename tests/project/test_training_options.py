"""Training options: mixed precision with XLA, and a mirrored strategy over two logical CPUs."""

import csv
import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import keras
import numpy as np
import pytest

from course_lib import cli, metrics
from course_lib.data import load_yt8m
from course_lib.precision import dtype_policy
from course_lib.project import runs
from tests.project.conftest import train_args

ROOT = Path(__file__).resolve().parents[2]


def last_row(run):
    with open(run / "history.csv", newline="") as handle:
        return list(csv.DictReader(handle))[-1]


def test_mixed_precision_with_jit(tiny_world, tmp_path):
    run = tmp_path / "mixed"
    with dtype_policy("mixed_bfloat16"):  # not float32, so restoring a hard-coded default would show
        assert cli.main(train_args(tiny_world, run, "--mixed-precision", "--jit")) == 0
        assert keras.config.dtype_policy().name == "mixed_bfloat16"  # train restores the previous policy
    config = json.loads((run / "config.json").read_text())
    assert config["mixed_precision"] and config["jit"]
    row = last_row(run)
    assert np.isfinite(float(row["loss"])) and 0 <= float(row["val_map_at_10"]) <= 1
    model = runs.load_model(run)
    assert model.get_layer("joint_dense").dtype_policy.name == "mixed_float16"
    assert model.get_layer("labels").compute_dtype == "float32"


def test_jit_is_refused_on_logical_cpu_replicas(monkeypatch):
    import tensorflow as tf

    from course_lib.project import distribute

    devices = {"GPU": [], "CPU": [SimpleNamespace(name=f"/device:CPU:{i}") for i in range(2)]}
    monkeypatch.setattr(tf.config, "list_logical_devices", lambda kind: devices[kind])
    with pytest.raises(ValueError, match="--jit with --strategy mirrored needs GPUs"):
        distribute.make_strategy("mirrored", jit=True)


@pytest.mark.filterwarnings("ignore:Your input ran out of data")
def test_mirrored_strategy_on_two_logical_cpus(tiny_world, tmp_path):
    run = tmp_path / "mirrored"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    args = train_args(tiny_world, run, "--strategy", "mirrored", "--cpu-devices", "2")
    command = [sys.executable, "-m", "course_lib", *args]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "mirrored over 2 devices" in done.stdout
    assert json.loads((run / "config.json").read_text())["strategy"] == "mirrored"

    # The validation metrics were summed over both replicas: one device finds the same values.
    row = last_row(run)
    model = runs.load_model(run)
    model.compile(loss="binary_crossentropy", metrics=[metrics.MAPAtK(k=10), metrics.GAPAtK(k=20)])
    result = model.evaluate(load_yt8m(str(tiny_world / "validate*.tfrecord"), 64), return_dict=True, verbose=0)
    assert float(row["val_map_at_10"]) == pytest.approx(result["map_at_10"], abs=1e-5)
    assert float(row["val_gap_at_20"]) == pytest.approx(result["gap_at_20"], abs=1e-5)
