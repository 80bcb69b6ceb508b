"""A tiny training run shared by the project tests (train once, predict and score many times)."""

import pytest

from course_lib import cli

TINY_MODEL = ["--model-arg", "hidden_units=16", "--batch-size", "64"]


def train_args(world, out, *extra):
    """``python -m course_lib train`` arguments for a 1-epoch run of a tiny FCN on ``world``."""
    return [
        "train",
        "--data", str(world / "train*.tfrecord"),
        "--validation-data", str(world / "validate*.tfrecord"),
        "--out", str(out),
        "--epochs", "1",
        *TINY_MODEL,
        *extra,
    ]


@pytest.fixture(scope="session")
def trained_run(tiny_world, tmp_path_factory):
    """A run folder: the FCN (16 units) trained 1 epoch on ``tiny_world`` through the command line."""
    out = tmp_path_factory.mktemp("runs") / "fcn"
    assert cli.main(train_args(tiny_world, out)) == 0
    return out
