"""The YouTube-8M vocabulary: label names and topic verticals, shipped inside the package.

``vocabulary.csv`` beside this module is the official 2018 vocabulary (3,862 rows) without its
``WikiDescription`` column. Credit: YouTube-8M, Google, CC BY 4.0.

Rows in the file are sorted by ``TrainVideoCount``, not by index: every lookup here goes through
the ``Index`` column. ``Vertical1`` takes 25 values, 24 topics and ``(Unknown)``; the course builds
one multi-task head (tower) per vertical, and this module is where the label-to-vertical map lives.

Taught in notebook 01 (label names, videos per vertical); used for per-vertical heads from
notebook 03b on.
"""

import csv
import dataclasses
import functools
import re
from pathlib import Path

import numpy as np

SHIPPED_PATH = Path(__file__).with_name("vocabulary.csv")
REQUIRED_COLUMNS = ("Index", "TrainVideoCount", "Name", "Vertical1")
TRAIN_VIDEOS = 3_888_919  # videos in the 2018 train partition: P(label l) = TrainVideoCount_l / TRAIN_VIDEOS


def slugify(text):
    """A Keras-friendly name: ``"Arts & Entertainment"`` -> ``"arts_entertainment"``."""
    slug = re.sub(r"[^0-9a-z]+", "_", text.lower()).strip("_")
    return slug or "unknown"


@dataclasses.dataclass(frozen=True, eq=False)
class Vocabulary:
    """Label names and verticals, indexed by label id.

    Attributes:
        names: label name of each label id (56 labels have an empty name in the 2018 release).
        train_counts: ``TrainVideoCount`` of each label id, int64 array of shape ``(num_classes,)``.
        vertical_names: the verticals, most labels first (ties by name).
        vertical_ids: index into ``vertical_names`` of each label id, shape ``(num_classes,)``.
    """

    names: tuple
    train_counts: np.ndarray
    vertical_names: tuple
    vertical_ids: np.ndarray

    @property
    def num_classes(self):
        return len(self.names)

    @property
    def num_verticals(self):
        return len(self.vertical_names)

    def name(self, label):
        """The label's name, or ``#<id>`` where the vocabulary has none."""
        return self.names[label] or f"#{label}"

    def vertical(self, label):
        return self.vertical_names[self.vertical_ids[label]]

    def log_prior_odds(self, label_ids=None):
        """``log(p / (1 - p))`` of each label's frequency ``p`` in the 2018 train partition.

        ``p = TrainVideoCount / TRAIN_VIDEOS`` (a label never counted counts once): the bias at
        which a sigmoid head starts at its label's base rate (the log-priors of notebooks 03b
        and 04, taken from the vocabulary instead of a training sample). float64, of shape
        ``(num_classes,)``, or ``(len(label_ids),)`` for those ids.
        """
        p = np.maximum(self.train_counts, 1) / TRAIN_VIDEOS
        odds = np.log(p / (1 - p))
        return odds if label_ids is None else odds[np.asarray(label_ids, dtype=np.int64)]

    def vertical_groups(self, slug=True):
        """``{vertical: sorted label ids}`` in :attr:`vertical_names` order.

        With ``slug=True`` the keys are :func:`slugify`-ed, usable as Keras output names.
        """
        return {
            (slugify(name) if slug else name): np.flatnonzero(self.vertical_ids == v)
            for v, name in enumerate(self.vertical_names)
        }


def read_vocabulary(path):
    """Read a ``vocabulary.csv`` (official or shipped). Raises ``ValueError`` naming the file."""
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or ())]
            if missing:
                raise ValueError(f"{path}: missing column(s) {', '.join(missing)}")
            rows = {}
            for line, row in enumerate(reader, start=2):
                try:
                    index = int(row["Index"])
                    count = int(row["TrainVideoCount"])
                except (TypeError, ValueError):
                    raise ValueError(f"{path}, line {line}: Index and TrainVideoCount must be integers")
                if index in rows:
                    raise ValueError(f"{path}, line {line}: Index {index} appears twice")
                rows[index] = (row["Name"] or "", count, row["Vertical1"] or "(Unknown)")
    except OSError as error:
        raise ValueError(f"cannot read vocabulary {path}: {error.strerror}") from None
    if sorted(rows) != list(range(len(rows))):
        raise ValueError(f"{path}: Index column is not 0..{len(rows) - 1} (got {len(rows)} rows)")
    names, counts, verticals = zip(*(rows[i] for i in range(len(rows))))
    label_counts = {}
    for v in verticals:
        label_counts[v] = label_counts.get(v, 0) + 1
    vertical_names = tuple(sorted(label_counts, key=lambda v: (-label_counts[v], v)))
    lookup = {v: i for i, v in enumerate(vertical_names)}
    return Vocabulary(
        names=tuple(names),
        train_counts=np.asarray(counts, dtype=np.int64),
        vertical_names=vertical_names,
        vertical_ids=np.asarray([lookup[v] for v in verticals], dtype=np.int32),
    )


@functools.lru_cache(maxsize=None)
def load_vocabulary(path=None):
    """The vocabulary at ``path``, or the one shipped with the package (cached)."""
    return read_vocabulary(SHIPPED_PATH if path is None else path)
