"""balanced_heads: the per-vertical model trained by BalancedModel, for the project commands."""

import keras
import numpy as np
import pytest

from course_lib import models
from course_lib.balancing import BalancedModel


def batch(tasks, n=8, seed=0):
    rng = np.random.default_rng(seed)
    x = {"mean_rgb": rng.normal(size=(n, 1024)).astype("float32"), "mean_audio": rng.normal(size=(n, 128)).astype("float32")}
    labels = (rng.uniform(size=(n, 3862)) < 0.01).astype("float32")
    y = {name: labels if t.label_ids is None else labels[:, list(t.label_ids)] for name, t in tasks.items()}
    return x, y


@pytest.mark.parametrize("weighting", ["mgda_ub", "uncertainty"])
def test_trains_one_step_and_saves(weighting, tmp_path):
    model = models.build_model("balanced_heads", hidden_units=8, weighting=weighting)
    tasks = models.model_tasks("balanced_heads", hidden_units=8, weighting=weighting)
    assert isinstance(model, BalancedModel) and all(task.loss is None for task in tasks.values())
    x, y = batch(tasks)
    model.compile(optimizer="adam")
    logs = model.train_on_batch(x, y, return_dict=True)
    assert np.isfinite(logs["loss"]) and "games_weight" in logs
    labels = model.predict(x, verbose=0)["labels"]
    assert labels.shape == (8, 3862) and labels.dtype == np.float32
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    np.testing.assert_allclose(loaded.predict(x, verbose=0)["labels"], labels, rtol=1e-5, atol=1e-6)


def test_bad_weighting_is_named():
    with pytest.raises(ValueError, match="weighting"):
        models.model_tasks("balanced_heads", weighting="gradnorm")
