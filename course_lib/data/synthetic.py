"""A synthetic YouTube-8M in the exact real format: the course's embedded default.

``python -m course_lib synth --out DIR --videos N --shards S --seed K`` writes
``train0000.tfrecord ...`` and ``validate0000.tfrecord ...``: video-level ``tf.train.Example``
records with ``id``, ``labels``, ``mean_rgb`` (1,024 floats) and ``mean_audio`` (128 floats), as
in the 2018 release. Same arguments, same bytes.

The generative model (one "world" per seed; train and validate shards share it):

Labels.
    The real vocabulary (3,862 labels, 25 verticals). Each video has a primary vertical ``v``,
    drawn with probability proportional to the summed ``TrainVideoCount`` of its labels. The number
    of labels ``n`` follows the histogram of the real validation shards (1 to 15, mean 3.0, never
    zero). The first label is drawn from ``v``; each further one from ``v`` with probability 0.8,
    else from any vertical; within a vertical, labels are drawn in proportion to
    ``TrainVideoCount``, so label frequencies follow the real long tail. Labels are distinct.

Features.
    A fixed subset ``S`` of informative dimensions (40 % of rgb, 60 % of audio); the others are
    pure noise. Vertical ``v`` has a direction ``u_v`` and label ``l`` a direction
    ``w_l = (u_v(l) + e_l) / sqrt(2)``, both Gaussian on ``S`` (labels of one vertical share
    ``u_v``; verticals differ). Each vertical splits its signal between audio and rgb (an audio
    share drawn in [0.15, 0.85]) and has its own strength ``s_v`` (some verticals are harder).
    A video's latent is ``z = A * sum_l s_v(l) w_l / sqrt(n) + noise`` with unit Gaussian noise.
    Each dimension is then standardised and given a spread like the real data's (per-dimension
    standard deviation 0.40 to 0.81 for rgb, 0.58 to 0.96 for audio; overall about 0.46 and 0.69),
    a small offset, and clipped to the real range [-1.9921875, 2.0078125].

Label noise.
    Some verticals are noisy: each of their labels is replaced, with a per-vertical probability
    up to 0.3, by another label of the same vertical after the features are drawn.

Ids.
    Four characters like the real ones: two for the video, two for the shard (``a-z A-Z 0-9``),
    distinct across every shard written with one seed.

So a logistic baseline learns a clearly non-trivial GAP@20 in a few epochs, per-vertical heads
have verticals of different difficulty to show, and the l1/l2 row-sparse first layer of notebook 03
has informative and uninformative inputs to tell apart.
"""

import itertools
import json
import os
from pathlib import Path

import numpy as np
import tensorflow as tf
from tqdm import tqdm

from course_lib.data import spec
from course_lib.data.names import ID_ALPHABET, shard_code
from course_lib.data.vocabulary import load_vocabulary

# Labels per video in the 20 real validation shards (n = 1 .. 15).
LABEL_COUNT_HISTOGRAM = np.array([1540, 1290, 1024, 927, 539, 259, 156, 84, 31, 18, 13, 2, 3, 1, 2])
FEATURE_LOW, FEATURE_HIGH = spec.FEATURE_RANGE
SAME_VERTICAL = 0.8
SIGNAL = 2.0  # A above: a logistic model then reaches GAP@20 ~0.45 in 5 epochs, as on real shards
SAMPLE_ARGS = {"videos": 10_000, "shards": 10, "seed": 2018, "validate_fraction": 0.2}
MANIFEST = "SYNTHETIC.json"


class World:
    """The parameters of one synthetic YouTube-8M, drawn from ``seed``."""

    def __init__(self, seed, vocabulary=None):
        self.vocabulary = vocabulary or load_vocabulary()
        voc = self.vocabulary
        rng = np.random.default_rng([seed, 0])
        num_verticals, num_classes = voc.num_verticals, voc.num_classes
        dims = spec.RGB_SIZE + spec.AUDIO_SIZE
        self.is_audio = np.arange(dims) >= spec.RGB_SIZE

        counts = voc.train_counts.astype(np.float64)
        self.vertical_prior = np.bincount(voc.vertical_ids, counts, num_verticals)
        self.vertical_prior /= self.vertical_prior.sum()
        self.label_cdf = []  # per vertical: (label ids, cumulative probabilities)
        for v in range(num_verticals):
            ids = np.flatnonzero(voc.vertical_ids == v)
            cdf = np.cumsum(counts[ids])
            self.label_cdf.append((ids, cdf / cdf[-1]))

        informative = np.where(self.is_audio, rng.random(dims) < 0.6, rng.random(dims) < 0.4)
        self.informative = informative
        audio_share = rng.uniform(0.15, 0.85, num_verticals)
        modality = np.where(self.is_audio[None, :], np.sqrt(audio_share)[:, None], np.sqrt(1 - audio_share)[:, None])
        vertical_dirs = rng.standard_normal((num_verticals, dims)) * informative * modality
        label_dirs = rng.standard_normal((num_classes, dims)) * informative * modality[voc.vertical_ids]
        strength = rng.uniform(0.5, 1.5, num_verticals)
        self.strength = strength
        self.label_signal = (
            SIGNAL * strength[voc.vertical_ids, None] * (vertical_dirs[voc.vertical_ids] + label_dirs) / np.sqrt(2)
        ).astype(np.float32)
        self.label_noise = np.where(rng.random(num_verticals) < 0.3, rng.uniform(0.1, 0.3, num_verticals), 0.0)

        spread = np.where(
            self.is_audio,
            0.58 + rng.exponential(0.10, dims),
            0.395 + rng.exponential(0.065, dims),
        )
        self.spread = np.minimum(spread, np.where(self.is_audio, 0.96, 0.81)).astype(np.float32)
        self.offset = rng.normal(0.0, 0.03, dims).astype(np.float32)
        # Standardise each latent dimension with its spread over a calibration draw.
        labels = self.draw_labels(np.random.default_rng([seed, 1]), 4096)
        latent = self._latent(np.random.default_rng([seed, 2]), labels)
        self.latent_mean = latent.mean(0)
        self.latent_std = latent.std(0)

    def draw_labels(self, rng, num_videos):
        """A list of label-id arrays, one per video."""
        n = rng.choice(len(LABEL_COUNT_HISTOGRAM), num_videos, p=LABEL_COUNT_HISTOGRAM / LABEL_COUNT_HISTOGRAM.sum()) + 1
        slots = 2 * len(LABEL_COUNT_HISTOGRAM)
        primary = rng.choice(len(self.vertical_prior), num_videos, p=self.vertical_prior)
        other = rng.choice(len(self.vertical_prior), (num_videos, slots), p=self.vertical_prior)
        same = rng.random((num_videos, slots)) < SAME_VERTICAL
        same[:, 0] = True
        slot_vertical = np.where(same, primary[:, None], other)
        uniform = rng.random((num_videos, slots))
        candidates = np.empty((num_videos, slots), np.int64)
        for v, (ids, cdf) in enumerate(self.label_cdf):
            mask = slot_vertical == v
            candidates[mask] = ids[np.minimum(np.searchsorted(cdf, uniform[mask]), len(ids) - 1)]
        videos = []
        for row, count in zip(candidates, n):
            _, first = np.unique(row, return_index=True)
            videos.append(row[np.sort(first)][:count])
        return videos

    def _latent(self, rng, labels):
        signal = np.stack([self.label_signal[ids].sum(0) / np.sqrt(len(ids)) for ids in labels])
        return signal + rng.standard_normal(signal.shape, dtype=np.float32)

    def draw_features(self, rng, labels):
        """``(mean_rgb, mean_audio)`` float32 arrays for the videos whose labels are given."""
        z = (self._latent(rng, labels) - self.latent_mean) / self.latent_std
        x = np.clip(z * self.spread + self.offset, FEATURE_LOW, FEATURE_HIGH).astype(np.float32)
        return x[:, : spec.RGB_SIZE], x[:, spec.RGB_SIZE :]

    def corrupt_labels(self, rng, labels):
        """Apply each vertical's label noise (after the features were drawn from the true labels)."""
        noisy = []
        for ids in labels:
            ids = ids.copy()
            for i, label in enumerate(ids):
                v = self.vocabulary.vertical_ids[label]
                if self.label_noise[v] and rng.random() < self.label_noise[v]:
                    replacement = rng.choice(self.label_cdf[v][0])
                    if replacement not in ids:
                        ids[i] = replacement
            noisy.append(ids)
        return noisy


def _split_plan(videos, shards, validate_fraction):
    if videos < 2 or shards < 2:
        raise ValueError(f"need at least 2 videos and 2 shards (one per split). Received: videos={videos}, shards={shards}")
    if not 0 < validate_fraction < 1:
        raise ValueError(f"validate_fraction must be in (0, 1). Received: validate_fraction={validate_fraction}")
    val_shards = min(shards - 1, max(1, round(shards * validate_fraction)))
    val_videos = min(videos - 1, max(1, round(videos * validate_fraction)))
    plan = []
    for split, num_shards, num_videos in (
        ("train", shards - val_shards, videos - val_videos),
        ("validate", val_shards, val_videos),
    ):
        sizes = np.full(num_shards, num_videos // num_shards)
        sizes[: num_videos % num_shards] += 1
        plan.extend((split, i, int(size)) for i, size in enumerate(sizes))
    if max(size for *_, size in plan) > len(ID_ALPHABET) ** 2:
        raise ValueError(f"at most {len(ID_ALPHABET) ** 2} videos a shard; use more shards")
    if len(plan) > len(ID_ALPHABET) ** 2:
        raise ValueError(f"at most {len(ID_ALPHABET) ** 2} shards")
    return plan


def write_synthetic(out, videos=SAMPLE_ARGS["videos"], shards=SAMPLE_ARGS["shards"], seed=SAMPLE_ARGS["seed"],
                    validate_fraction=SAMPLE_ARGS["validate_fraction"], progress=True):
    """Write a synthetic YouTube-8M to folder ``out``; return the list of files written.

    Each shard is written to a temporary name and renamed when complete, so an interrupted run
    never leaves a broken shard under a real name. ``SYNTHETIC.json`` records the arguments.
    """
    plan = _split_plan(int(videos), int(shards), float(validate_fraction))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    world = World(seed)
    written = []
    with tqdm(total=int(videos), unit="video", desc="synth", disable=None if progress else True) as bar:
        for global_index, (split, index, size) in enumerate(plan):
            rng = np.random.default_rng([seed, 3, global_index])
            labels = world.draw_labels(rng, size)
            rgb, audio = world.draw_features(rng, labels)
            labels = world.corrupt_labels(rng, labels)
            video_codes = rng.permutation(len(ID_ALPHABET) ** 2)[:size]
            code = shard_code(global_index)
            path = out / f"{split}{index:04d}.tfrecord"
            tmp = path.with_name(path.name + ".tmp")
            with tf.io.TFRecordWriter(str(tmp)) as writer:
                for i in range(size):
                    video_id = shard_code(int(video_codes[i])) + code
                    example = spec.make_example(video_id, labels[i].tolist(), rgb[i], audio[i])
                    writer.write(example.SerializeToString(deterministic=True))  # fixed map order
            os.replace(tmp, path)
            written.append(path)
            bar.update(size)
    manifest = {"videos": int(videos), "shards": int(shards), "seed": int(seed),
                "validate_fraction": float(validate_fraction)}
    tmp = out / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=2) + "\n")
    os.replace(tmp, out / MANIFEST)
    return written


def ensure_sample(out=None, progress=True):
    """Make sure the course has data; return the folder the notebooks read.

    With ``out=None``: when the course reads the embedded sample (no ``YT8M_DATA``, no real data in
    ``data/yt8m``), generate it unless it is already there; otherwise leave everything alone.
    With a folder: generate the sample there unless that folder already holds it.
    """
    from course_lib import settings

    if out is None:
        if settings.data_dir() != settings.sample_data_dir():
            return settings.data_dir()
        out = settings.sample_data_dir()
    out = Path(out)
    manifest = out / MANIFEST
    if manifest.exists():
        try:
            if json.loads(manifest.read_text()) == SAMPLE_ARGS:
                return out
        except ValueError:
            pass
    for stale in itertools.chain(out.glob("train*.tfrecord"), out.glob("validate*.tfrecord")):
        stale.unlink()
    write_synthetic(out, progress=progress, **SAMPLE_ARGS)
    return out


def main(args):
    """``python -m course_lib synth``."""
    files = write_synthetic(args.out, args.videos, args.shards, args.seed, args.validate_fraction)
    print(f"wrote {len(files)} shards, {args.videos} videos, to {args.out}")
    return 0
