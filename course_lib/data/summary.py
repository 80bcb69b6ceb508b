"""What is in a set of shards: ``python -m course_lib inspect PATTERN``.

Files, videos, labels a video, the most frequent labels with their names, videos per vertical and
feature statistics, streamed batch by batch so it works on any number of shards. Used in
notebook 01 to compare the synthetic sample with real YouTube-8M.
"""

import dataclasses

import numpy as np

from course_lib.data import pipeline, spec
from course_lib.data.options import SUMMARY_TOP
from course_lib.data.vocabulary import load_vocabulary


@dataclasses.dataclass
class ShardSummary:
    """Counts and statistics over a set of shards (see :func:`summarize`)."""

    files: list
    videos: int
    labels_per_video: np.ndarray  # histogram: labels_per_video[n] = videos with n labels
    label_counts: np.ndarray  # (num_classes,) videos per label
    vertical_videos: np.ndarray  # (num_verticals,) videos with at least one label in the vertical
    feature_stats: dict  # name -> {"mean", "std", "min", "max", "dim_std"}

    @property
    def mean_labels(self):
        n = np.arange(len(self.labels_per_video))
        return float((n * self.labels_per_video).sum() / max(self.videos, 1))


def summarize(pattern, batch_size=1024):
    """Stream the shards once and return a :class:`ShardSummary`.

    Raises ``pipeline.ShardError`` naming the file when a shard is truncated or corrupt.
    """
    files = pipeline.list_shards(pattern)
    vocabulary = load_vocabulary()
    dataset = pipeline.load_yt8m(files, batch_size)
    label_counts = np.zeros(spec.NUM_CLASSES, np.int64)
    vertical_videos = np.zeros(vocabulary.num_verticals, np.int64)
    per_video = np.zeros(64, np.int64)
    sums = {name: np.zeros(size) for name, size in spec.FEATURE_SIZES.items()}
    squares = {name: np.zeros(size) for name, size in spec.FEATURE_SIZES.items()}
    low = {name: np.inf for name in spec.FEATURE_SIZES}
    high = {name: -np.inf for name in spec.FEATURE_SIZES}
    videos = 0
    with pipeline.shard_errors(files):
        for features, labels in dataset:
            labels = labels.numpy()
            videos += len(labels)
            label_counts += labels.sum(0).astype(np.int64)
            per_video += np.bincount(labels.sum(1).astype(np.int64), minlength=64)[:64]
            in_vertical = np.zeros((len(labels), vocabulary.num_verticals))
            np.add.at(in_vertical.T, vocabulary.vertical_ids, labels.T)
            vertical_videos += (in_vertical > 0).sum(0)
            for name in spec.FEATURE_SIZES:
                x = features[name].numpy().astype(np.float64)
                sums[name] += x.sum(0)
                squares[name] += (x**2).sum(0)
                low[name] = min(low[name], x.min())
                high[name] = max(high[name], x.max())
    if videos == 0:
        raise pipeline.ShardError(f"{', '.join(files)}: no video in {len(files)} file(s) (empty shards)")
    stats = {}
    for name in spec.FEATURE_SIZES:
        mean = sums[name] / max(videos, 1)
        var = np.maximum(squares[name] / max(videos, 1) - mean**2, 0.0)
        overall_mean = mean.mean()
        overall_var = (var + mean**2).mean() - overall_mean**2
        stats[name] = {
            "mean": float(overall_mean),
            "std": float(np.sqrt(overall_var)),
            "min": float(low[name]),
            "max": float(high[name]),
            "dim_std": np.sqrt(var),
        }
    last = int(np.flatnonzero(per_video).max()) + 1 if per_video.any() else 1
    return ShardSummary(files, videos, per_video[:last], label_counts, vertical_videos, stats)


def format_summary(summary, top=SUMMARY_TOP):
    """The text ``inspect`` prints."""
    vocabulary = load_vocabulary()
    lines = [f"files: {len(summary.files)}  videos: {summary.videos}"]
    distinct = int((summary.label_counts > 0).sum())
    histogram = ", ".join(f"{n}: {c}" for n, c in enumerate(summary.labels_per_video) if c)
    lines.append(f"labels a video: mean {summary.mean_labels:.2f}  ({histogram})")
    lines.append(f"distinct labels: {distinct} of {spec.NUM_CLASSES}")
    lines.append(f"most frequent labels (videos, label id, name, vertical):")
    for label in np.argsort(-summary.label_counts, kind="stable")[:top]:
        if summary.label_counts[label]:
            lines.append(
                f"  {summary.label_counts[label]:>7}  {label:>5}  {vocabulary.name(label)}  [{vocabulary.vertical(label)}]"
            )
    lines.append("videos per vertical (a video counts once in each vertical of its labels):")
    for v in np.argsort(-summary.vertical_videos, kind="stable"):
        lines.append(f"  {summary.vertical_videos[v]:>7}  {vocabulary.vertical_names[v]}")
    lines.append("features:")
    for name, s in summary.feature_stats.items():
        lines.append(
            f"  {name:<10} mean {s['mean']:+.3f}  std {s['std']:.3f}  range [{s['min']:.4f}, {s['max']:.4f}]  "
            f"per-dimension std {s['dim_std'].min():.2f}-{s['dim_std'].max():.2f}"
        )
    return "\n".join(lines)


def main(args):
    """``python -m course_lib inspect``: exit status 2 on a missing pattern or a corrupt shard."""
    if args.top < 0:
        raise ValueError(f"--top must be 0 or more. Received: --top {args.top}")
    print(format_summary(summarize(args.pattern), top=args.top))
    return 0
