import json
from pathlib import Path

import keras
import numpy as np
import pytest

from course_lib import cli, metrics
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


def test_same_bytes_across_processes(tmp_path):
    # Protobuf maps (an Example's features) serialise in hash order unless told otherwise.
    import hashlib
    import os
    import subprocess
    import sys

    digests = []
    for hash_seed in ("1", "2"):
        out = tmp_path / hash_seed
        code = f"from course_lib.data import synthetic; synthetic.write_synthetic({str(out)!r}, 40, 2, 5, progress=False)"
        subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ, "PYTHONHASHSEED": hash_seed})
        digests.append([hashlib.md5(f.read_bytes()).hexdigest() for f in sorted(out.glob("*.tfrecord"))])
    assert digests[0] == digests[1]


def _bench():
    """``bench/sample_vs_real.py``, where the statistics and their tolerances are defined once."""
    import importlib.util
    import sys

    path = Path(__file__).resolve().parents[2] / "bench" / "sample_vs_real.py"
    sys.path.insert(0, str(path.parent))
    spec = importlib.util.spec_from_file_location("sample_vs_real", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# The real column of bench/sample_vs_real.py on the 20 real validation shards (5,889 videos).
REAL = {
    "labels_mean": 2.992, "labels_one": 0.2615, "game_share": 0.1958, "top10_share": 0.2844,
    "top100_share": 0.6159, "count_spearman": 0.716, "arts": 0.3948, "games": 0.2416, "autos": 0.1326,
    "sports": 0.1250, "food": 0.0448, "same_vertical": 0.699, "rgb_std": 0.4611, "rgb_std_low": 0.3952,
    "rgb_std_high": 0.8117, "audio_std": 0.6868, "audio_std_low": 0.5809, "audio_std_high": 0.9577,
    "rgb_order": -0.973, "audio_order": -0.967, "rgb_kurtosis": 1.688, "audio_edge": 0.0005,
}


@pytest.fixture(scope="module")
def sample_statistics(medium_world):
    bench = _bench()
    x, y = bench.load(sorted(medium_world.glob("*.tfrecord")))
    return bench, {**bench.label_statistics(y), **bench.feature_statistics(x)}


@pytest.mark.parametrize("key", sorted(REAL))
def test_statistics_match_the_real_shards(sample_statistics, key):
    # 3,000 videos instead of 5,889: the rank correlations and spreads are noisier, count_spearman
    # and the distinct labels depend on the number of videos (the bench compares them at equal size).
    bench, stats = sample_statistics
    if key == "count_spearman":
        assert 0.55 < stats[key] < 0.8
    else:
        assert bench.within(key, REAL[key], stats[key]), (key, REAL[key], stats[key])


def test_features_are_nearly_uncorrelated(sample_statistics, medium_world):
    # Real shards: the top-10 principal components hold 1.4x (rgb) and 1.4x (audio) the share they
    # hold in Gaussian noise of the same size; a low-rank class structure would hold far more.
    bench, stats = sample_statistics
    noise = np.random.default_rng(0).standard_normal((3000, 1152))
    assert stats["rgb_top10_pc"] < 2.0 * bench.top_pc_share(noise[:, :1024])
    assert stats["audio_top10_pc"] < 1.6 * bench.top_pc_share(noise[:, 1024:])


def test_label_signal_leads_as_after_pca():
    # The generator rotates each modality onto principal axes ordered by the label variance along
    # them: the informative dimensions are the leading ones and hold most of every label's signal.
    world = synthetic.World(7)
    for part in (slice(0, 1024), slice(1024, None)):
        informative = world.informative[part]
        k = informative.sum()
        assert informative[:k].all() and not informative[k:].any()
        energy = (world.label_signal[:, part].astype(np.float64) ** 2).sum(axis=0)
        assert energy[:k].sum() > 0.8 * energy.sum()
        assert energy[: k // 2].sum() > 1.5 * energy[k // 2 : k].sum()


def test_statistics_at_equal_size_on_real_shards(real_shards, tmp_path):
    bench = _bench()
    synthetic.write_synthetic(tmp_path, videos=5889, shards=4, seed=3, progress=False)
    sample_x, sample_y = bench.load(sorted(tmp_path.glob("*.tfrecord")))
    real_x, real_y = bench.load(real_shards)
    real = {**bench.label_statistics(real_y), **bench.feature_statistics(real_x)}
    sample = {**bench.label_statistics(sample_y), **bench.feature_statistics(sample_x)}
    misses = {key: (real[key], sample[key]) for key in real if not bench.within(key, real[key], sample[key])}
    # The one statistic not reached yet has its own strict xfail (test_audio_has_no_pile_up_inside_the_edge).
    assert set(misses) <= {"audio_tail"}, misses


@pytest.mark.xfail(strict=True, reason="issue 10, open: the tanh squash of the audio tails leaves a bump below 1.97 (bench: 0.44 % of audio values beyond 1.95 against 0.14 % real)")
def test_audio_has_no_pile_up_inside_the_edge(sample_statistics):
    bench, stats = sample_statistics
    assert stats["audio_tail"] < 0.0025, stats["audio_tail"]


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


def test_baselines_rank_as_on_real_data(medium_world):
    # Real shards at the bench's size (bench/sample_vs_real.py, 4,438 train videos): the nearest
    # centroid is the weakest of the three, MAP@10 0.35 against FCN 0.42 and logistic 0.61 (GAP@20
    # 0.22 / 0.37 / 0.45); README's table has the sample's column. Here at CI size, 2,400 train and
    # 600 validate videos. On the first 2,400 and 600 real ones the FCN's 5 epochs are too few to
    # pass the centroid on MAP@10 (0.315 against 0.351), though it does on GAP@20 (0.232 against
    # 0.211); the logistic model beats it on both. The sample must rank them the same way.
    bench = _bench()
    x, y = bench.load(sorted(medium_world.glob("train*.tfrecord")))
    x_val, y_val = bench.load(sorted(medium_world.glob("validate*.tfrecord")))
    scores = {"centroid": bench.centroid_scores(x, y, x_val)}
    for name in ("logistic", "fcn"):
        scores[name] = bench.train_scores(name, x, y, x_val)
    map10 = {name: metrics.map_at_k(y_val, s, 10) for name, s in scores.items()}
    gap20 = {name: metrics.gap_at_k(y_val, s, 20) for name, s in scores.items()}
    assert map10["centroid"] < map10["logistic"] and map10["fcn"] < map10["logistic"], map10
    assert gap20["centroid"] < min(gap20["fcn"], gap20["logistic"]), gap20


def test_task_structure_is_the_documented_ground_truth(tiny_world):
    truth = synthetic.task_structure(seed=7, relatedness=0.3)
    cosine, group, sign = np.array(truth["cosine"]), np.array(truth["group"]), np.array(truth["sign"])
    same = group[:, None] == group[None, :]
    np.testing.assert_allclose(np.diag(cosine), 1.0, atol=1e-6)
    off = same & ~np.eye(25, dtype=bool)
    np.testing.assert_allclose(cosine[off], 0.3 * (sign[:, None] * sign[None, :])[off], atol=1e-6)
    np.testing.assert_allclose(cosine[~same], 0.0, atol=1e-6)
    assert [len(g) for g in truth["groups"]] == [5] * 5
    assert (sign < 0).sum() == 5 and (np.array(truth["label_noise"]) > 0).sum() == 5
    # The directions the features are drawn from have exactly these cosines.
    world = synthetic.World(7, relatedness=0.3)
    assert json.loads((tiny_world / "SYNTHETIC.json").read_text())["task_structure"]["relatedness"] == 0.5
    np.testing.assert_allclose(world.vertical_dirs @ world.vertical_dirs.T, cosine, atol=1e-5)


def test_relatedness_is_the_one_knob(tmp_path):
    with pytest.raises(ValueError, match="relatedness"):
        synthetic.write_synthetic(tmp_path, videos=10, shards=2, relatedness=1.5)
    low, high = synthetic.task_structure(1, 0.0), synthetic.task_structure(1, 0.9)
    assert low["groups"] == high["groups"] and low["sign"] == high["sign"]
    assert np.abs(np.array(low["cosine"]) - np.eye(25)).max() < 1e-6
    assert cli.main(["synth", "--out", str(tmp_path), "--videos", "20", "--shards", "2", "--relatedness", "0.8"]) == 0
    assert json.loads((tmp_path / "SYNTHETIC.json").read_text())["task_structure"]["relatedness"] == 0.8


def test_bad_arguments():
    with pytest.raises(ValueError, match="shards"):
        synthetic.write_synthetic("unused", videos=10, shards=1)
    with pytest.raises(ValueError, match="validate_fraction"):
        synthetic.write_synthetic("unused", videos=10, shards=2, validate_fraction=1.5)
    assert [synthetic.shard_code(i) for i in (0, 96, 3843)] == ["aa", "bI", "99"]


def test_ensure_sample_generates_once(tmp_path, monkeypatch):
    monkeypatch.setattr(synthetic, "SAMPLE_ARGS", {"videos": 40, "shards": 2, "seed": 1, "validate_fraction": 0.5})
    stale = tmp_path / "sample"
    stale.mkdir()
    (stale / "SYNTHETIC.json").write_text(json.dumps({**synthetic.SAMPLE_ARGS, "generator": "an older one"}))
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
