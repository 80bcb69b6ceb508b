"""Where the data lives and how big the notebooks run: the two settings every notebook reads.

Data location, first match wins:

1. ``YT8M_DATA`` (environment variable): a folder of ``train*.tfrecord`` / ``validate*.tfrecord``
   shards, or any filesystem TensorFlow reads (``gs://...``).
2. ``<course>/data/yt8m/``: real YouTube-8M, when ``python -m course_lib download`` has put shards
   there.
3. ``<course>/data/sample/``: the embedded synthetic YouTube-8M that ``make lab`` / ``make test``
   generate (``python -m course_lib synth``).

``<course>`` is ``COURSE_HOME`` when set, else the folder that holds the ``course_lib`` package
(the repository root in an editable install).

Size: ``COURSE_SIZE`` is ``small`` (the default, what CI runs), ``medium`` or ``large``. Every
notebook reads it once, through :func:`course_size`, and scales its data and epochs with it, so an
instructor runs a bigger demo with ``COURSE_SIZE=large make lab``.
"""

import dataclasses
import os
from pathlib import Path

DATA_ENV = "YT8M_DATA"
HOME_ENV = "COURSE_HOME"
SIZE_ENV = "COURSE_SIZE"


def course_root():
    """The course folder: ``COURSE_HOME`` or the folder that holds the package."""
    if os.environ.get(HOME_ENV):
        return Path(os.environ[HOME_ENV]).expanduser()
    return Path(__file__).resolve().parent.parent


def real_data_dir():
    """Where ``python -m course_lib download`` puts real YouTube-8M by default."""
    return course_root() / "data" / "yt8m"


def sample_data_dir():
    """Where the embedded synthetic YouTube-8M is generated."""
    return course_root() / "data" / "sample"


def _has_shards(folder):
    return folder.is_dir() and any(folder.glob("*.tfrecord"))


def data_dir():
    """The folder the notebooks and commands read: ``YT8M_DATA``, else real data, else the sample.

    Returns a ``str`` for remote locations (``gs://...``), a ``Path`` otherwise.
    """
    env = os.environ.get(DATA_ENV)
    if env:
        return env if "://" in env else Path(env).expanduser()
    real = real_data_dir()
    return real if _has_shards(real) else sample_data_dir()


def data_pattern(split="train"):
    """Glob of one split's shards in :func:`data_dir`, e.g. ``.../train*.tfrecord``."""
    if split not in ("train", "validate", "test"):
        raise ValueError(f"split must be 'train', 'validate' or 'test'. Received: split={split!r}")
    return f"{str(data_dir()).rstrip('/')}/{split}*.tfrecord"


@dataclasses.dataclass(frozen=True)
class CourseSize:
    """How big a notebook runs. ``scaled(n)`` multiplies a small-size count by ``scale``."""

    name: str
    scale: int
    epochs: int

    def scaled(self, n):
        return int(n) * self.scale


SIZES = {
    "small": CourseSize("small", scale=1, epochs=3),
    "medium": CourseSize("medium", scale=4, epochs=8),
    "large": CourseSize("large", scale=16, epochs=20),
}


def course_size():
    """The :class:`CourseSize` named by ``COURSE_SIZE`` (default ``small``)."""
    name = os.environ.get(SIZE_ENV, "small").strip().lower() or "small"
    if name not in SIZES:
        raise ValueError(
            f"{SIZE_ENV} must be one of {', '.join(SIZES)}. Received: {SIZE_ENV}={name!r}"
        )
    return SIZES[name]


def seed_everything(seed=0, deterministic_ops=False):
    """Seed Python, NumPy, TensorFlow and Keras at once (``keras.utils.set_random_seed``).

    With ``deterministic_ops=True`` TensorFlow's ops are also made deterministic
    (``tf.config.experimental.enable_op_determinism``): bit-identical reruns, at a price. tf.data
    then runs about a third slower and stops overlapping reading with training, and Keras quietly
    skips ``jit_compile``. Seeding alone already makes the course's notebooks repeat their numbers on
    a CPU, so it is off by default.
    """
    import keras

    keras.utils.set_random_seed(seed)
    if deterministic_ops:
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
    return seed
