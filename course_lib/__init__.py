"""course_lib: the supporting package of the course *Multi-task and meta-learning, hands-on with
YouTube-8M*.

Data flows one way: shards -> :mod:`course_lib.data` -> models -> :mod:`course_lib.metrics` -> the
command line (``python -m course_lib --help``).

Submodules are imported on first use, so ``import course_lib`` is instant and does not load
TensorFlow until a submodule that needs it is touched.
"""

import importlib

__version__ = "0.1.0"

_SUBMODULES = ("cli", "data", "heads", "layers", "metrics", "models", "precision", "project", "settings", "sparsity")


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_SUBMODULES))
