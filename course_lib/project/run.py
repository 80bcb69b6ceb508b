"""A training run's folder, shared by ``train`` and ``predict``::

    runs/NAME/
      config.json               what was trained and how (model, its arguments, loss, data, flags)
      history.csv               one row per epoch: loss and validation MAP@10 / GAP@20
      checkpoints/
        epoch_0001.keras ...    the model and optimizer after each epoch (the last few are kept)

Every file is written under a temporary name and renamed, so an interrupted run never leaves a
half-written file under a real name.
"""

import json
import os
import re
from pathlib import Path

CONFIG = "config.json"
HISTORY = "history.csv"
CHECKPOINTS = "checkpoints"
_CHECKPOINT = re.compile(r"^epoch_(\d+)\.keras$")


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
    return Path(run) / CHECKPOINTS / f"epoch_{epoch:04d}.keras"


def checkpoints(run):
    """``[(epoch, path), ...]`` of the run's checkpoints, oldest first."""
    folder = Path(run) / CHECKPOINTS
    found = []
    if folder.is_dir():
        for path in folder.iterdir():
            match = _CHECKPOINT.match(path.name)
            if match:
                found.append((int(match.group(1)), path))
    return sorted(found)


def latest_checkpoint(run):
    """``(epoch, path)`` of the newest checkpoint, or ``(0, None)`` when there is none."""
    found = checkpoints(run)
    return found[-1] if found else (0, None)


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
            raise RunError(f"{run}: no checkpoint in {Path(run) / CHECKPOINTS} (has an epoch finished?)")
    if not Path(checkpoint).is_file():
        raise RunError(f"{checkpoint}: no such checkpoint")
    return keras.saving.load_model(checkpoint, compile=False, safe_mode=True)
