"""YouTube-8M data: the record spec, the tf.data pipeline, the vocabulary, the synthetic sample.

Taught in notebook 01. Public entry points::

    load_yt8m(pattern, batch_size, ...)   # tf.data.Dataset of (features, labels)
    load_vocabulary()                     # label names and topic verticals
    ensure_sample()                       # the embedded synthetic YouTube-8M
"""

from course_lib.data.pipeline import ShardError, list_shards, load_yt8m, verify_shards
from course_lib.data.spec import AUDIO_SIZE, NUM_CLASSES, RGB_SIZE, feature_spec, make_example
from course_lib.data.synthetic import ensure_sample, write_synthetic
from course_lib.data.vocabulary import Vocabulary, load_vocabulary, read_vocabulary, slugify
