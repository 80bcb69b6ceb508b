"""A quiet console: TensorFlow's start-up lines filtered out, real warnings and errors kept.

TensorFlow 2.21 logs from C++ through Abseil, and the lines logged while its shared libraries load
come before ``absl::InitializeLog()``, when Abseil writes *every* message to stderr whatever its
severity (abseil-cpp issue 1570, pull requests 1718 and 1957). So ``TF_CPP_MIN_LOG_LEVEL`` does not
hide them (tensorflow/tensorflow issue 100442), and ``import tensorflow`` prints, twice (more than
one of its libraries carries its own copy of Abseil)::

    WARNING: All log messages before absl::InitializeLog() is called are written to STDERR
    I0000 00:00:1796347742.278552    9205 port.cc:153] oneDNN custom operations are on. ...
    I0000 00:00:1796347742.278877    9205 cudart_stub.cc:31] Could not find cuda drivers on your machine, ...

and the first device listing logs ``E0000 ... cuda_platform.cc:52] failed call to cuInit``, which
only says that there is no GPU driver. Nothing in Python runs early enough to configure Abseil, so
:func:`quiet_tensorflow` does what works from Python: while ``tensorflow`` is first imported and its
devices are listed once (when cuInit is called), file descriptor 2 points at a temporary file; then
the captured text goes back to stderr without the lines ``TF_CPP_MIN_LOG_LEVEL`` asks to hide (see
:func:`startup_noise`). Everything else, Python warnings included, is kept, in order; after
start-up TensorFlow applies the level itself. ``TF_CPP_MIN_LOG_LEVEL`` is set to ``2`` unless it is
set already: TensorFlow's C++ INFO and WARNING lines hidden (Grappler's "Skipping loop
optimization", "Local rendezvous is aborting" after every failed read: nothing a student acts on),
its errors shown, and Python's warnings (Keras', the course's) untouched. ``0`` turns the filter off.

``import course_lib`` (any of its modules) calls :func:`quiet_tensorflow`, and so does the command
line; a notebook gets it by importing ``course_lib`` before ``tensorflow`` or ``keras``. If TensorFlow
is already imported it is too late, and nothing is done.
"""

import contextlib
import importlib.abc
import importlib.util
import os
import re
import sys
import tempfile

LEVEL_ENV = "TF_CPP_MIN_LOG_LEVEL"
DEFAULT_LEVEL = "2"
ABSL_NOTICE = "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"
LOG_LINE = re.compile(r"([IWEF])\d{4} [\d:.]+ +\d+ [\w.]+:\d+\] ")  # Abseil's prefix: severity, date, time, thread, file:line
_SEVERITY = {"I": 0, "W": 1, "E": 2, "F": 3}
_NO_DRIVER = re.compile(r"[IW]\d{4} .*\] Could not find cuda drivers on your machine")
_CUINIT = re.compile(r"E\d{4} .*\] failed call to cuInit")


def min_log_level():
    """``TF_CPP_MIN_LOG_LEVEL`` as an int (0 when unset or not a number)."""
    value = os.environ.get(LEVEL_ENV, "").strip()
    return int(value) if value.isdigit() else 0


def startup_noise(lines, level=None):
    """The lines of ``lines`` (logged while TensorFlow starts) that :func:`quiet_tensorflow` drops.

    Those ``TF_CPP_MIN_LOG_LEVEL`` (``level``; default: the environment's) asks to hide: a line of
    severity I, W, E (0, 1, 2) below the level, with its continuation lines (``cpu_feature_guard``'s
    "To enable the following instructions: ..."); Abseil's notice about ``InitializeLog``; and,
    when TensorFlow said it found no CUDA driver, the ``failed call to cuInit`` error that follows.
    Nothing at level 0.
    """
    level = min_log_level() if level is None else level
    if level < 1:
        return []
    no_driver = any(_NO_DRIVER.match(line) for line in lines)
    noise, dropping = [], False
    for line in lines:
        logged = LOG_LINE.match(line)
        if logged:
            dropping = _SEVERITY[logged[1]] < level or bool(no_driver and _CUINIT.match(line))
        elif line == ABSL_NOTICE:
            noise.append(line)
            dropping = False
            continue
        elif not line.startswith("To enable the following instructions"):
            dropping = False  # a line of its own, not the continuation of a log line
        if dropping:
            noise.append(line)
    return noise


def without_startup_noise(text, level=None):
    """``text`` without TensorFlow's start-up lines (see :func:`startup_noise`)."""
    lines = text.splitlines()
    drop = startup_noise(lines, level)
    kept = []
    for line in lines:
        if drop and line == drop[0]:
            drop.pop(0)
        else:
            kept.append(line)
    return "".join(line + "\n" for line in kept)


@contextlib.contextmanager
def filtered_stderr():
    """Send file descriptor 2 to a temporary file; on exit write it back without start-up noise.

    Where there is no file descriptor 2 to redirect (closed, or no console), nothing is changed.
    """
    try:
        if sys.stderr is not None:
            sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):
        yield
        return
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            if sys.stderr is not None:
                with contextlib.suppress(OSError, ValueError):
                    sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            kept = without_startup_noise(capture.read().decode("utf-8", "replace"))
            if kept:
                os.write(2, kept.encode("utf-8"))


class _QuietLoader(importlib.abc.Loader):
    """Runs ``tensorflow``'s own loader inside :func:`filtered_stderr`, then lists its devices once."""

    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        with filtered_stderr():
            self.loader.exec_module(module)
            with contextlib.suppress(Exception):  # cuInit is called (and logs) here, not later
                module.config.list_physical_devices()


class _QuietFinder(importlib.abc.MetaPathFinder):
    """One-shot import hook: the first ``import tensorflow`` goes through :class:`_QuietLoader`."""

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        uninstall()
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


def _hooks():
    return [finder for finder in sys.meta_path if isinstance(finder, _QuietFinder)]


def uninstall():
    for finder in _hooks():
        sys.meta_path.remove(finder)


def quiet_tensorflow():
    """Set ``TF_CPP_MIN_LOG_LEVEL`` (default 2) and filter TensorFlow's start-up lines (see above).

    Returns ``True`` when the filter is in place for the coming ``import tensorflow``.
    """
    os.environ.setdefault(LEVEL_ENV, DEFAULT_LEVEL)
    if "tensorflow" in sys.modules or min_log_level() < 1:
        return False
    if not _hooks():
        sys.meta_path.insert(0, _QuietFinder())
    return True
