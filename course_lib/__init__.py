"""course_lib: the supporting package of the course *Multi-task and meta-learning, hands-on with
YouTube-8M*.

Data flows one way: shards -> :mod:`course_lib.data` -> :mod:`course_lib.layers` ->
:mod:`course_lib.models` -> :mod:`course_lib.project` and the command line (``python -m course_lib
--help``), with :mod:`course_lib.metrics` beside; nothing imports upward.

Submodules are imported on first use (``course_lib.layers`` works after ``import course_lib``), so
``import course_lib`` is instant and does not load TensorFlow until a submodule that needs it is
touched. Importing it also filters TensorFlow's start-up lines out of the console when TensorFlow
is imported later (:mod:`course_lib.console`).
"""

import importlib
import importlib.util
import pkgutil

from course_lib import console

__version__ = "0.1.0"
console.quiet_tensorflow()


def _submodules():
    return sorted(info.name for info in pkgutil.iter_modules(__path__) if not info.name.startswith("_"))


def __getattr__(name):
    if not name.startswith("_") and importlib.util.find_spec(f"{__name__}.{name}") is not None:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_submodules()))
