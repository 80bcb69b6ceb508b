"""The contract between models and the project: named outputs, declared tasks, own training steps."""

import csv
import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from course_lib import cli, models
from course_lib.data import spec
from course_lib.models import registry
from course_lib.project import predict, runs, score, train
from tests.project.conftest import train_args


def history(run):
    with open(run / "history.csv", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def vertical_run(tiny_world, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "vertical"
    assert cli.main(train_args(tiny_world, out, "--model", "vertical_heads")) == 0
    return out


def test_vertical_heads_trains_with_a_loss_per_vertical(vertical_run):
    row = history(vertical_run)[-1]
    # Several outputs: Keras names each output's loss and metrics after it.
    assert {"loss", "games_loss", "real_estate_loss", "val_labels_map_at_10", "val_labels_gap_at_20"} <= set(row)
    assert "labels_loss" not in row  # labels is measured only
    verticals = [float(v) for k, v in row.items() if k.endswith("_loss") and not k.startswith("val_")]
    assert len(verticals) == 25 and np.all(np.isfinite(verticals))
    assert 0 <= float(row["val_labels_map_at_10"]) <= 1
    assert json.loads((vertical_run / "config.json").read_text())["model"] == "vertical_heads"


def test_vertical_heads_predicts_and_scores(vertical_run, tiny_world, tmp_path):
    validate = str(tiny_world / "validate*.tfrecord")
    out = tmp_path / "submission.csv"
    videos = predict.predict(vertical_run, out, validate, progress=False)
    scores = score.score(out, validate)
    assert scores["videos"] == videos > 0 and 0 <= scores["MAP@10"] <= 1


def test_vertical_heads_resumes_with_the_same_tasks(vertical_run, tiny_world, tmp_path):
    import shutil

    run = tmp_path / "resumed"
    shutil.copytree(vertical_run, run)
    assert cli.main(train_args(tiny_world, run, "--model", "vertical_heads", "--epochs", "2")) == 0  # last --epochs wins
    assert [int(r["epoch"]) for r in history(run)] == [0, 1]
    assert "games_loss" in history(run)[-1]


def test_targets_are_split_per_output_in_the_graph():
    tasks = {"labels": models.Task(), "b": models.Task(label_ids=(3, 0))}
    labels = tf.constant([[1.0, 0.0, 0.0, 0.5]])
    dataset = tf.data.Dataset.from_tensors(({"x": tf.zeros((1, 2))}, labels)).map(train._targets(tasks))
    assert dataset.element_spec[1]["b"].shape == (1, 2)  # static
    _, targets = next(iter(dataset))
    np.testing.assert_array_equal(targets["b"], [[0.5, 1.0]])
    np.testing.assert_array_equal(targets["labels"], labels)


@keras.saving.register_keras_serializable(package="tests")
class ClippedSteps(keras.Model):
    """A model with its own training step: gradients clipped to unit global norm, the norm logged."""

    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(x=x, y=y, y_pred=y_pred, training=True)
        gradients = tape.gradient(loss, self.trainable_variables)
        clipped, norm = tf.clip_by_global_norm(gradients, 1.0)
        self.optimizer.apply(clipped, self.trainable_variables)
        return {**self.compute_metrics(x, y, y_pred), "gradient_norm": norm}


def clipped_linear(seed=0):
    inputs = {"mean_rgb": keras.Input((spec.RGB_SIZE,), name="mean_rgb"),
              "mean_audio": keras.Input((spec.AUDIO_SIZE,), name="mean_audio")}
    features = keras.layers.Concatenate()([inputs["mean_rgb"], inputs["mean_audio"]])
    labels = keras.layers.Dense(spec.NUM_CLASSES, activation="sigmoid", name="labels",
                                kernel_initializer=keras.initializers.GlorotUniform(seed))(features)
    return ClippedSteps(inputs, {"labels": labels})


def test_a_model_with_its_own_train_step_uses_fit_callbacks_and_the_run_folder(tiny_world, tmp_path, monkeypatch):
    monkeypatch.setattr(registry, "_BUILDERS", dict(registry._BUILDERS))
    monkeypatch.setattr(registry, "_TASKS", dict(registry._TASKS))
    models.register_model("clipped_linear")(clipped_linear)
    run = tmp_path / "clipped"
    train.train(run, str(tiny_world / "train*.tfrecord"), str(tiny_world / "validate*.tfrecord"),
                model="clipped_linear", epochs=2, batch_size=64, verbose=0)
    rows = history(run)
    assert [int(r["epoch"]) for r in rows] == [0, 1]
    assert all(float(r["gradient_norm"]) > 0 for r in rows)  # logged by the custom step
    assert 0 <= float(rows[-1]["val_map_at_10"]) <= 1
    assert isinstance(runs.load_model(run), ClippedSteps)  # checkpoints keep the class
    assert predict.predict(run, tmp_path / "sub.csv", str(tiny_world / "validate*.tfrecord"), progress=False) > 0


def test_outputs_and_tasks_must_match(tiny_world, tmp_path, monkeypatch):
    monkeypatch.setattr(registry, "_BUILDERS", dict(registry._BUILDERS))
    monkeypatch.setattr(registry, "_TASKS", dict(registry._TASKS))
    models.register_model("undeclared", tasks=lambda **_: {"labels": models.Task(), "extra": models.Task()})(
        clipped_linear)
    with pytest.raises(ValueError, match="one entry per declared task"):
        train.train(tmp_path / "bad", str(tiny_world / "train*.tfrecord"), False, model="undeclared",
                    epochs=1, batch_size=64, verbose=0)


def test_predict_names_a_model_without_labels(tmp_path):
    inputs = keras.Input((2,), name="mean_rgb")
    model = keras.Model(inputs, {"scores": keras.layers.Dense(3)(inputs)})
    with pytest.raises(ValueError, match="no output named 'labels'"):
        predict.labels_output(model)
