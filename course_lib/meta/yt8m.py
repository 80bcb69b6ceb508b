"""Few-shot learning on YouTube-8M labels: episodes whose classes are labels.

Taught in notebook 08. YouTube-8M is multi-label, so an episode's examples need care: an episode
draws N labels, and an example of label l is a video that carries l and *none of the episode's other
labels* (it may carry labels outside the episode). The labels are split between meta-train and
meta-test, so a meta-test episode asks about labels no meta-learner saw; a video can still appear in
both, under different labels. Features are the 1,152 video-level means ``[mean_rgb, mean_audio]``.
"""

import numpy as np

from course_lib.data import pipeline


def load_features(pattern, max_videos=None, batch_size=1024):
    """``(features (V, 1152) float32, labels (V, 3862) bool)`` of the videos in ``pattern``'s shards."""
    features, labels, count = [], [], 0
    for batch, batch_labels in pipeline.load_yt8m(pattern, batch_size):
        features.append(np.concatenate([batch["mean_rgb"].numpy(), batch["mean_audio"].numpy()], axis=1))
        labels.append(batch_labels.numpy() > 0)
        count += len(labels[-1])
        if max_videos is not None and count >= max_videos:
            break
    features, labels = np.concatenate(features), np.concatenate(labels)
    return features[:max_videos], labels[:max_videos]


def split_labels(labels, min_videos=20, test_fraction=0.3, seed=0):
    """``{"train": ids, "test": ids}``: the labels with at least ``min_videos`` videos, split at random."""
    frequent = np.flatnonzero(labels.sum(axis=0) >= min_videos)
    if len(frequent) < 4:
        raise ValueError(f"fewer than 4 labels have {min_videos} videos. Received: min_videos={min_videos}")
    order = np.random.default_rng(seed).permutation(frequent)
    cut = int(round(len(order) * (1 - test_fraction)))
    return {"train": np.sort(order[:cut]), "test": np.sort(order[cut:])}


class LabelEpisodeSampler:
    """N-way K-shot episodes over labels: the same dict as ``EpisodeSampler.sample``.

    Args:
        features: ``(V, D)`` video features. labels: ``(V, C)`` bool multi-hot labels.
        label_ids: the labels episodes draw from (one side of :func:`split_labels`).
        num_ways, num_shots, num_queries: N, K, Q.
        seed: seeds the stream of episodes.

    Example:

    >>> labels = np.eye(6, dtype=bool)[np.arange(60) % 6]
    >>> sampler = LabelEpisodeSampler(np.eye(60), labels, np.arange(6), 3, 2, num_queries=2)
    >>> sampler.sample(4)["support"].shape
    (4, 6, 60)
    """

    def __init__(self, features, labels, label_ids, num_ways, num_shots, num_queries=1, seed=0):
        if len(label_ids) < num_ways:
            raise ValueError(f"num_ways is larger than the number of labels ({len(label_ids)}). Received: num_ways={num_ways}")
        self.label_ids = np.asarray(label_ids)
        # Only the pool's columns, only videos with a pool label: far less to scan per episode.
        pool = np.asarray(labels)[:, self.label_ids]
        keep = pool.any(axis=1)
        self.features, self.labels = np.asarray(features)[keep], pool[keep]
        self.num_ways, self.num_shots, self.num_queries = int(num_ways), int(num_shots), int(num_queries)
        self.rng = np.random.default_rng(seed)

    def _episode(self, rng):
        need = self.num_shots + self.num_queries
        for _ in range(1000):
            chosen = rng.choice(len(self.label_ids), self.num_ways, replace=False)
            carries = self.labels[:, chosen]
            exclusive = carries & (carries.sum(axis=1, keepdims=True) == 1)
            if exclusive.sum(axis=0).min() >= need:
                videos = np.stack([rng.choice(np.flatnonzero(exclusive[:, n]), need, replace=False)
                                   for n in range(self.num_ways)])
                return self.label_ids[chosen], videos
        raise ValueError(f"no {self.num_ways} labels with {need} exclusive videos each; lower num_shots or num_queries")

    def sample(self, batch_size=1, rng=None):
        """A batch of episodes; see ``EpisodeSampler.sample``. ``classes`` holds label ids."""
        rng = self.rng if rng is None else rng
        drawn = [self._episode(rng) for _ in range(batch_size)]
        classes = np.stack([c for c, _ in drawn])
        videos = np.stack([v for _, v in drawn])  # (B, N, K + Q)
        items = self.features[videos]
        support, query = items[:, :, : self.num_shots], items[:, :, self.num_shots :]
        label = np.arange(self.num_ways)
        return {
            "support": support.reshape(batch_size, -1, items.shape[-1]),
            "support_labels": np.tile(np.repeat(label, self.num_shots), (batch_size, 1)),
            "query": query.reshape(batch_size, -1, items.shape[-1]),
            "query_labels": np.tile(np.repeat(label, self.num_queries), (batch_size, 1)),
            "classes": classes,
        }

    def fixed(self, num_episodes, seed=1234):
        """``num_episodes`` episodes drawn from their own seed: the same list on every call."""
        return self.sample(num_episodes, rng=np.random.default_rng(seed))


def nearest_mean_accuracy(episode, transform=None):
    """Accuracy per episode ``(B,)`` of nearest class mean (squared Euclidean) on the features,
    optionally after ``transform`` (a function of a ``(M, D)`` array)."""
    support, query = episode["support"], episode["query"]
    if transform is not None:
        shape = support.shape[:2]
        support = transform(support.reshape(-1, support.shape[-1])).reshape(shape + (-1,))
        query = transform(query.reshape(-1, query.shape[-1])).reshape(query.shape[:2] + (-1,))
    ways = episode["classes"].shape[1]
    one_hot = np.eye(ways)[episode["support_labels"]]
    prototypes = np.einsum("bsn,bsd->bnd", one_hot, support) / one_hot.sum(axis=1)[..., None]
    distances = ((query[:, :, None, :] - prototypes[:, None]) ** 2).sum(-1)
    return (distances.argmin(-1) == episode["query_labels"]).mean(axis=1)
