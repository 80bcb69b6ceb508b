"""YouTube-8M data: the record spec, the tf.data pipeline, the vocabulary, the synthetic sample.

Taught in notebook 01. Public entry points::

    load_yt8m(pattern, batch_size, ...)   # tf.data.Dataset of (features, labels)
    load_vocabulary()                     # label names and topic verticals
    ensure_sample()                       # the embedded synthetic YouTube-8M

Names are imported on first use, so ``course_lib.data.names`` and ``course_lib.data.vocabulary``
(and the downloader, which uses them) load no TensorFlow; ``load_yt8m`` and the spec do.
"""

import importlib

_EXPORTS = {
    "pipeline": ("ShardError", "list_shards", "load_yt8m", "shard_errors", "verify_shards"),
    "spec": ("AUDIO_SIZE", "NUM_CLASSES", "RGB_SIZE", "feature_spec", "make_example"),
    "synthetic": ("ensure_sample", "write_synthetic"),
    "vocabulary": ("Vocabulary", "load_vocabulary", "read_vocabulary", "slugify"),
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = sorted(_MODULE_OF)


def __getattr__(name):
    if name in _MODULE_OF:
        return getattr(importlib.import_module(f"{__name__}.{_MODULE_OF[name]}"), name)
    if not name.startswith("_"):  # a submodule not imported yet: course_lib.data.pipeline
        try:
            return importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as error:
            if error.name != f"{__name__}.{name}":
                raise
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_MODULE_OF))
