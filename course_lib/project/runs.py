"""A training run's folder, shared by ``train`` and ``predict``: layout, resume, history::

    runs/NAME/
      config.json               what was trained and how (model, its arguments, loss, data, flags)
      history.csv               one row per epoch: loss and validation MAP@10 / GAP@20
      checkpoints/
        epoch_0001.keras ...    the model and optimizer after each epoch (the last few are kept)

Every file is written under a temporary name and renamed, so an interrupted run never leaves a
half-written file under a real name. Before fitting, ``train`` calls :func:`resume` (the folder
holds the same model? which checkpoint is the newest?) and then :func:`start` (write the new
``config.json``, drop history rows written after the checkpoint).
"""

import json
import os
import sys
import zipfile
from pathlib import Path

from course_lib.callbacks import EpochCheckpoint

CONFIG = "config.json"
HISTORY = "history.csv"
CHECKPOINTS = "checkpoints"
# What the saved weights depend on: a run folder resumes only with the same values.
IDENTITY = ("model", "model_args", "loss")


class RunError(ValueError):
    """A run folder that is missing, incomplete, or belongs to a different model."""


def write_atomic(path, text):
    """Write ``text`` to ``path`` through a temporary file in the same folder and ``os.replace``."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def read_config(run):
    """The run's ``config.json`` as a dict."""
    path = Path(run) / CONFIG
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunError(f"{run}: not a training run (no {CONFIG}); make one with `python -m course_lib train`") from None
    except ValueError as error:
        raise RunError(f"{path}: not valid JSON ({error})") from None


def write_config(run, config):
    write_atomic(Path(run) / CONFIG, json.dumps(config, indent=2, sort_keys=True) + "\n")


def checkpoint_path(run, epoch):
    """Where the checkpoint after ``epoch`` (1-based) goes."""
    return EpochCheckpoint.path(Path(run) / CHECKPOINTS, epoch)


def checkpoints(run):
    """``[(epoch, path), ...]`` of the run's checkpoints, oldest first."""
    return EpochCheckpoint.saved(Path(run) / CHECKPOINTS)


def latest_checkpoint(run):
    """``(epoch, path)`` of the newest intact checkpoint, or ``(0, None)`` when there is none.

    A newer checkpoint that is truncated or corrupt is skipped, with a line on stderr naming it.
    """
    for epoch, path in reversed(checkpoints(run)):
        problem = checkpoint_problem(path)
        if problem is None:
            return epoch, path
        print(f"warning: skipped {path}: {problem}", file=sys.stderr)
    return 0, None


def checkpoint_problem(path):
    """Why ``path`` is not an intact ``.keras`` checkpoint (a zip whose members pass their CRCs), or None."""
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
            names = archive.namelist()
    except (zipfile.BadZipFile, EOFError, OSError) as error:
        return f"not a readable .keras checkpoint, truncated or garbage ({error})"
    if bad is not None:
        return f"corrupt .keras checkpoint ({bad} fails its checksum)"
    if "config.json" not in names:
        return "not a .keras checkpoint (no config.json inside)"
    return None


def load_model(run, checkpoint=None):
    """The trained model of ``run`` (its newest checkpoint unless ``checkpoint`` is given).

    Loads in Keras' safe mode (no pickled Python code) and without the training configuration.
    """
    import keras

    import course_lib.models  # noqa: F401  registers the course's layers before deserialising

    if checkpoint is None:
        read_config(run)
        epoch, checkpoint = latest_checkpoint(run)
        if checkpoint is None:
            raise RunError(f"{run}: no checkpoint in {Path(run) / CHECKPOINTS} that is intact (has an epoch finished?)")
    if not Path(checkpoint).is_file():
        raise RunError(f"{checkpoint}: no such checkpoint")
    problem = checkpoint_problem(checkpoint)
    if problem is not None:
        raise RunError(f"{checkpoint}: {problem}")
    try:
        return keras.saving.load_model(checkpoint, compile=False, safe_mode=True)
    except (ValueError, KeyError, OSError, TypeError) as error:
        raise RunError(f"{checkpoint}: cannot load the model ({type(error).__name__}: {error})") from None


def check_identity(run, config):
    """The previous ``config.json`` of ``run`` (``{}`` for a new run); ``RunError`` if it trained another model."""
    if not (Path(run) / CONFIG).exists():
        return {}
    previous = read_config(run)
    changed = [k for k in IDENTITY if previous.get(k) != config[k]]
    if changed:
        raise RunError(
            f"{Path(run) / CONFIG}: this run was trained with "
            + ", ".join(f"{k}={previous.get(k)!r}" for k in changed)
            + "; resume with the same values or train into another --out. Received: "
            + ", ".join(f"{k}={config[k]!r}" for k in changed)
        )
    return previous


def check_folder(run):
    """``RunError`` when ``run`` cannot be a folder: empty, a file, or under a file."""
    if not str(run).strip():
        raise RunError(f"--out must name a run folder, e.g. runs/fcn. Received: --out {str(run)!r}")
    run = Path(run)
    blocker = next((p for p in [*reversed(run.parents), run] if p.exists() and not p.is_dir()), None)
    if blocker == run:
        raise RunError(f"{run}: is a file, not a run folder")
    if blocker is not None:
        raise RunError(f"{blocker}: is a file, so it cannot hold the run folder {run}")


def resume(run, config):
    """``(previous config, epochs done, newest checkpoint)`` of ``run`` for training with ``config``.

    Writes nothing; raises ``RunError`` when the folder cannot be one or holds another model
    (:data:`IDENTITY`).
    """
    check_folder(run)
    previous = check_identity(run, config)
    epochs_done, last = latest_checkpoint(run)
    return previous, epochs_done, last


def start(run, config, epochs_done):
    """Write ``config.json``, remove leftovers of an interrupted save, drop history rows after the checkpoint."""
    (Path(run) / CHECKPOINTS).mkdir(parents=True, exist_ok=True)
    write_config(run, config)
    for stale in (Path(run) / CHECKPOINTS).glob(".*.keras"):
        stale.unlink()
    trim_history(Path(run) / HISTORY, epochs_done)  # also with 0 done: a first epoch that diverged


def trim_history(path, epochs_done):
    """Drop rows of epochs after the resumed checkpoint (written just before an interruption)."""
    path = Path(path)
    if not path.exists():
        return
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    if not lines:
        return
    epoch = lambda line: line.split(",", 1)[0]  # noqa: E731  Keras' CSVLogger counts from 0
    kept = lines[:1] + [line for line in lines[1:] if epoch(line).isdigit() and int(epoch(line)) < epochs_done]
    if len(kept) != len(lines):
        write_atomic(path, "".join(kept))


def parse_model_args(pairs):
    """``["hidden_units=256", "dropout=0.5"]`` -> ``{"hidden_units": 256, "dropout": 0.5}``.

    Values are read as JSON (numbers, ``true``, ``null``, lists), else kept as strings.
    """
    result = {}
    for pair in pairs or ():
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--model-arg must look like NAME=VALUE. Received: --model-arg {pair!r}")
        try:
            result[key.strip()] = json.loads(value)
        except ValueError:
            result[key.strip()] = value
    return result
