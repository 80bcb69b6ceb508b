"""A synthetic YouTube-8M in the exact real format: the course's embedded default.

``python -m course_lib synth --out DIR --videos N --shards S --seed K --relatedness R`` writes
``train0000.tfrecord ...`` and ``validate0000.tfrecord ...``: video-level ``tf.train.Example``
records with ``id``, ``labels``, ``mean_rgb`` (1,024 floats) and ``mean_audio`` (128 floats), as
in the 2018 release. Same arguments, same bytes. ``bench/sample_vs_real.py`` compares the sample
with real shards, statistic by statistic and baseline by baseline.

The generative model (one "world" per seed; train and validate shards share it):

Labels.
    The real vocabulary (3,862 labels, 25 verticals). A video has a primary vertical ``v``
    and a number of labels ``n`` from the histogram of the real validation shards (1 to 15, mean
    3.0). The first label is drawn from ``v``; each further one from ``v`` with probability 0.85,
    else from any vertical; labels are distinct. Three things are fitted when the world is made
    (a few rounds over 10,000 drawn videos): each label's draw weight, so that its frequency
    follows ``TrainVideoCount`` (Game in 20 % of videos; labels rarer than about 1 in 300 keep
    weights proportional to ``TrainVideoCount``); the prior of the primary vertical, so that the
    share of videos with a label in each vertical is the real shards' (:data:`VERTICAL_VIDEOS`);
    and a per-vertical tilt ``theta_v``: the label counts are dealt to the videos in the order of
    ``theta_v + Gumbel noise``, so food videos carry about four food labels and arts videos two,
    as in the real shards, while the histogram of ``n`` stays exact.

Features.
    Uncorrelated dimensions with decreasing spreads, like PCA-ed real features; a label signal
    strongest along the leading dimensions; and a nuisance that fools a training-free classifier.
    Each label ``l`` of vertical ``v`` has a signal ``w_l = A s_v m_l (sqrt(b) u_v + sqrt(1 - b) e_l)``
    with unit directions ``u_v`` (the vertical's, see the task structure below and
    :mod:`course_lib.data.synthetic_tasks`) and ``e_l`` (the
    label's own, Gaussian), both on a fixed set of informative dimensions; ``A = SIGNAL`` = 14
    against unit noise in each of 1,152 dimensions; ``b = VERTICAL_SHARE`` = 0.3; ``s_v`` the
    vertical's strength; ``m_l`` proportional to ``TrainVideoCount ** 0.1`` (``SPECIFICITY``),
    normalised to 1 per label occurrence: frequent labels show a little more. A video's latent is
    ``z = q sum_l w_l + c_s + eps``: the sum over its labels, times an amplitude
    ``q = sqrt(Gamma(1.2) / 1.2)`` (``SIGNAL_SHAPE``: some videos show their labels faintly);
    plus the centre ``c_s`` of the video's style, one of ``NUM_STYLES`` = 200 drawn independently of
    its labels (the look of a video: a static picture with music, a talking head, gameplay), of
    norm 0.7 per dimension (``STYLE_NORM``); plus unit Gaussian noise ``eps``. Videos of one style
    are near each other whatever their labels, so the class centroid of a rare label (its few
    videos) is close to every video of their styles: the training-free nearest centroid ranks such
    labels too high, as on real shards, while a trained model learns to ignore the styles.
    Each modality is then rotated onto the principal axes of the covariance of the label signals
    and the styles (:meth:`World._rotate_to_principal_axes`), ordered by the label variance along
    them, so the dimensions are uncorrelated and the leading ones carry the most label information
    (:attr:`World.informative`: the leading 45 % of rgb and 60 % of audio dimensions, which hold
    about 97 to 99 % of the label variance). Eight styles are left out of that covariance
    (``STYLES_OUTSIDE_PCA``): a little correlation stays, as in real features, whose principal
    axes were fitted on frames rather than on video means. Each dimension ``d`` is standardised
    and given the spread ``a + b' (1 + d / c) ** -p`` fitted to the real shards (:data:`SPREAD`;
    about 0.79 down to 0.40 for rgb, 0.93 down to 0.6 for audio, jittered by 0.5 %), so spreads
    decrease with the index as after PCA. The noise of each modality of a video is scaled by
    ``r = sqrt(Gamma(k) / k)`` (:data:`SCALE_SHAPE`; real frame means vary a lot in norm): for rgb
    this scale mixture gives the real excess kurtosis of about 1.5; audio stays near Gaussian. A
    small offset is added and tails beyond 1.5 are compressed smoothly (``tanh``) below 1.97, so
    values stay in the real range [-1.9921875, 2.0078125] with no pile-up at its edges; one
    calibration pass corrects the scales so the spreads hold after the scale mixture and the tails.

Task structure (the ground truth for notebooks 04-07).
    See :mod:`course_lib.data.synthetic_tasks` (:func:`task_structure`, re-exported here).

Label noise.
    Each label of a noisy vertical is replaced, with that vertical's probability (0.2 to 0.3), by
    another label of the vertical drawn by the same weights, after the features were drawn.

Ids.
    Four characters like the real ones: two for the video, two for the shard (``a-z A-Z 0-9``),
    distinct across every shard written with one seed.

So the three baselines rank and score as on real data (a trained logistic model first, then the
FCN, the training-free nearest class centroid last on GAP@20; ``bench/sample_vs_real.py``),
per-vertical heads have related, conflicting, noisy and harder tasks to show, and the l1/l2
row-sparse first layer of notebook 03b has informative and uninformative inputs to tell apart.
"""

import hashlib
import itertools
import json
import os
from pathlib import Path

import numpy as np
import tensorflow as tf
from tqdm import tqdm

from course_lib.data import spec
from course_lib.data.options import SAMPLE_ARGS
from course_lib.data.names import CODES, shard_code, split_plan
from course_lib.data.synthetic_tasks import NUM_GROUPS, task_structure  # noqa: F401 (re-exported)
from course_lib.data.vocabulary import TRAIN_VIDEOS, load_vocabulary

# Labels per video in the 20 real validation shards (n = 1 .. 15).
LABEL_COUNT_HISTOGRAM = np.array([1540, 1290, 1024, 927, 539, 259, 156, 84, 31, 18, 13, 2, 3, 1, 2])
# Videos with a label in each vertical (in Vocabulary.vertical_names order), in the same 5,889 videos:
# food videos carry four food labels each, arts videos two (label_statistics in bench/sample_vs_real.py).
VERTICAL_VIDEOS = np.array([1423, 2325, 781, 459, 264, 429, 736, 242, 55, 311, 127, 155, 187, 217, 88, 33, 51, 76,
                            133, 21, 52, 12, 40, 8, 19]) / 5889
FEATURE_LOW, FEATURE_HIGH = spec.FEATURE_RANGE
SQUASH_FROM, SQUASH_TO = 1.5, 1.97  # tails beyond 1.5 are compressed smoothly below 1.97: no pile-up at +-2
SAME_VERTICAL = 0.85
# Spread of dimension d (fitted to the real shards): a + b (1 + d / c) ** -p, per modality.
SPREAD = {"rgb": (0.3516, 0.44, 19.35, 0.466), "audio": (0.4319, 0.50, 20.98, 0.5)}
SPREAD_JITTER = 0.005  # log-normal, per dimension
SCALE_SHAPE = {"rgb": 1.1, "audio": 30.0}  # per-video scale r = sqrt(Gamma(k) / k): rgb excess kurtosis ~3 / k
SIGNAL = 14.0  # typical norm of a label's signal, against unit noise in each of the 1,152 dimensions
SPECIFICITY = -0.1  # a label's signal norm goes as TrainVideoCount ** -SPECIFICITY: frequent labels a little stronger
# Tuning knobs kept at their chosen values (bench/sample_vs_real.py measured the alternatives):
COUNT_POWER = 0.0  # a video's signal: the sum of its labels' divided by n ** COUNT_POWER
SCALE_SIGNAL = 0  # 1: the per-video scale r multiplies signal and noise; 0: the noise only
SIGNAL_SHAPE = 1.2  # per-video signal amplitude q = sqrt(Gamma(k) / k): some videos show their labels faintly
VERTICAL_SHARE = 0.3  # share of a label's direction that is its vertical's
# Nuisance styles (the look of a video: a static picture with music, a talking head, gameplay
# footage): each video has one of NUM_STYLES, drawn independently of its labels, and the style adds
# its centre, of norm STYLE_NORM per sqrt(dimension) against unit noise.
NUM_STYLES = 200
STYLE_NORM = 0.7
STYLES_OUTSIDE_PCA = 8  # styles left out of the rotation's covariance: some correlation stays, as in real features
MANIFEST = "SYNTHETIC.json"
# A changed generator regenerates the sample.
GENERATOR = hashlib.sha256(b"".join(Path(__file__).with_name(name).read_bytes()
                                    for name in ("synthetic.py", "synthetic_tasks.py"))).hexdigest()[:16]


def _spread(rng, name, size):
    a, b, c, p = SPREAD[name]
    return (a + b * (1 + np.arange(size) / c) ** -p) * np.exp(rng.normal(0, SPREAD_JITTER, size))


def _squash(x):
    """Identity up to ``SQUASH_FROM``; beyond, tanh-compressed to stay inside ``SQUASH_TO``."""
    room = np.float32(SQUASH_TO - SQUASH_FROM)
    excess = np.abs(x) - np.float32(SQUASH_FROM)
    tail = excess > 0
    x[tail] = np.sign(x[tail]) * (np.float32(SQUASH_FROM) + room * np.tanh(excess[tail] / room))
    return x


class World:
    """The parameters of one synthetic YouTube-8M, drawn from ``seed`` (see the module docstring)."""

    def __init__(self, seed, vocabulary=None, relatedness=SAMPLE_ARGS["relatedness"]):
        self.vocabulary = vocabulary or load_vocabulary()
        voc = self.vocabulary
        rng = np.random.default_rng([seed, 0])
        dims = spec.RGB_SIZE + spec.AUDIO_SIZE
        self.is_audio = np.arange(dims) >= spec.RGB_SIZE
        self._fit_label_weights(np.random.default_rng([seed, 5]))

        self.truth = task_structure(seed, relatedness, voc)
        coordinates = self.truth.pop("_coordinates")
        # Informative dimensions: more of them among the leading (high-variance) ones, as in PCA.
        position = np.concatenate([np.arange(spec.RGB_SIZE) / spec.RGB_SIZE, np.arange(spec.AUDIO_SIZE) / spec.AUDIO_SIZE])
        chance = np.where(self.is_audio, 0.8 - 0.4 * position, 0.7 - 0.5 * position)
        self.informative = rng.random(dims) < chance
        basis = np.linalg.qr(rng.standard_normal((dims, coordinates.shape[1])) * self.informative[:, None])[0]
        self.vertical_dirs = vertical_dirs = (coordinates @ basis.T).astype(np.float32)  # (verticals, dims) u_v
        label_dirs = rng.standard_normal((voc.num_classes, dims)) * self.informative
        label_dirs /= np.linalg.norm(label_dirs, axis=1, keepdims=True)
        norm = voc.train_counts.astype(np.float64) ** -SPECIFICITY
        norm /= np.sqrt((voc.train_counts * norm**2).sum() / voc.train_counts.sum())  # 1 per label occurrence
        strength = (np.asarray(self.truth["strength"])[voc.vertical_ids] * norm)[:, None]
        self.label_signal = (SIGNAL * strength * (np.sqrt(VERTICAL_SHARE) * vertical_dirs[voc.vertical_ids]
                             + np.sqrt(1 - VERTICAL_SHARE) * label_dirs)).astype(np.float32)
        self.label_noise = np.asarray(self.truth["label_noise"])

        spread = np.concatenate([_spread(rng, "rgb", spec.RGB_SIZE), _spread(rng, "audio", spec.AUDIO_SIZE)])
        self.spread = spread.astype(np.float32)
        self.offset = np.where(self.is_audio, rng.normal(0, 0.02, dims), rng.normal(0.01, 0.01, dims)).astype(np.float32)
        self.style_centres = np.random.default_rng([seed, 7]).standard_normal((NUM_STYLES, dims), dtype=np.float32)
        self.style_centres *= np.float32(STYLE_NORM)
        self._rotate_to_principal_axes(np.random.default_rng([seed, 8]))
        # Standardise each latent dimension over a calibration draw.
        calibration = np.random.default_rng([seed, 1])
        labels = self.draw_labels(calibration, 4096)
        styles = calibration.integers(NUM_STYLES, size=4096)
        latent = self._latent(np.random.default_rng([seed, 2]), labels, styles)
        self.latent_mean = latent.mean(0, dtype=np.float64).astype(np.float32)
        self.latent_std = latent.std(0)
        self.latent_scale = (self.spread / self.latent_std).astype(np.float32)
        # One correction, so that the spreads hold after the per-video scale and the squashed tails.
        features = np.concatenate(self.draw_features(np.random.default_rng([seed, 10]), labels), axis=1)
        self.latent_scale *= self.spread / features.std(0)

    def _rotate_to_principal_axes(self, rng, videos=20_000):
        """Rotate each modality onto the principal axes of the covariance of the label signals and
        the styles, so that the dimensions are uncorrelated, as after PCA. The axes are ordered by the
        label signal's variance along them: the leading dimensions carry the most label information
        (and get the largest spreads). ``informative`` becomes as many leading dimensions as there
        were informative ones (they hold 97 to 99 % of the label variance)."""
        signal = self._latent(rng, self.draw_labels(rng, videos), noise_scale=0.0).astype(np.float64)
        informative = np.zeros_like(self.informative)
        for part in (slice(0, spec.RGB_SIZE), slice(spec.RGB_SIZE, None)):
            between = np.cov(signal[:, part], rowvar=False)
            styles = self.style_centres[STYLES_OUTSIDE_PCA:, part].astype(np.float64)
            covariance = between + np.cov(styles, rowvar=False, bias=True)
            rotation = np.linalg.eigh(covariance)[1][:, ::-1]
            along = np.einsum("ij,ik,kj->j", rotation, between, rotation)  # label variance along each axis
            rotation = rotation[:, np.argsort(-along, kind="stable")].astype(np.float32)
            self.label_signal[:, part] = self.label_signal[:, part] @ rotation
            self.style_centres[:, part] = self.style_centres[:, part] @ rotation
            self.vertical_dirs[:, part] = self.vertical_dirs[:, part] @ rotation
            informative[part][: self.informative[part].sum()] = True
        self.informative = informative

    def _fit_label_weights(self, rng, rounds=8, videos=10_000):
        """Fit the draw so that label frequencies follow TrainVideoCount and videos per vertical the
        real shards: per-label weights, the primary-vertical prior, and each vertical's label count
        tilt ``theta`` (videos of a high-theta vertical get the larger label counts)."""
        voc = self.vocabulary
        target = voc.train_counts / TRAIN_VIDEOS
        fitted = target * videos >= 30  # rarer labels keep weights proportional to TrainVideoCount
        target_occurrences = np.bincount(voc.vertical_ids, target, voc.num_verticals)
        self.label_weight = voc.train_counts.astype(np.float64)
        self.vertical_prior = VERTICAL_VIDEOS / VERTICAL_VIDEOS.sum()
        self.theta = np.zeros(voc.num_verticals)
        for round_ in range(rounds + 1):
            self.vertical_prior /= self.vertical_prior.sum()
            self.label_cdf = []  # per vertical: (label ids, cumulative probabilities)
            for v in range(voc.num_verticals):
                ids = np.flatnonzero(voc.vertical_ids == v)
                cdf = np.cumsum(self.label_weight[ids])
                self.label_cdf.append((ids, cdf / cdf[-1]))
            if round_ == rounds:
                return
            labels = self.draw_labels(rng, videos)
            counts = np.bincount(np.concatenate(labels), minlength=voc.num_classes) / videos
            self.label_weight *= np.clip(np.where(fitted, target / np.maximum(counts, 0.5 / videos), 1.0), 0.5, 2.0)
            video = np.repeat(np.arange(videos), [len(ids) for ids in labels])
            pairs = np.unique(video * voc.num_verticals + voc.vertical_ids[np.concatenate(labels)])
            shares = np.maximum(np.bincount(pairs % voc.num_verticals, minlength=voc.num_verticals) / videos, 0.5 / videos)
            occurrences = np.maximum(np.bincount(voc.vertical_ids, counts, voc.num_verticals), 0.5 / videos)
            self.vertical_prior *= np.clip(VERTICAL_VIDEOS / shares, 0.5, 2.0)
            self.theta += 0.5 * np.log((target_occurrences / VERTICAL_VIDEOS) / (occurrences / shares))

    def draw_labels(self, rng, num_videos):
        """A list of label-id arrays, one per video."""
        counts = rng.choice(len(LABEL_COUNT_HISTOGRAM), num_videos, p=LABEL_COUNT_HISTOGRAM / LABEL_COUNT_HISTOGRAM.sum()) + 1
        slots = 2 * len(LABEL_COUNT_HISTOGRAM)
        primary = rng.choice(len(self.vertical_prior), num_videos, p=self.vertical_prior)
        # The label counts go to the videos in the order of theta[primary] + Gumbel noise.
        n = np.empty_like(counts)
        n[np.argsort(self.theta[primary] + rng.gumbel(size=num_videos), kind="stable")] = np.sort(counts)
        other = rng.choice(len(self.vertical_prior), (num_videos, slots), p=self.vertical_prior)
        same = rng.random((num_videos, slots)) < SAME_VERTICAL
        same[:, 0] = True
        slot_vertical = np.where(same, primary[:, None], other)
        uniform = rng.random((num_videos, slots))
        candidates = np.empty((num_videos, slots), np.int64)
        for v, (ids, cdf) in enumerate(self.label_cdf):
            mask = slot_vertical == v
            candidates[mask] = ids[np.minimum(np.searchsorted(cdf, uniform[mask]), len(ids) - 1)]
        # Keep each row's first occurrences, in order, up to n labels (vectorised np.unique per row).
        order = np.argsort(candidates, axis=1, kind="stable")
        ranked = np.take_along_axis(candidates, order, axis=1)
        repeat = np.zeros_like(candidates, dtype=bool)
        np.put_along_axis(repeat, order[:, 1:], ranked[:, 1:] == ranked[:, :-1], axis=1)
        keep = ~repeat & (np.cumsum(~repeat, axis=1) <= n[:, None])
        return np.split(candidates[keep], np.cumsum(keep.sum(axis=1))[:-1])

    def _latent(self, rng, labels, styles=None, noise_scale=None):
        """``sum_l w_l q / n ** COUNT_POWER + noise_scale * eps``, (videos, dims) float32."""
        sizes = np.array([len(ids) for ids in labels])
        slots = np.zeros((len(labels), sizes.max()), np.int64)
        slots[np.arange(slots.shape[1]) < sizes[:, None]] = np.concatenate(labels)
        latent = rng.standard_normal((len(labels), self.label_signal.shape[1]), dtype=np.float32)
        if noise_scale is not None:
            latent *= noise_scale
        typical = np.sqrt(rng.gamma(SIGNAL_SHAPE, 1 / SIGNAL_SHAPE, len(labels)))
        weight = (typical / sizes.astype(np.float64) ** COUNT_POWER).astype(np.float32)
        for j in range(slots.shape[1]):  # the j-th label of every video that has one
            rows = np.flatnonzero(sizes > j)
            latent[rows] += self.label_signal[slots[rows, j]] * weight[rows, None]
        return latent if styles is None else latent + self.style_centres[styles]

    def draw_features(self, rng, labels):
        """``(mean_rgb, mean_audio)`` float32 arrays for the videos whose labels are given."""
        styles = rng.integers(NUM_STYLES, size=len(labels))
        scale = np.empty((len(labels), len(self.is_audio)), np.float32)
        for name, part in (("rgb", slice(0, spec.RGB_SIZE)), ("audio", slice(spec.RGB_SIZE, None))):
            k = SCALE_SHAPE[name]
            scale[:, part] = np.sqrt(rng.gamma(k, 1 / k, (len(labels), 1)))
        if SCALE_SIGNAL:
            z = (self._latent(rng, labels, styles) - self.latent_mean) * scale * self.latent_scale
        else:
            z = (self._latent(rng, labels, styles, scale) - self.latent_mean) * self.latent_scale
        x = np.clip(_squash(z + self.offset), FEATURE_LOW, FEATURE_HIGH)
        return x[:, : spec.RGB_SIZE], x[:, spec.RGB_SIZE :]

    def corrupt_labels(self, rng, labels):
        """Apply each noisy vertical's label noise (after the features were drawn from the true labels)."""
        noisy = []
        for ids in labels:
            ids = ids.copy()
            verticals = self.vocabulary.vertical_ids[ids]
            flip = rng.random(len(ids)) < self.label_noise[verticals]
            for i in np.flatnonzero(flip):
                label_ids, cdf = self.label_cdf[verticals[i]]
                replacement = label_ids[min(np.searchsorted(cdf, rng.random()), len(label_ids) - 1)]
                if replacement not in ids:
                    ids[i] = replacement
            noisy.append(ids)
        return noisy


def write_synthetic(out, videos=SAMPLE_ARGS["videos"], shards=SAMPLE_ARGS["shards"], seed=SAMPLE_ARGS["seed"],
                    validate_fraction=SAMPLE_ARGS["validate_fraction"], progress=True,
                    relatedness=SAMPLE_ARGS["relatedness"]):
    """Write a synthetic YouTube-8M to folder ``out``; return the list of files written.

    ``relatedness`` (in [0, 1]) is the cosine between the directions of two verticals of one group
    (see :func:`task_structure`). Each shard is written to a temporary name and renamed when
    complete, so an interrupted run never leaves a broken shard under a real name.
    ``SYNTHETIC.json`` records the arguments, the generator's version and the task structure.
    """
    plan = split_plan(int(videos), int(shards), float(validate_fraction))
    if not 0 <= relatedness <= 1:
        raise ValueError(f"relatedness must be in [0, 1]. Received: relatedness={relatedness!r}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    world = World(seed, relatedness=float(relatedness))
    written = []
    with tqdm(total=int(videos), unit="video", desc="synth", disable=None if progress else True) as bar:
        for global_index, (split, index, size) in enumerate(plan):
            rng = np.random.default_rng([seed, 3, global_index])
            labels = world.draw_labels(rng, size)
            rgb, audio = world.draw_features(rng, labels)
            labels = world.corrupt_labels(rng, labels)
            video_codes = rng.permutation(CODES)[:size]
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
                "validate_fraction": float(validate_fraction), "relatedness": float(relatedness),
                "generator": GENERATOR, "task_structure": world.truth}
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
            written = json.loads(manifest.read_text())
            if {k: written.get(k) for k in SAMPLE_ARGS} == SAMPLE_ARGS and written.get("generator") == GENERATOR:
                return out
        except ValueError:
            pass
    for stale in itertools.chain(out.glob("train*.tfrecord"), out.glob("validate*.tfrecord")):
        stale.unlink()
    write_synthetic(out, progress=progress, **SAMPLE_ARGS)
    return out


def main(args):
    """``python -m course_lib synth``."""
    files = write_synthetic(args.out, args.videos, args.shards, args.seed, args.validate_fraction,
                            relatedness=args.relatedness)
    print(f"wrote {len(files)} shards, {args.videos} videos, to {args.out}")
    return 0
