import json

import keras
import numpy as np
import pytest

from course_lib import cli
from course_lib.data import load_vocabulary, load_yt8m, synthetic


def _load(folder, split):
    features, labels = next(iter(load_yt8m(str(folder / f"{split}*.tfrecord"), 100_000, include_id=True)))
    x = np.concatenate([features["mean_rgb"].numpy(), features["mean_audio"].numpy()], axis=1)
    return features["id"].numpy(), x, labels.numpy()


@pytest.fixture(scope="module")
def medium_world(tmp_path_factory):
    out = tmp_path_factory.mktemp("medium_yt8m")
    synthetic.write_synthetic(out, videos=3000, shards=5, seed=11, progress=False)
    return out


def test_same_seed_same_bytes_and_layout(tmp_path, tiny_world):
    files = synthetic.write_synthetic(tmp_path, videos=600, shards=5, seed=7, progress=False)
    assert [f.name for f in files] == [f"train000{i}.tfrecord" for i in range(4)] + ["validate0000.tfrecord"]
    for f in files:
        assert f.read_bytes() == (tiny_world / f.name).read_bytes()
    assert json.loads((tmp_path / "SYNTHETIC.json").read_text())["seed"] == 7
    other = synthetic.write_synthetic(tmp_path / "other", videos=600, shards=5, seed=8, progress=False)
    assert other[0].read_bytes() != files[0].read_bytes()


def test_statistics_look_like_the_real_shards(medium_world):
    ids, x, y = _load(medium_world, "train")
    rgb, audio = x[:, :1024], x[:, 1024:]
    assert abs(rgb.std() - 0.46) < 0.03 and abs(audio.std() - 0.69) < 0.04
    assert 0.35 < rgb.std(0).min() and rgb.std(0).max() < 0.85  # sampling noise of 2,400 videos
    assert 0.55 < audio.std(0).min() and audio.std(0).max() < 1.0
    assert x.min() >= synthetic.FEATURE_LOW and x.max() <= synthetic.FEATURE_HIGH
    per_video = y.sum(1)
    assert per_video.min() >= 1 and 2.7 < per_video.mean() < 3.3
    # Long tail: the most frequent synthetic labels are among the most frequent real ones.
    counts = load_vocabulary().train_counts
    top = np.argsort(-y.sum(0))[:5]
    assert all(counts[label] >= np.sort(counts)[-30] for label in top)


def test_ids_are_distinct_across_every_shard(medium_world):
    train_ids, _, _ = _load(medium_world, "train")
    validate_ids, _, _ = _load(medium_world, "validate")
    everything = np.concatenate([train_ids, validate_ids])
    assert len(set(everything)) == len(everything) == 3000
    assert all(len(video_id) == 4 for video_id in everything)


def test_labels_cooccur_mostly_inside_their_vertical(medium_world):
    _, _, y = _load(medium_world, "train")
    vertical = load_vocabulary().vertical_ids
    same = total = 0
    for row in y:
        labels = np.flatnonzero(row)
        v = vertical[labels]
        same += (v[:, None] == v[None, :]).sum() - len(labels)
        total += len(labels) * (len(labels) - 1)
    assert same / total > 0.6


def _gap(y_true, y_score, k=20):
    """Brute-force GAP@k reference (the challenge's definition)."""
    top = np.argsort(-y_score, axis=1)[:, :k]
    scores = np.take_along_axis(y_score, top, 1).ravel()
    hits = np.take_along_axis(y_true, top, 1).ravel()[np.argsort(-scores, kind="stable")]
    precision = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    return float((precision * hits).sum() / y_true.sum())


def test_a_logistic_model_learns_it(medium_world):
    _, x, y = _load(medium_world, "train")
    _, x_val, y_val = _load(medium_world, "validate")
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((1152,)), keras.layers.Dense(3862, activation="sigmoid")])
    model.compile(keras.optimizers.Adam(0.01), "binary_crossentropy")
    model.fit(x, y, batch_size=64, epochs=3, verbose=0)
    learned = _gap(y_val, model.predict(x_val, verbose=0))
    prior = _gap(y_val, np.tile(y.mean(0), (len(y_val), 1)))
    assert learned > 0.25 and learned > 4 * prior


def test_bad_arguments():
    with pytest.raises(ValueError, match="shards"):
        synthetic.write_synthetic("unused", videos=10, shards=1)
    with pytest.raises(ValueError, match="validate_fraction"):
        synthetic.write_synthetic("unused", videos=10, shards=2, validate_fraction=1.5)
    assert [synthetic.shard_code(i) for i in (0, 96, 3843)] == ["aa", "bI", "99"]


def test_ensure_sample_generates_once(tmp_path, monkeypatch):
    monkeypatch.setattr(synthetic, "SAMPLE_ARGS", {"videos": 40, "shards": 2, "seed": 1, "validate_fraction": 0.5})
    out = synthetic.ensure_sample(tmp_path / "sample", progress=False)
    stamp = (out / "train0000.tfrecord").stat().st_mtime_ns
    synthetic.ensure_sample(out, progress=False)
    assert (out / "train0000.tfrecord").stat().st_mtime_ns == stamp
    monkeypatch.setattr(synthetic, "SAMPLE_ARGS", {"videos": 60, "shards": 2, "seed": 1, "validate_fraction": 0.5})
    synthetic.ensure_sample(out, progress=False)
    assert sum(1 for _ in load_yt8m(str(out / "*.tfrecord"), 1)) == 60


def test_synth_and_inspect_commands(tmp_path, capsys):
    assert cli.main(["synth", "--out", str(tmp_path), "--videos", "50", "--shards", "2", "--seed", "3"]) == 0
    assert cli.main(["inspect", str(tmp_path / "*.tfrecord"), "--top", "3"]) == 0
    out = capsys.readouterr().out
    assert "files: 2  videos: 50" in out and "most frequent labels" in out and "mean_audio" in out
    raw = (tmp_path / "train0000.tfrecord").read_bytes()
    (tmp_path / "train0000.tfrecord").write_bytes(raw[:-100])
    assert cli.main(["inspect", str(tmp_path / "*.tfrecord")]) == 2
    assert "train0000.tfrecord: truncated record" in capsys.readouterr().err
    assert cli.main(["inspect", str(tmp_path / "none*")]) == 2
