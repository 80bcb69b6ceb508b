"""N-way K-shot episodes: the tasks a meta-learner trains and is tested on.

Taught in notebook 08. An episode (a task T_i) draws N classes, relabels them 0..N-1 in a random
order, and takes K support examples (D_i^tr) and Q query examples (D_i^ts) of each::

    classes  c_1..c_N ~ the split's classes, without replacement     (labels re-drawn per episode)
    support  K examples of each class, labelled by its episode label  -> (N*K, ...)
    query    Q other examples of each class                          -> (N*Q, ...)

Meta-training maximises sum_i log p(D_i^ts | f_theta(D_i^tr)); meta-testing draws episodes from
classes never seen in meta-training, and "test and train conditions must match" (Vinyals et al.
2016): the same N and K in both. Evaluation uses a fixed, seeded list of episodes so two models are
compared on the same tasks.
"""

import numpy as np


class EpisodeSampler:
    """Draws N-way K-shot episodes from the examples of a set of classes.

    Args:
        data: the examples, one entry per class: an array ``(classes, examples, ...)`` (every class
            the same size; sampled vectorised) or a list of arrays ``(examples_c, ...)``.
        num_ways: N, classes per episode.
        num_shots: K, support examples per class.
        num_queries: Q, query examples per class. Default 1.
        seed: seeds the stream of episodes.

    Example:

    >>> data = np.arange(10 * 5).reshape(10, 5, 1).astype("float32")  # 10 classes of 5 examples
    >>> episode = EpisodeSampler(data, num_ways=3, num_shots=2, num_queries=1, seed=0).sample(4)
    >>> episode["support"].shape, episode["support_labels"].shape, episode["query"].shape
    ((4, 6, 1), (4, 6), (4, 3, 1))
    """

    def __init__(self, data, num_ways, num_shots, num_queries=1, seed=0):
        for name, value in (("num_ways", num_ways), ("num_shots", num_shots), ("num_queries", num_queries)):
            if int(value) != value or value < 1:
                raise ValueError(f"{name} must be a positive integer. Received: {name}={value!r}")
        sizes = [len(examples) for examples in data]
        if len(sizes) < num_ways:
            raise ValueError(f"num_ways is larger than the number of classes ({len(sizes)}). Received: num_ways={num_ways}")
        if min(sizes) < num_shots + num_queries:
            raise ValueError(
                f"every class needs num_shots + num_queries examples; the smallest has {min(sizes)}. "
                f"Received: num_shots={num_shots}, num_queries={num_queries}"
            )
        self.data = data
        self.num_ways, self.num_shots, self.num_queries = int(num_ways), int(num_shots), int(num_queries)
        self.rng = np.random.default_rng(seed)

    def _draw(self, rng, batch_size):
        """Class ids ``(B, N)`` and example ids ``(B, N, K + Q)``."""
        num_classes, per_class = len(self.data), self.num_shots + self.num_queries
        keys = rng.random((batch_size, num_classes))
        picked = np.argpartition(keys, self.num_ways - 1, axis=1)[:, : self.num_ways]
        # Order the picked classes by their random keys: the episode labels are a random order.
        classes = np.take_along_axis(picked, np.argsort(np.take_along_axis(keys, picked, 1), 1), 1)
        if isinstance(self.data, np.ndarray):
            examples = np.argsort(rng.random((batch_size, self.num_ways, self.data.shape[1])), axis=2)[..., :per_class]
        else:
            examples = np.array(
                [[rng.choice(len(self.data[c]), per_class, replace=False) for c in row] for row in classes]
            )
        return classes, examples

    def _gather(self, classes, examples):
        """Examples ``(B, N, K + Q, ...)``; the episode label of ``classes[:, n]`` is ``n``."""
        if isinstance(self.data, np.ndarray):
            return self.data[classes[..., None], examples]
        return np.stack([np.stack([self.data[c][e] for c, e in zip(cs, es)]) for cs, es in zip(classes, examples)])

    def sample(self, batch_size=1, rng=None):
        """A batch of episodes: a dict of ``support`` ``(B, N*K, ...)``, ``support_labels`` ``(B, N*K)``,
        ``query`` ``(B, N*Q, ...)``, ``query_labels`` ``(B, N*Q)`` and the drawn ``classes`` ``(B, N)``.

        Support and query are grouped by label (label n at rows n*K .. n*K + K - 1); labels are the
        position of the class in ``classes``, which is a fresh random order every episode.
        """
        rng = self.rng if rng is None else rng
        classes, examples = self._draw(rng, batch_size)
        items = self._gather(classes, examples)
        support, query = items[:, :, : self.num_shots], items[:, :, self.num_shots :]
        label = np.arange(self.num_ways)
        return {
            "support": support.reshape((batch_size, -1) + support.shape[3:]),
            "support_labels": np.broadcast_to(np.repeat(label, self.num_shots), (batch_size, self.num_ways * self.num_shots)).copy(),
            "query": query.reshape((batch_size, -1) + query.shape[3:]),
            "query_labels": np.broadcast_to(np.repeat(label, self.num_queries), (batch_size, self.num_ways * self.num_queries)).copy(),
            "classes": classes,
        }

    def fixed(self, num_episodes, seed=1234):
        """``num_episodes`` episodes drawn from their own seed: the same list on every call."""
        return self.sample(num_episodes, rng=np.random.default_rng(seed))


def mann_inputs(episode, num_ways, shuffle_query=True, seed=0):
    """Episodes in the layout of CS330 homework 1: ``(images, labels)`` of shapes
    ``(B, K + 1, N, D)`` and ``(B, K + 1, N, N)`` (one-hot), the last of the K + 1 sets the query.

    Set k < K holds one support example of each class in label order; the query set holds one
    example of each class, in a random order per episode when ``shuffle_query`` (otherwise its
    labels are always 0, 1, ..., N-1 and a model can answer from the position alone). The episode
    must have ``num_queries=1``.
    """
    support, query = episode["support"], episode["query"]
    batch, num_support = support.shape[:2]
    if query.shape[1] != num_ways or num_support % num_ways:
        raise ValueError(f"the episode must be N-way with one query per class. Received: num_ways={num_ways}")
    shots = num_support // num_ways
    flat = lambda x: x.reshape(x.shape[:2] + (-1,))  # noqa: E731
    images = np.concatenate([flat(support).reshape(batch, num_ways, shots, -1).transpose(0, 2, 1, 3),
                             flat(query)[:, None]], axis=1)
    labels = np.broadcast_to(np.eye(num_ways, dtype=np.float32), (batch, shots + 1, num_ways, num_ways)).copy()
    if shuffle_query:
        order = np.argsort(np.random.default_rng(seed).random((batch, num_ways)), axis=1)
        images[:, -1] = np.take_along_axis(images[:, -1], order[..., None], axis=1)
        labels[:, -1] = np.take_along_axis(labels[:, -1], order[..., None], axis=1)
    return images.astype(np.float32), labels
