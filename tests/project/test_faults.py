"""The project commands under bad input and faults (issue 11): one line naming the file, exit 2."""

import numpy as np
import pytest
import tensorflow as tf

from course_lib import cli
from course_lib.data import spec
from tests.project.conftest import train_args


def write_shard(path, records):
    """Write ``records`` (``tf.train.Example`` or raw bytes) to the TFRecord file ``path``."""
    with tf.io.TFRecordWriter(str(path)) as writer:
        for record in records:
            writer.write(record if isinstance(record, bytes) else record.SerializeToString())
    return path


def example(i, labels=(1, 2), rgb=spec.RGB_SIZE, features=("mean_rgb", "mean_audio")):
    record = spec.make_example(f"v{i:03d}", labels, np.zeros(rgb), np.zeros(spec.AUDIO_SIZE))
    for name in set(spec.FEATURE_SIZES) - set(features):
        del record.features.feature[name]
    return record


def flip_payload_byte(path):
    """Flip a byte inside the first record's data (its length and length CRC stay valid)."""
    raw = bytearray(path.read_bytes())
    raw[100] ^= 0xFF
    path.write_bytes(bytes(raw))
    return path


BAD_RECORDS = {  # name -> (the bad record, what the message says)
    "label_too_large": (example(9, labels=(3862,)), "record 9: label 3862 is out of range"),
    "label_negative": (example(9, labels=(-1,)), "record 9: label -1 is out of range"),
    "missing_mean_rgb": (example(9, features=("mean_audio",)), "record 9: Feature: mean_rgb"),
    "rgb_1000_values": (example(9, rgb=1000), "record 9: Key: mean_rgb, Number of float values"),
    "not_an_example": (b"\xff\x00 not a record", "record 9: not a tf.train.Example"),
}


def bad_shard(tmp_path, case):
    path = tmp_path / "train0000.tfrecord"
    if case == "flipped_byte":
        return flip_payload_byte(write_shard(path, [example(i) for i in range(10)]))
    record, _ = BAD_RECORDS[case]
    return write_shard(path, [example(i) for i in range(9)] + [record])


def expected(case):
    return "corrupted record at byte 12" if case == "flipped_byte" else BAD_RECORDS[case][1]


CASES = ["flipped_byte", *BAD_RECORDS]


def one_error_line(capsys):
    err = capsys.readouterr().err.strip().splitlines()
    return err[-1]


@pytest.mark.parametrize("case", CASES)
def test_inspect_names_file_and_record(tmp_path, capsys, case):
    shard = bad_shard(tmp_path, case)
    assert cli.main(["inspect", str(shard)]) == 2
    line = one_error_line(capsys)
    assert line.startswith(f"error: {shard}") and expected(case) in line


@pytest.mark.parametrize("case", ["flipped_byte", "label_too_large", "rgb_1000_values"])
def test_train_on_a_bad_shard_names_file_and_record(tiny_world, tmp_path, capsys, case):
    shard = bad_shard(tmp_path, case)
    args = train_args(tiny_world, tmp_path / "run")
    args[args.index("--data") + 1] = str(shard)
    args[args.index("--batch-size") + 1] = "2"  # every record is read (full batches only)
    assert cli.main(args) == 2
    line = one_error_line(capsys)
    assert line.startswith(f"error: {shard}") and expected(case) in line


@pytest.mark.parametrize("case", ["flipped_byte", "not_an_example"])
def test_predict_and_score_on_a_bad_shard_name_file(trained_run, tmp_path, capsys, case):
    shard = bad_shard(tmp_path, case)
    assert cli.main(["predict", "--run", str(trained_run), "--data", str(shard), "--out", str(tmp_path / "s.csv")]) == 2
    line = one_error_line(capsys)
    assert line.startswith(f"error: {shard}") and expected(case) in line
    (tmp_path / "s.csv").write_text("VideoId,Label\n")
    assert cli.main(["score", str(tmp_path / "s.csv"), "--data", str(tmp_path / "*.tfrecord")]) == 2
    line = one_error_line(capsys)
    assert line.startswith(f"error: {shard}") and expected(case) in line


@pytest.mark.parametrize("case", ["batch_too_large", "zero_byte_shard"])
def test_zero_training_steps_is_an_error_that_says_why(tiny_world, tmp_path, capsys, case):
    shard = write_shard(tmp_path / "train0000.tfrecord", [example(i) for i in range(10)])
    if case == "zero_byte_shard":
        shard.write_bytes(b"")
    args = train_args(tiny_world, tmp_path / "run")  # --batch-size 64
    args[args.index("--data") + 1] = str(shard)
    assert cli.main(args) == 2
    videos = 0 if case == "zero_byte_shard" else 10
    assert one_error_line(capsys) == (
        f"error: epoch 1 ran no training step: the training shards {str(shard)!r} hold {videos} video(s) in "
        "1 file(s), fewer than one batch of 64 (only full batches are trained on); lower --batch-size or add shards"
    )
    assert not list((tmp_path / "run" / "checkpoints").glob("*.keras"))


def test_score_a_label_too_large_for_int64_is_out_of_range_on_its_line(tmp_path):
    from course_lib.project import score as scoring

    path = tmp_path / "s.csv"
    huge = "99999999999999999999999"
    path.write_text(f"VideoId,Label\nv000,{' '.join(map(str, range(10)))}\nv001,{huge} 1 2 3 4 5 6 7 8 9\n")
    with pytest.raises(scoring.SubmissionError) as caught:
        list(scoring.read_submission(path, {"v000", "v001"}))
    assert str(caught.value) == f"{path}, line 3: label {huge} is out of range [0, 3862)"


def copy_run(trained_run, tmp_path):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    return run, run / "checkpoints" / "epoch_0001.keras"


def corrupt(path, how):
    raw = bytearray(path.read_bytes())
    if how == "truncated":
        path.write_bytes(bytes(raw[: len(raw) // 2]))
    elif how == "garbage":
        path.write_bytes(b"not a zip file at all\n" * 10)
    else:  # bytes flipped inside a member of the zip
        for i in range(200, 260):
            raw[i] ^= 0xFF
        path.write_bytes(bytes(raw))


@pytest.mark.parametrize("how", ["truncated", "garbage", "flipped"])
def test_predict_with_a_bad_checkpoint_says_so_naming_it(trained_run, tmp_path, capsys, how):
    run, checkpoint = copy_run(trained_run, tmp_path)
    corrupt(checkpoint, how)
    out = tmp_path / "s.csv"
    assert cli.main(["predict", "--run", str(run), "--checkpoint", str(checkpoint), "--out", str(out)]) == 2
    line = one_error_line(capsys)
    assert line.startswith(f"error: {checkpoint}: ") and ".keras checkpoint" in line and not out.exists()


def test_a_garbage_newer_checkpoint_does_not_hide_an_older_good_one(trained_run, tiny_world, tmp_path, capsys):
    run, good = copy_run(trained_run, tmp_path)
    newer = run / "checkpoints" / "epoch_0009.keras"
    newer.write_bytes(b"garbage")
    out = tmp_path / "s.csv"
    data = str(tiny_world / "validate*.tfrecord")
    assert cli.main(["predict", "--run", str(run), "--data", data, "--out", str(out)]) == 0
    assert f"warning: skipped {newer}: not a readable .keras checkpoint" in capsys.readouterr().err
    assert out.exists()


def test_resume_falls_back_to_the_newest_intact_checkpoint(trained_run, tiny_world, tmp_path, capsys):
    from course_lib.project import runs

    run, good = copy_run(trained_run, tmp_path)
    newer = run / "checkpoints" / "epoch_0002.keras"
    newer.write_bytes(good.read_bytes()[:1000])  # truncated
    assert runs.latest_checkpoint(run) == (1, good)
    assert f"warning: skipped {newer}: not a readable .keras checkpoint" in capsys.readouterr().err
    args = train_args(tiny_world, run)
    args[args.index("--epochs") + 1] = "2"
    assert cli.main(args) == 0
    captured = capsys.readouterr()
    assert f"resuming after epoch 1 from {good}" in captured.out
    assert runs.checkpoint_problem(newer) is None  # epoch 2 trained again and saved in its place


def history_epochs(run):
    import csv

    with open(run / "history.csv", newline="") as handle:
        return [row["epoch"] for row in csv.DictReader(handle)]


def test_a_kill_right_after_the_checkpoint_rename_loses_no_history_row(tiny_world, tmp_path, monkeypatch):
    from course_lib.callbacks import EpochCheckpoint

    run = tmp_path / "run"
    save = EpochCheckpoint.on_epoch_end

    def save_then_die(self, epoch, logs=None):  # the process dies the instant the checkpoint has its name
        save(self, epoch, logs)
        raise KeyboardInterrupt

    monkeypatch.setattr(EpochCheckpoint, "on_epoch_end", save_then_die)
    assert cli.main(train_args(tiny_world, run)) == 130
    monkeypatch.undo()
    assert history_epochs(run) == ["0"]  # the row was written before the checkpoint
    args = train_args(tiny_world, run)
    args[args.index("--epochs") + 1] = "2"
    assert cli.main(args) == 0
    assert history_epochs(run) == ["0", "1"]


def test_a_diverged_run_exits_non_zero_and_a_rerun_leaves_one_row(tiny_world, tmp_path, capsys):
    run = tmp_path / "run"
    assert cli.main(train_args(tiny_world, run, "--learning-rate", "nan")) == 2
    line = one_error_line(capsys)
    assert line.startswith("error: epoch 1: loss is nan, training diverged and stopped;")
    assert not list((run / "checkpoints").glob("*.keras"))
    assert cli.main(train_args(tiny_world, run, "--learning-rate", "nan")) == 2
    assert history_epochs(run) == ["0"]


@pytest.mark.parametrize("arg, message", [
    ("hidden_units=abc", "--model-arg hidden_units must be a number like its default 1024. Received: hidden_units='abc'"),
    ("num_classes=5", "--model-arg num_classes must be 3862, the shards' vocabulary: train reads every label. "
                      "Received: num_classes=5"),
])
def test_a_bad_model_arg_is_named_before_any_file_is_written(tiny_world, tmp_path, capsys, arg, message):
    run = tmp_path / "run"
    assert cli.main(train_args(tiny_world, run, "--model-arg", arg)) == 2
    assert one_error_line(capsys) == f"error: {message}"
    assert not run.exists()


def test_predict_out_must_name_a_file_it_can_write(trained_run, tiny_world, tmp_path, capsys):
    data = str(tiny_world / "validate*.tfrecord")
    base = ["predict", "--run", str(trained_run), "--data", data, "--out"]
    assert cli.main([*base, ""]) == 2
    assert one_error_line(capsys) == "error: --out must name a CSV file, e.g. submission.csv. Received: out=''"
    (tmp_path / "afile").write_text("x")
    assert cli.main([*base, str(tmp_path / "afile" / "x.csv")]) == 2
    assert one_error_line(capsys) == f"error: {tmp_path / 'afile'}: is a file, so it cannot hold {tmp_path / 'afile' / 'x.csv'}"


def test_predict_removes_a_killed_runs_temporary(trained_run, tiny_world, tmp_path):
    import subprocess

    dead = subprocess.Popen(["true"])
    dead.wait()  # a process id that no longer runs
    out = tmp_path / "s.csv"
    stale = tmp_path / f".s.csv.{dead.pid}.tmp"
    stale.write_text("half a submission")
    data = str(tiny_world / "validate*.tfrecord")
    assert cli.main(["predict", "--run", str(trained_run), "--data", data, "--out", str(out)]) == 0
    assert out.exists() and not stale.exists()


@pytest.mark.parametrize("argv, message", [
    (["train", "--out", "", "--data", "x"], "--out must name a run folder, e.g. runs/fcn. Received: --out ''"),
    (["train", "--out", "r", "--cpu-devices", "0"], "--cpu-devices must be 1 or more. Received: --cpu-devices 0"),
    (["inspect", "x", "--top", "-5"], "--top must be 0 or more. Received: --top -5"),
])
def test_bad_arguments_are_named(argv, message, capsys):
    assert cli.main(argv) == 2
    assert one_error_line(capsys) == f"error: {message}"


def test_empty_shards_are_an_error_for_inspect_and_predict(trained_run, tmp_path, capsys):
    empty = tmp_path / "validate0000.tfrecord"
    empty.write_bytes(b"")
    assert cli.main(["inspect", str(empty)]) == 2
    assert one_error_line(capsys) == f"error: {empty}: no video in 1 file(s) (empty shards)"
    out = tmp_path / "s.csv"
    assert cli.main(["predict", "--run", str(trained_run), "--data", str(empty), "--out", str(out)]) == 2
    assert one_error_line(capsys) == f"error: {empty}: no video to predict (empty shards); {out} not written"
    assert not out.exists()


def with_id(i, video_id):
    record = example(i)
    record.features.feature["id"].bytes_list.value[0] = video_id
    return record


ID_CASES = {  # name -> (records of validate0000, the message after "<shard>, record 3: ")
    "repeated": ([example(i) for i in range(3)] + [example(1)], "video id 'v001' repeated (first in {shard}, record 1)"),
    "not_utf8": ([example(i) for i in range(3)] + [with_id(3, b"\xff\xfeab")], "video id b'\\xff\\xfeab' is not UTF-8 text"),
    "spaces": ([example(i) for i in range(3)] + [with_id(3, b" v003 ")],
               "video id ' v003 ' is empty or has spaces around it (a submission's ids are read stripped)"),
}


@pytest.mark.parametrize("case", ID_CASES)
def test_predict_and_score_name_a_bad_video_id(trained_run, tmp_path, capsys, case):
    records, message = ID_CASES[case]
    shard = write_shard(tmp_path / "validate0000.tfrecord", records)
    out = tmp_path / "s.csv"
    expected_line = f"error: {shard}, record 3: {message.format(shard=shard)}"
    assert cli.main(["predict", "--run", str(trained_run), "--data", str(shard), "--out", str(out)]) == 2
    assert one_error_line(capsys) == expected_line and not out.exists()
    out.write_text("VideoId,Label\n")
    assert cli.main(["score", str(out), "--data", str(shard)]) == 2
    assert one_error_line(capsys) == expected_line


def test_a_video_id_in_two_shards_is_named_by_predict(trained_run, tmp_path, capsys):
    first = write_shard(tmp_path / "validate0000.tfrecord", [example(i) for i in range(3)])
    second = write_shard(tmp_path / "validate0001.tfrecord", [example(i) for i in range(2, 4)])
    out = tmp_path / "s.csv"
    assert cli.main(["predict", "--run", str(trained_run), "--data", str(tmp_path / "*.tfrecord"), "--out", str(out)]) == 2
    assert one_error_line(capsys) == f"error: {second}, record 0: video id 'v002' repeated (first in {first}, record 2)"


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_non_finite_features_are_named_by_inspect_and_predict(trained_run, tmp_path, capsys, value):
    rgb = np.zeros(spec.RGB_SIZE)
    rgb[7] = value
    bad = spec.make_example("v009", (1, 2), rgb, np.zeros(spec.AUDIO_SIZE))
    shard = write_shard(tmp_path / "validate0000.tfrecord", [example(i) for i in range(9)] + [bad])
    expected_line = f"error: {shard}, record 9: mean_rgb holds NaN or infinite values"
    assert cli.main(["inspect", str(shard)]) == 2
    assert one_error_line(capsys) == expected_line
    out = tmp_path / "s.csv"
    assert cli.main(["predict", "--run", str(trained_run), "--data", str(shard), "--out", str(out)]) == 2
    assert one_error_line(capsys) == expected_line and not out.exists()


def test_train_out_under_a_file_is_named_before_anything_runs(tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("x")
    assert cli.main(["train", "--out", str(afile / "x"), "--data", "unused"]) == 2
    assert one_error_line(capsys) == f"error: {afile}: is a file, so it cannot hold the run folder {afile / 'x'}"
    assert cli.main(["train", "--out", str(afile), "--data", "unused"]) == 2
    assert one_error_line(capsys) == f"error: {afile}: is a file, not a run folder"
