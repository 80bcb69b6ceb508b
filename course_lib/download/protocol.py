"""The official YouTube-8M download protocol: partitions, the shard rule, local names, URLs.

Nothing here touches the network or the disk. A partition is ``V/LEVEL/SPLIT``; its plan lists
server names (``trainbI.tfrecord``) with their MD5s; ``--shard X,Y`` keeps the files whose name
hashes to fraction ``X`` of ``Y``; each file is saved under the official local name
(``train0096.tfrecord``, the mapping of :func:`course_lib.data.names.shard_code`).

>>> p = Partition.parse("2/video/train")
>>> shard_url(p, "trainbI.tfrecord", mirror="eu"), local_name("trainbI.tfrecord")
('http://eu.data.yt8m.org/2/video/train/trainbI.tfrecord', 'train0096.tfrecord')
"""

import dataclasses
import hashlib
import re

from course_lib.data.names import code_index

LEVELS = ("video", "frame")
SPLITS = ("train", "validate", "test")
MIRRORS = ("us", "eu", "asia")
MIRROR = "us"  # the default mirror
VERSION = "2"  # the release whose vocabulary is fetched when no partition is given
PART_SUFFIX = ".part"  # a transfer in progress: ``train0096.tfrecord.part``
VOCABULARY_NAME = "vocabulary.csv"

PLAN_URL = "http://data.yt8m.org/{version}/download_plans/{level}_{split}.json"
SHARD_URL = "http://{mirror}.data.yt8m.org/{partition}/{name}"
VOCABULARY_URL = "https://research.google.com/youtube8m/csv/{version}/vocabulary.csv"
BASE_PLAN_URL = "{base}/{version}/download_plans/{level}_{split}.json"
BASE_SHARD_URL = "{base}/{partition}/{name}"
BASE_VOCABULARY_URL = "{base}/{version}/vocabulary.csv"

_SERVER_NAME = re.compile(r"^(train|validate|test)([A-Za-z0-9]{2})\.tfrecord$")
_PARTITION = re.compile(r"^(\d+)/(video|frame)/(train|validate|test)$")


@dataclasses.dataclass(frozen=True)
class Partition:
    """``V/LEVEL/SPLIT``, e.g. ``2/video/train``.

    >>> p = Partition.parse("2/frame/validate/")
    >>> p.level, str(p), p.plan_filename
    ('frame', '2/frame/validate', '2_frame_validate_download_plan.json')
    """

    version: str
    level: str
    split: str

    @classmethod
    def parse(cls, text):
        """A :class:`Partition` from ``"V/LEVEL/SPLIT"`` (a :class:`Partition` is returned as is)."""
        if isinstance(text, Partition):
            return text
        match = _PARTITION.match(str(text).strip().strip("/"))
        if not match:
            raise ValueError(
                "partition must be V/LEVEL/SPLIT with LEVEL video or frame and SPLIT train, validate "
                f"or test, e.g. 2/video/train. Received: partition={text!r}"
            )
        return cls(*match.groups())

    def __str__(self):
        return f"{self.version}/{self.level}/{self.split}"

    @property
    def plan_filename(self):
        """The official local plan name: ``2/video/train`` -> ``2_video_train_download_plan.json``."""
        return f"{str(self).replace('/', '_')}_download_plan.json"


def parse_shard(text):
    """``"X,Y"`` (or a pair) -> ``(X, Y)`` with ``1 <= X <= Y``; ``None`` stays ``None`` (all files).

    >>> parse_shard("1,100"), parse_shard((2, 3)), parse_shard(None)
    ((1, 100), (2, 3), None)
    """
    if text is None:
        return None
    try:
        x, y = (int(v) for v in (text.split(",") if isinstance(text, str) else text))
    except (TypeError, ValueError):
        raise ValueError(f"shard must be X,Y with integers 1 <= X <= Y, e.g. 1,100. Received: shard={text!r}") from None
    if not 1 <= x <= y:
        raise ValueError(f"shard must be X,Y with 1 <= X <= Y, e.g. 1,100. Received: shard={text!r}")
    return x, y


def is_selected(name, shard):
    """The official fraction rule: ``name`` is in fraction ``X`` of ``Y`` when
    ``int(md5(name).hexdigest(), 16) % Y == X - 1``. ``shard=None`` selects everything.

    >>> is_selected("trainbF.tfrecord", "1,100"), is_selected("trainaa.tfrecord", "1,100")
    (True, False)
    """
    if shard is None:
        return True
    x, y = parse_shard(shard)
    return int(hashlib.md5(name.encode()).hexdigest(), 16) % y == x - 1


def local_name(server_name):
    """The official local name: ``trainaa.tfrecord`` -> ``train0000.tfrecord``, ``trainbI`` -> 0096,
    ``train99`` -> 3843 (the index of the two characters, as in :func:`names.shard_code`).

    >>> local_name("validate99.tfrecord")
    'validate3843.tfrecord'
    """
    match = _SERVER_NAME.match(server_name)
    if not match:
        raise ValueError(
            "a YouTube-8M server name is SPLIT + two characters from a-z A-Z 0-9 + .tfrecord, e.g. "
            f"trainbI.tfrecord. Received: name={server_name!r}"
        )
    split, code = match.groups()
    return f"{split}{code_index(code):04d}.tfrecord"


def _base(base_url):
    return base_url.rstrip("/")


def plan_url(partition, base_url=None):
    """Where the plan of ``partition`` is published (or under ``base_url``).

    >>> plan_url("2/video/train")
    'http://data.yt8m.org/2/download_plans/video_train.json'
    >>> plan_url("2/video/train", base_url="http://localhost:8000/")
    'http://localhost:8000/2/download_plans/video_train.json'
    """
    p = Partition.parse(partition)
    if base_url:
        return BASE_PLAN_URL.format(base=_base(base_url), version=p.version, level=p.level, split=p.split)
    return PLAN_URL.format(version=p.version, level=p.level, split=p.split)


def check_mirror(mirror):
    """``mirror`` if it is one of :data:`MIRRORS`, else a ``ValueError``."""
    if mirror not in MIRRORS:
        raise ValueError(f"mirror must be one of {', '.join(MIRRORS)}. Received: mirror={mirror!r}")
    return mirror


def shard_url(partition, name, mirror=MIRROR, base_url=None):
    """Where shard ``name`` of ``partition`` is served: a mirror, or ``base_url``.

    >>> shard_url("2/video/train", "trainaa.tfrecord", base_url="http://localhost:8000")
    'http://localhost:8000/2/video/train/trainaa.tfrecord'
    """
    p = Partition.parse(partition)
    if base_url:
        return BASE_SHARD_URL.format(base=_base(base_url), partition=p, name=name)
    return SHARD_URL.format(mirror=check_mirror(mirror), partition=p, name=name)


def vocabulary_url(version=VERSION, base_url=None):
    """Where ``vocabulary.csv`` of release ``version`` is published (or under ``base_url``).

    >>> vocabulary_url("2")
    'https://research.google.com/youtube8m/csv/2/vocabulary.csv'
    """
    if base_url:
        return BASE_VOCABULARY_URL.format(base=_base(base_url), version=version)
    return VOCABULARY_URL.format(version=version)
