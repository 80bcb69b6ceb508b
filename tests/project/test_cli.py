"""The project loop end to end through the command line: train -> predict -> score."""

import csv
import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from course_lib import cli, metrics
from course_lib.data import list_shards, load_yt8m
from course_lib.project import runs
from course_lib.project import score as scoring
from tests.project.conftest import train_args


def read_rows(path):
    with open(path, newline="") as handle:
        return list(csv.reader(handle))


def ids_in_file_order(pattern):
    ids = []
    for path in list_shards(pattern):
        for record in tf.data.TFRecordDataset(path):
            example = tf.train.Example.FromString(record.numpy())
            ids.append(example.features.feature["id"].bytes_list.value[0].decode())
    return ids


def test_train_writes_config_history_and_checkpoint(trained_run, capsys):
    config = json.loads((trained_run / "config.json").read_text())
    assert config["model"] == "fcn" and config["model_args"] == {"hidden_units": 16}
    assert config["loss"] == "binary_crossentropy"
    history = read_rows(trained_run / "history.csv")
    assert history[0][0] == "epoch" and {"val_map_at_10", "val_gap_at_20", "loss"} <= set(history[0])
    assert len(history) == 2
    row = dict(zip(history[0], history[1]))
    assert 0 <= float(row["val_map_at_10"]) <= 1 and 0 <= float(row["val_gap_at_20"]) <= 1
    assert [epoch for epoch, _ in runs.checkpoints(trained_run)] == [1]
    assert not list(trained_run.rglob("*.tmp")) and not list(trained_run.rglob(".*"))


def test_predict_then_score(trained_run, tiny_world, tmp_path, capsys):
    validate = str(tiny_world / "validate*.tfrecord")
    out = tmp_path / "sub" / "submission.csv"
    assert cli.main(["predict", "--run", str(trained_run), "--data", validate, "--out", str(out)]) == 0
    rows = read_rows(out)
    assert rows[0] == ["VideoId", "Label"]
    assert [row[0] for row in rows[1:]] == ids_in_file_order(validate)  # every video, file order
    labels = np.array([[int(x) for x in row[1].split(" ")] for row in rows[1:]])
    assert labels.shape[1] == 10 and labels.min() >= 0 and labels.max() < 3862
    assert all(len(set(row)) == 10 for row in labels)
    assert list(out.parent.iterdir()) == [out]  # no temporary file left

    # Most confident first: the model's own ranking of the first videos.
    model = runs.load_model(trained_run)
    features, _ = next(iter(load_yt8m(validate, 8)))
    probabilities = np.asarray(model({k: features[k] for k in ("mean_rgb", "mean_audio")}, training=False)["labels"])
    np.testing.assert_array_equal(labels[:8], np.argsort(-probabilities, axis=1, kind="stable")[:, :10])

    capsys.readouterr()
    assert cli.main(["score", str(out), "--data", validate]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert [line.split(" ")[0] for line in printed[:3]] == ["MAP@10", "GAP@20", "hit@1"]
    # The submission's MAP@10 is the model's validation MAP@10 of the same epoch.
    history = dict(zip(*read_rows(trained_run / "history.csv")))
    assert printed[0] == f"MAP@10 {float(history['val_map_at_10']):.4f}"


def test_score_of_a_perfect_submission(tiny_world, tmp_path):
    validate = str(tiny_world / "validate*.tfrecord")
    truth = scoring.read_labels(validate)
    path = tmp_path / "perfect.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["VideoId", "Label"])
        for video_id, labels in truth.items():
            filler = [x for x in range(3862) if x not in set(labels.tolist())]
            writer.writerow([video_id, " ".join(map(str, (list(labels) + filler)[:10]))])
    scores = scoring.score(path, validate)
    assert scores["videos"] == len(truth)
    assert scores["MAP@10"] == pytest.approx(1.0) and scores["hit@1"] == pytest.approx(1.0)
    # GAP with rank confidences, checked against the NumPy metric on a dense matrix.
    y_true = np.zeros((len(truth), 3862))
    y_score = np.zeros_like(y_true)
    for i, (video_id, labels) in enumerate(truth.items()):
        y_true[i, labels] = 1
        ranked = (list(labels) + [x for x in range(3862) if x not in set(labels.tolist())])[:10]
        y_score[i, ranked] = (10 - np.arange(10)) / 10
    assert scores["GAP@20"] == pytest.approx(metrics.gap_at_k(y_true, y_score, k=10))


def test_train_resumes_from_the_last_checkpoint(trained_run, tiny_world, tmp_path, capsys):
    import shutil

    run = tmp_path / "resumed"
    shutil.copytree(trained_run, run)
    first = keras.saving.load_model(runs.latest_checkpoint(run)[1])
    assert cli.main(train_args(tiny_world, run, "--epochs", "2")) == 0
    assert "resuming after epoch 1" in capsys.readouterr().out
    assert [epoch for epoch, _ in runs.checkpoints(run)] == [1, 2]
    history = read_rows(run / "history.csv")
    assert [row[0] for row in history[1:]] == ["0", "1"]
    second = keras.saving.load_model(runs.latest_checkpoint(run)[1])
    assert int(second.optimizer.iterations) == 2 * int(first.optimizer.iterations)  # Adam carried on
    # Asking again for 2 epochs does nothing; a third epoch keeps only the newest checkpoint if asked.
    assert cli.main(train_args(tiny_world, run, "--epochs", "2")) == 0
    assert "nothing to do" in capsys.readouterr().out
    assert cli.main(train_args(tiny_world, run, "--epochs", "3", "--keep-checkpoints", "1")) == 0
    assert [epoch for epoch, _ in runs.checkpoints(run)] == [3]
    assert [row[0] for row in read_rows(run / "history.csv")[1:]] == ["0", "1", "2"]


def test_train_user_errors(trained_run, tiny_world, tmp_path, capsys):
    out = tmp_path / "never"
    args = train_args(tiny_world, out)
    args[args.index("--data") + 1] = str(tmp_path / "nothing*.tfrecord")
    assert cli.main(args) == 2
    assert "no files match pattern" in capsys.readouterr().err
    assert not out.exists()

    # Resuming with another model configuration is refused, naming the config file.
    args = train_args(tiny_world, trained_run, "--epochs", "2")
    args[args.index("hidden_units=16")] = "hidden_units=32"
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert "config.json" in err and "hidden_units" in err and len(err.strip().splitlines()) == 1

    assert cli.main(["train", "--out", str(out), "--model", "nope"]) == 2
    assert "Received: model='nope'" in capsys.readouterr().err


def test_predict_user_errors(tmp_path, tiny_world, capsys):
    out = tmp_path / "submission.csv"
    assert cli.main(["predict", "--run", str(tmp_path / "missing"), "--out", str(out)]) == 2
    assert "not a training run" in capsys.readouterr().err
    assert not out.exists()
