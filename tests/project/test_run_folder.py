"""The run folder: atomic writes, checkpoint listing and pruning, history trimmed on resume."""

import zipfile

import pytest

from course_lib.project import runs
from course_lib.callbacks import EpochCheckpoint


def test_write_atomic_leaves_no_temporary_file(tmp_path):
    runs.write_atomic(tmp_path / "config.json", "{}\n")
    runs.write_atomic(tmp_path / "config.json", '{"a": 1}\n')
    assert [p.name for p in tmp_path.iterdir()] == ["config.json"]
    assert (tmp_path / "config.json").read_text() == '{"a": 1}\n'


def test_checkpoints_are_listed_by_epoch(tmp_path):
    assert runs.latest_checkpoint(tmp_path) == (0, None)
    folder = tmp_path / runs.CHECKPOINTS
    folder.mkdir()
    for name in ("epoch_0010.keras", "epoch_0002.keras", ".epoch_0011.partial.keras", "notes.txt"):
        with zipfile.ZipFile(folder / name, "w") as archive:  # the shape of a .keras file
            archive.writestr("config.json", "{}")
    assert [epoch for epoch, _ in runs.checkpoints(tmp_path)] == [2, 10]
    assert runs.latest_checkpoint(tmp_path) == (10, runs.checkpoint_path(tmp_path, 10))
    runs.checkpoint_path(tmp_path, 10).write_text("")  # an empty newest one is skipped
    assert runs.latest_checkpoint(tmp_path) == (2, runs.checkpoint_path(tmp_path, 2))


def test_history_rows_after_the_checkpoint_are_dropped(tmp_path):
    history = tmp_path / "history.csv"
    history.write_text("epoch,loss\n0,0.5\n1,0.4\n2,0.3\n")
    runs.trim_history(history, 2)
    assert history.read_text() == "epoch,loss\n0,0.5\n1,0.4\n"


def test_parse_model_args():
    assert runs.parse_model_args(["hidden_units=64", "dropout=0.5", "name=wide"]) == {
        "hidden_units": 64, "dropout": 0.5, "name": "wide",
    }
    with pytest.raises(ValueError, match="NAME=VALUE. Received: --model-arg 'hidden_units'"):
        runs.parse_model_args(["hidden_units"])


def test_load_model_errors_name_the_run(tmp_path):
    with pytest.raises(runs.RunError, match="not a training run"):
        runs.load_model(tmp_path)
    runs.write_config(tmp_path, {"model": "fcn"})
    with pytest.raises(runs.RunError, match="no checkpoint"):
        runs.load_model(tmp_path)


def test_epoch_checkpoint_saves_atomically_keeps_the_newest_and_skips_nan(tmp_path):
    from course_lib.models import build_model

    callback = EpochCheckpoint(tmp_path / runs.CHECKPOINTS, keep=2)
    callback.set_model(build_model("fcn", hidden_units=4))
    for epoch in range(3):
        callback.on_epoch_end(epoch, {"loss": 0.5})
    callback.on_epoch_end(3, {"loss": float("nan")})
    assert [epoch for epoch, _ in runs.checkpoints(tmp_path)] == [2, 3]
    assert sorted(p.name for p in (tmp_path / runs.CHECKPOINTS).iterdir()) == ["epoch_0002.keras", "epoch_0003.keras"]
