"""The synthetic sample against real YouTube-8M: every statistic a student learns from, side by side.

Prints one table, ``statistic | real | sample | within tolerance?``, with the label statistics, the
vertical mix, the feature structure (spreads, PCA order, correlation spectrum, tails) and three
baselines: the nearest class centroid of notebook 02, a logistic model (5 epochs, the tests'
recipe) and the course's FCN (5 epochs).

    python bench/sample_vs_real.py [--sample-dir data/sample] [--real-dir ../shared/data/yt8m/validate]
                                   [--no-train]

Both sides are compared at the same size: the real side is the 20 real validation shards
(shards 0000-0014 as train, 0015-0019 as validate, as in ``bench/quality.py``); the sample side
takes the same numbers of train and validate videos from the sample's own splits (the sample holds
more). Statistics that depend on the number of videos (distinct labels, the correlation spectrum,
the Spearman correlation of label counts) are computed over the same number of videos. Without the
real shards the real column reads ``-`` and no row is judged. Training the two models takes about
a minute a side on 2 cores; ``--no-train`` skips them.
"""

import argparse
import os
import sys
from pathlib import Path

import numpy as np

from _shards import REAL_DIR, ROOT, real_split

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # before TensorFlow is imported

RGB = slice(0, 1024)
AUDIO = slice(1024, 1152)
# (key, description, kind, tolerance): kind "rel" = relative error, "abs" = absolute difference.
ROWS = (
    ("labels_mean", "labels a video: mean", "rel", 0.10),
    ("labels_one", "share of videos with 1 label", "rel", 0.15),
    ("game_share", "share of videos labelled Game", "rel", 0.10),
    ("top10_share", "top-10 labels' share of label occurrences", "rel", 0.10),
    ("top100_share", "top-100 labels' share of label occurrences", "rel", 0.10),
    ("distinct", "distinct labels in the videos compared", "rel", 0.10),
    ("count_spearman", "Spearman(label count, TrainVideoCount)", "abs", 0.10),
    ("arts", "videos in Arts & Entertainment", "rel", 0.10),
    ("games", "videos in Games", "rel", 0.10),
    ("autos", "videos in Autos & Vehicles", "rel", 0.15),
    ("sports", "videos in Sports", "rel", 0.15),
    ("food", "videos in Food & Drink", "rel", 0.25),
    ("same_vertical", "label pairs of a video in the same vertical", "abs", 0.05),
    ("rgb_std", "rgb std", "rel", 0.05),
    ("rgb_std_low", "rgb per-dimension std: lowest", "rel", 0.10),
    ("rgb_std_high", "rgb per-dimension std: highest", "rel", 0.10),
    ("audio_std", "audio std", "rel", 0.05),
    ("audio_std_low", "audio per-dimension std: lowest", "rel", 0.10),
    ("audio_std_high", "audio per-dimension std: highest", "rel", 0.10),
    ("rgb_order", "Spearman(dimension index, std), rgb", "abs", 0.10),
    ("audio_order", "Spearman(dimension index, std), audio", "abs", 0.10),
    ("rgb_kurtosis", "rgb excess kurtosis", "rel", 0.25),
    ("audio_edge", "audio values at the range edge +-2", "abs", 0.001),
    ("audio_tail", "audio values beyond +-1.95 (a pile-up just inside the edge)", "abs", 0.001),
    ("rgb_top10_pc", "top-10 PCs' share of the correlation spectrum, rgb", "rel", 0.25),
    ("audio_top10_pc", "top-10 PCs' share of the correlation spectrum, audio", "rel", 0.25),
    ("centroid_map", "nearest centroid: MAP@10", "abs", 0.08),
    ("centroid_gap", "nearest centroid: GAP@20", "abs", 0.08),
    ("centroid_rare", "nearest centroid: share of its top 10 from labels with 1-2 train videos", "abs", 0.10),
    ("fcn_gap", "FCN, 5 epochs: GAP@20", "abs", 0.08),
    ("fcn_map", "FCN, 5 epochs: MAP@10", "abs", 0.08),
    ("logistic_gap", "logistic, 5 epochs: GAP@20", "abs", 0.08),
    ("logistic_map", "logistic, 5 epochs: MAP@10", "abs", 0.08),
    ("logistic_hit1", "logistic, 5 epochs: hit@1", "abs", 0.08),
)
PERCENT = {"centroid_rare", "labels_one", "game_share", "top10_share", "top100_share", "arts", "games", "autos", "sports",
           "food", "audio_edge", "audio_tail", "rgb_top10_pc", "audio_top10_pc"}
TRAINED = ("fcn_gap", "fcn_map", "logistic_gap", "logistic_map", "logistic_hit1")


def load(files):
    """``(features (N, 1152) float32, multi-hot labels (N, 3862) bool)`` of the shards, in order."""
    from course_lib.data.pipeline import load_yt8m

    xs, ys = [], []
    for features, labels in load_yt8m([str(f) for f in files], 4096):
        xs.append(np.concatenate([features["mean_rgb"].numpy(), features["mean_audio"].numpy()], axis=1))
        ys.append(labels.numpy().astype(bool))
    return np.concatenate(xs), np.concatenate(ys)


def spearman(a, b):
    """Spearman's rank correlation (average ranks for ties), in NumPy."""
    def ranks(v):
        _, inverse, counts = np.unique(v, return_inverse=True, return_counts=True)
        return (np.cumsum(counts) - (counts - 1) / 2.0)[inverse]
    return float(np.corrcoef(ranks(a), ranks(b))[0, 1])


def label_statistics(y):
    """Label and vertical statistics of a multi-hot matrix ``y`` (videos, 3862)."""
    from course_lib.data.vocabulary import load_vocabulary

    vocabulary = load_vocabulary()
    per_video = y.sum(axis=1)
    counts = y.sum(axis=0).astype(np.float64)
    ordered = np.sort(counts)[::-1] / counts.sum()
    in_vertical = np.stack([y[:, vocabulary.vertical_ids == v].any(axis=1)
                            for v in range(vocabulary.num_verticals)], axis=1).mean(axis=0)
    share = dict(zip(vocabulary.vertical_names, in_vertical))
    one_hot = np.eye(vocabulary.num_verticals)[vocabulary.vertical_ids]
    per_vertical = y.astype(np.float64) @ one_hot  # (videos, verticals) labels in each vertical
    pairs = per_video * (per_video - 1.0)
    return {
        "labels_mean": per_video.mean(),
        "labels_one": (per_video == 1).mean(),
        "game_share": y[:, vocabulary.names.index("Game")].mean(),
        "top10_share": ordered[:10].sum(),
        "top100_share": ordered[:100].sum(),
        "distinct": float((counts > 0).sum()),
        "count_spearman": spearman(counts, vocabulary.train_counts),
        "arts": share["Arts & Entertainment"], "games": share["Games"], "autos": share["Autos & Vehicles"],
        "sports": share["Sports"], "food": share["Food & Drink"],
        "same_vertical": (per_vertical * (per_vertical - 1)).sum() / pairs.sum(),
    }


def top_pc_share(x, k=10):
    """Share of the correlation matrix's eigenvalues (its trace) in the top ``k``."""
    eigenvalues = np.linalg.eigvalsh(np.corrcoef(x.astype(np.float64), rowvar=False))
    return float(np.sort(eigenvalues)[::-1][:k].sum() / eigenvalues.sum())


def feature_statistics(x):
    """Spreads, PCA order, tails, range edge and correlation spectrum of features ``x`` (N, 1152)."""
    from course_lib.data import spec

    stats = {}
    for name, part in (("rgb", x[:, RGB]), ("audio", x[:, AUDIO])):
        dim_std = part.std(axis=0)
        stats.update({f"{name}_std": float(part.std()), f"{name}_std_low": float(dim_std.min()),
                      f"{name}_std_high": float(dim_std.max()),
                      f"{name}_order": spearman(np.arange(len(dim_std)), dim_std),
                      f"{name}_top10_pc": top_pc_share(part)})
    rgb = x[:, RGB].astype(np.float64)
    centred = (rgb - rgb.mean(axis=0)) / rgb.std(axis=0)
    stats["rgb_kurtosis"] = float((centred**4).mean() - 3.0)  # per dimension, averaged
    low, high = spec.FEATURE_RANGE
    audio = x[:, AUDIO]
    stats["audio_edge"] = float(((audio <= low + 0.01) | (audio >= high - 0.01)).mean())
    stats["audio_tail"] = float((np.abs(audio) > 1.95).mean())
    return stats


def centroid_scores(x_train, y_train, x_valid):
    """The nearest class centroid of notebook 02: cosine to each label's mean centred features."""
    centre = x_train.mean(axis=0, dtype=np.float64)
    sums = y_train.T.astype(np.float64) @ (x_train - centre)
    centroids = sums / np.linalg.norm(sums, axis=1, keepdims=True).clip(1e-12)
    queries = (x_valid - centre) / np.linalg.norm(x_valid - centre, axis=1, keepdims=True)
    return queries @ centroids.T


def train_scores(name, x_train, y_train, x_valid, seed=0):
    """Scores of a model trained 5 epochs: ``"logistic"`` (Adam 0.01, batch 64) or ``"fcn"``."""
    import keras

    from course_lib.models.fcn import fcn

    keras.utils.set_random_seed(seed)
    if name == "logistic":
        model = keras.Sequential([keras.Input((1152,)), keras.layers.Dense(3862, activation="sigmoid")])
        model.compile(keras.optimizers.Adam(0.01), "binary_crossentropy")
        model.fit(x_train, y_train.astype(np.float32), batch_size=64, epochs=5, verbose=0)
        return model.predict(x_valid, batch_size=1024, verbose=0)
    split = lambda x: {"mean_rgb": x[:, RGB], "mean_audio": x[:, AUDIO]}  # noqa: E731
    model = fcn(seed=seed)  # outputs {"labels": probabilities}
    model.compile(keras.optimizers.Adam(1e-3), {"labels": "binary_crossentropy"})
    model.fit(split(x_train), {"labels": y_train.astype(np.float32)}, batch_size=256, epochs=5, verbose=0)
    return model.predict(split(x_valid), batch_size=1024, verbose=0)["labels"]


def baselines(x_train, y_train, x_valid, y_valid, train=True):
    """MAP@10 / GAP@20 (and hit@1) of the centroid, and with ``train`` the logistic and FCN models."""
    from course_lib import metrics

    scores = centroid_scores(x_train, y_train, x_valid)
    out = {"centroid_map": metrics.map_at_k(y_valid, scores, 10), "centroid_gap": metrics.gap_at_k(y_valid, scores, 20)}
    # Why the centroid loses: the labels of one or two training videos crowd its top 10.
    top10 = np.argpartition(-scores, 10, axis=1)[:, :10]
    out["centroid_rare"] = (y_train.sum(axis=0)[top10] < 3).mean()
    if train:
        for name in ("logistic", "fcn"):
            scores = train_scores(name, x_train, y_train, x_valid)
            out[f"{name}_map"] = metrics.map_at_k(y_valid, scores, 10)
            out[f"{name}_gap"] = metrics.gap_at_k(y_valid, scores, 20)
            if name == "logistic":
                out["logistic_hit1"] = metrics.hit_at_1(y_valid, scores)
    return {k: float(v) for k, v in out.items()}


def measure(train, valid, train_models=True):
    """Every statistic of ROWS for one side: ``train`` and ``valid`` are ``(x, y)`` pairs."""
    x = np.concatenate([train[0], valid[0]])
    y = np.concatenate([train[1], valid[1]])
    stats = {**label_statistics(y), **feature_statistics(x)}
    stats.update(baselines(*train, *valid, train=train_models))
    return stats


def sample_sides(sample_dir, train_videos, valid_videos):
    """The sample's ``(x, y)`` train and validate pairs, cut to the given numbers of videos."""
    sample_dir = Path(sample_dir)
    train = load(sorted(sample_dir.glob("train*.tfrecord")))
    valid = load(sorted(sample_dir.glob("validate*.tfrecord")))
    return (train[0][:train_videos], train[1][:train_videos]), (valid[0][:valid_videos], valid[1][:valid_videos])


def within(key, real, sample):
    """Whether ``sample`` is within the row's tolerance of ``real``."""
    kind, tolerance = next((kind, tol) for k, _, kind, tol in ROWS if k == key)
    error = abs(sample - real) / abs(real) if kind == "rel" else abs(sample - real)
    return bool(error <= tolerance)


def _format(key, value):
    if value is None:
        return "-"
    if key in PERCENT:
        return f"{100 * value:.2f} %" if key in ("audio_edge", "audio_tail") else f"{100 * value:.1f} %"
    return f"{value:,.0f}" if key == "distinct" else f"{value:.3f}"


def table(real, sample):
    """The comparison as Markdown rows: statistic | real | sample | within tolerance?"""
    lines = ["| statistic | real | sample | tolerance | within? |", "|---|---|---|---|---|"]
    for key, description, kind, tolerance in ROWS:
        if key not in sample:
            continue
        r = None if real is None else real[key]
        bound = f"±{100 * tolerance:.0f} %" if kind == "rel" else (
            f"±{100 * tolerance:.1f} pp" if key in PERCENT else f"±{tolerance:.2f}")
        verdict = "-" if r is None else ("yes" if within(key, r, sample[key]) else "NO")
        lines.append(f"| {description} | {_format(key, r)} | {_format(key, sample[key])} | {bound} | {verdict} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample-dir", default=str(ROOT / "data" / "sample"))
    parser.add_argument("--real-dir", default=str(REAL_DIR), help="folder of validate0000..0019.tfrecord")
    parser.add_argument("--no-train", action="store_true", help="skip the logistic and FCN baselines")
    args = parser.parse_args(argv)
    from course_lib.data.synthetic import ensure_sample

    ensure_sample(args.sample_dir, progress=False)
    split = real_split(args.real_dir)
    real = None
    sizes = (4438, 1451)  # the real split's sizes, used when the real shards are absent
    if split is None:
        print(f"real column skipped: the real shards validate0000-0019 are not in {args.real_dir}")
    else:
        real_train, real_valid = load(split[0]), load(split[1])
        sizes = (len(real_train[1]), len(real_valid[1]))
        real = measure(real_train, real_valid, train_models=not args.no_train)
    sample = measure(*sample_sides(args.sample_dir, *sizes), train_models=not args.no_train)
    print(f"train / validate videos on each side: {sizes[0]:,} / {sizes[1]:,}")
    print(table(real, sample))
    if real is not None:
        misses = [key for key in sample if not within(key, real[key], sample[key])]
        print("every row within tolerance" if not misses else "outside tolerance: " + ", ".join(misses))
    return 0


if __name__ == "__main__":
    sys.exit(main())
