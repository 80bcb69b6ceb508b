"""``python -m course_lib train``: fit a registered model on YouTube-8M shards, resumably.

Taught in notebook 02. :func:`train` builds ``--model`` (see :mod:`course_lib.models`), compiles
one loss, loss weight and list of metrics per output as the model declares them
(:class:`course_lib.models.Task`; the FCN: binary cross-entropy on ``labels``), adds the
validation metrics MAP@10 and GAP@20 to ``labels``, and runs Keras' ``fit`` over
:func:`course_lib.data.load_yt8m` (shuffled, seeded, full batches only so shapes are static), the
labels mapped to one target per output inside the tf.data graph. After every epoch a row is
appended to ``history.csv``, then the model and optimizer are saved to
``runs/NAME/checkpoints/epoch_NNNN.keras`` (:mod:`course_lib.project.runs`; in that order, so a
kill between the two loses no row: the resumed run drops the row and trains that epoch again).
An epoch of no training step, or a loss that is not finite, stops the run with an error saying why. Running the same command again resumes from the
newest checkpoint (weights and optimizer state), and ``--epochs`` larger than before trains on; the
remaining epochs draw their data order and dropout from ``seed + epochs done``, so they do not replay
the first epochs' (a resumed run is as good as, not bit-identical to, an uninterrupted one).

Options for speed: ``--strategy mirrored`` or ``multiworker`` (:mod:`course_lib.project.distribute`),
``--mixed-precision`` (``mixed_float16``; the models' outputs stay float32), ``--jit`` (XLA).
History columns: ``loss``, ``val_map_at_10``, ``val_gap_at_20`` for a one-output model; with
several outputs Keras prefixes each output's metrics with its name (``val_labels_gap_at_20``,
``val_games_loss``).
"""

import hashlib
import os
import shutil
import sys
import tempfile
import warnings
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from course_lib import settings
from course_lib.callbacks import EpochCheckpoint
from course_lib.data import list_shards, load_yt8m, shard_errors, spec
from course_lib.models import RUN_LOSS, build_model, model_arguments, model_tasks
from course_lib.precision import dtype_policy
from course_lib.project import distribute, options, runs

DEFAULTS = options.TRAIN_DEFAULTS
LOSSES = options.LOSSES
STRATEGIES = options.STRATEGIES


def train(
    out,
    data=None,
    validation_data=None,
    *,
    model=DEFAULTS["model"],
    model_args=None,
    epochs=DEFAULTS["epochs"],
    batch_size=DEFAULTS["batch_size"],
    learning_rate=DEFAULTS["learning_rate"],
    loss=DEFAULTS["loss"],
    seed=DEFAULTS["seed"],
    strategy=DEFAULTS["strategy"],
    mixed_precision=False,
    jit=False,
    keep_checkpoints=DEFAULTS["keep_checkpoints"],
    verbose="auto",
):
    """Train a model into run folder ``out``, resuming from its newest checkpoint.

    Args:
        out: the run folder (created; an existing run with the same model resumes).
        data: glob (or list of globs) of training shards. Default ``settings.data_pattern("train")``.
        validation_data: glob(s) of shards scored each epoch with MAP@10 and GAP@20. Default
            ``settings.data_pattern("validate")``; ``False`` for none.
        model: a name registered in :mod:`course_lib.models`. ``model_args``: its keyword
            arguments (for example ``{"hidden_units": 256}``).
        epochs: train until this many epochs are done in all (counting resumed ones).
        batch_size: global batch (split across replicas and workers).
        learning_rate: Adam's learning rate.
        loss: one of :data:`LOSSES`, for the outputs whose task says ``RUN_LOSS`` (the FCN's
            ``labels``): ``"binary_crossentropy"`` (one yes/no question per label; the right loss)
            or ``"categorical_crossentropy"`` (what the course demo compiled; for the comparison).
        seed: seeds Python, NumPy, TensorFlow, the data order, and the model's initialisers
            (its ``seed`` argument, unless ``model_args`` sets one).
        strategy: one of :data:`STRATEGIES` (:mod:`course_lib.project.distribute`).
        mixed_precision: compute in float16 with float32 variables and outputs.
        jit: compile the train and test steps with XLA.
        keep_checkpoints: how many of the newest checkpoints to keep (older ones are deleted).
        verbose: Keras' progress output; ``"auto"``: a bar on a terminal, else a line per epoch.

    Returns:
        The ``keras.callbacks.History`` of the epochs run now (empty when the run was complete).
    """
    chosen = dict(model=model, epochs=epochs, batch_size=batch_size, learning_rate=learning_rate, loss=loss,
                  seed=seed, strategy=strategy, keep_checkpoints=keep_checkpoints)
    config = _config(out, data, validation_data, model_args, mixed_precision, jit, chosen)
    distribution = distribute.make_strategy(config["strategy"], jit)  # first: multi-worker needs it so
    previous, initial_epoch, last = runs.resume(out, config)
    if initial_epoch >= config["epochs"]:
        print(f"{out}: already trained for {initial_epoch} epoch(s) (--epochs {config['epochs']}); nothing to do")
        return keras.callbacks.History()
    build_args = _build_arguments(config)
    tasks = model_tasks(config["model"], **build_args)
    train_set, validation_set, steps = _datasets(distribution, config, tasks, epoch_seed=config["seed"] + initial_epoch)
    chief = distribute.is_chief(distribution)
    folder = _run_folder(out, config, initial_epoch, last, chief=chief)
    keras.utils.set_random_seed(config["seed"] + initial_epoch)
    try:
        with dtype_policy("mixed_float16" if mixed_precision else "float32"), distribution.scope():
            net = _model(config, build_args, tasks, validate=validation_set is not None, checkpoint=last,
                         same_optimizer=previous.get("mixed_precision") == mixed_precision)
            history = _fit(net, config, train_set, validation_set, steps=steps, initial_epoch=initial_epoch,
                           callbacks=_callbacks(config, folder), verbose=verbose)
        _require_finite(history, config)
        return history
    finally:
        if not chief:
            shutil.rmtree(folder, ignore_errors=True)


def _build_arguments(config):
    """The builder's keyword arguments: the ``--model-arg``s, and ``seed`` from ``--seed`` unless they set one."""
    build_args = dict(config["model_args"])
    if "seed" in model_arguments(config["model"]):
        build_args.setdefault("seed", config["seed"])
    return build_args


def _run_folder(out, config, initial_epoch, last, *, chief):
    """Where this worker writes: the run folder ``out``, started, on the chief; a temporary folder elsewhere."""
    folder = Path(out) if chief else Path(tempfile.mkdtemp(prefix="course_lib_worker_"))
    if chief:
        runs.start(out, config, initial_epoch)
    if initial_epoch:
        print(f"{out}: resuming after epoch {initial_epoch} from {last}")
    return folder


def _model(config, build_args, tasks, *, validate, checkpoint=None, same_optimizer=True):
    """The compiled model, restored from ``checkpoint`` when the run resumes (call in the strategy's scope)."""
    net = build_model(config["model"], **build_args)
    _compile(net, tasks, config, validate=validate)
    if checkpoint is not None:
        _restore(net, checkpoint, same_optimizer=same_optimizer)
    return net


def _callbacks(config, folder):
    """The run's callbacks: a history row, then a checkpoint, after every epoch (into ``folder``)."""
    return [
        _RequireSteps(config),  # first: an epoch of no step is not checkpointed nor logged
        # The history row before the checkpoint: killed between the two, the run resumes from
        # the previous checkpoint and runs.start drops the row (a row is never lost).
        keras.callbacks.CSVLogger(str(folder / runs.HISTORY), append=True),
        EpochCheckpoint(folder / runs.CHECKPOINTS, keep=config["keep_checkpoints"]),
        keras.callbacks.TerminateOnNaN(),
    ]


def _fit(net, config, train_set, validation_set, *, steps, initial_epoch, callbacks, verbose):
    """Keras' ``fit`` from ``initial_epoch`` to ``config["epochs"]``, a bad shard raising ``ShardError``."""
    with warnings.catch_warnings(), shard_errors(_read_patterns(config)):
        # The shards' length is unknown until the first pass ends; that is expected here.
        warnings.filterwarnings("ignore", message="Your input ran out of data")
        return net.fit(train_set, validation_data=validation_set, epochs=config["epochs"],
                       initial_epoch=initial_epoch, steps_per_epoch=steps, shuffle=False, callbacks=callbacks,
                       verbose=(1 if sys.stdout.isatty() else 2) if verbose == "auto" else verbose)


class DivergedError(ValueError):
    """Training stopped on a loss that is not finite (NaN or inf)."""


def _require_finite(history, config):
    losses = history.history.get("loss", [])
    if losses and not np.isfinite(losses[-1]):
        raise DivergedError(
            f"epoch {history.epoch[-1] + 1}: loss is {losses[-1]}, training diverged and stopped; that epoch "
            f"was not checkpointed (learning_rate={config['learning_rate']}: lower it, or check the data "
            "for non-finite features)"
        )


class _RequireSteps(keras.callbacks.Callback):
    """Raise ``ValueError`` saying why when an epoch ran no training step (Keras would carry on)."""

    def __init__(self, config):
        super().__init__()
        self.config = config

    def on_epoch_begin(self, epoch, logs=None):
        self.steps = 0

    def on_train_batch_end(self, batch, logs=None):
        self.steps += 1

    def on_epoch_end(self, epoch, logs=None):
        if self.steps:
            return
        files = list_shards(self.config["data"])
        videos = sum(distribute.count_records(path) for path in files)
        raise ValueError(
            f"epoch {epoch + 1} ran no training step: the training shards {self.config['data']!r} hold "
            f"{videos} video(s) in {len(files)} file(s), fewer than one batch of {self.config['batch_size']} "
            "(only full batches are trained on); lower --batch-size or add shards"
        )


def _config(out, data, validation_data, model_args, mixed_precision, jit, chosen):
    """The run's ``config.json``, from validated arguments (``ValueError`` naming a bad one)."""
    config = dict(chosen)
    for name, choices in (("loss", LOSSES), ("strategy", STRATEGIES)):
        if config[name] not in choices:
            raise ValueError(f"{name} must be one of {', '.join(choices)}. Received: {name}={config[name]!r}")
    for name in ("epochs", "batch_size", "keep_checkpoints"):
        if int(config[name]) != config[name] or config[name] < 1:
            raise ValueError(f"{name} must be a positive integer. Received: {name}={config[name]!r}")
    _check_model_args(config["model"], dict(model_args or {}))  # before any file is written
    if validation_data is None:
        validation_data = settings.data_pattern("validate")
    return {
        **config,
        "model_args": dict(model_args or {}),
        "epochs": int(config["epochs"]),
        "batch_size": int(config["batch_size"]),
        "learning_rate": float(config["learning_rate"]),
        "seed": int(config["seed"]),
        "data": _patterns(data or settings.data_pattern("train")),
        "validation_data": _patterns(validation_data) if validation_data else None,
        "mixed_precision": bool(mixed_precision),
        "jit": bool(jit),
        "versions": {"keras": keras.__version__, "tensorflow": tf.__version__},
    }


def _check_model_args(model, model_args):
    """``ValueError`` naming the first ``--model-arg`` of the wrong type or that the shards cannot train."""
    defaults = model_arguments(model)  # an unknown model name fails here
    for name, value in model_args.items():
        default = defaults.get(name)
        wanted = (int,) if isinstance(default, int) and not isinstance(default, bool) else \
            (int, float) if isinstance(default, float) else None
        if name in defaults and wanted and (isinstance(value, bool) or not isinstance(value, wanted)):
            raise ValueError(f"--model-arg {name} must be a number like its default {default!r}. "
                             f"Received: {name}={value!r}")
    if model_args.get("num_classes", spec.NUM_CLASSES) != spec.NUM_CLASSES:
        raise ValueError(f"--model-arg num_classes must be {spec.NUM_CLASSES}, the shards' vocabulary: train reads "
                         f"every label. Received: num_classes={model_args['num_classes']!r}")


def _datasets(strategy, config, tasks, epoch_seed):
    """``(train set, validation set or None, steps per epoch or None)``, targets split per output.

    Multi-worker: each worker reads its share of the training files, repeated, for the same number
    of steps; every worker scores all validation files (each video counted once per worker, which
    leaves MAP and GAP as on one machine).
    """
    split = _targets(tasks)
    batch, train_files, validation_files = config["batch_size"], config["data"], config["validation_data"]

    def train_set(context=None):
        return load_yt8m(train_files, batch, shuffle=True, seed=epoch_seed, drop_remainder=True,
                         repeat=context is not None, input_context=context).map(split)

    def validation_set(context=None):
        per_worker = batch if context is None else context.get_per_replica_batch_size(batch)
        return load_yt8m(validation_files, per_worker).map(split)

    if not distribute.is_multi_worker(strategy):
        return train_set(), validation_set() if validation_files else None, None
    steps = distribute.epoch_steps(list_shards(train_files), batch)
    validation = strategy.distribute_datasets_from_function(validation_set) if validation_files else None
    return strategy.distribute_datasets_from_function(train_set), validation, steps


def _targets(tasks):
    """A tf.data map: dense labels ``(B, C)`` -> ``{output: labels[:, label_ids]}`` (static shapes)."""
    columns = {name: None if t.label_ids is None else tf.constant(t.label_ids, tf.int32) for name, t in tasks.items()}

    def split(features, labels):
        return features, {name: labels if ids is None else tf.gather(labels, ids, axis=1) for name, ids in columns.items()}

    return split


def _compile(net, tasks, config, validate):
    """Compile ``net`` with one loss, weight and metric list per output, as ``tasks`` declares."""
    outputs = sorted(net.output) if isinstance(net.output, dict) else None
    if outputs != sorted(tasks):
        raise ValueError(f"Model {config['model']!r} must output a dict with one entry per declared task "
                         f"({', '.join(sorted(tasks))}). Received: outputs {outputs}")
    run_loss = keras.losses.get(config["loss"]) if config["loss"] != "categorical_crossentropy" else \
        keras.losses.CategoricalCrossentropy()  # on sigmoid outputs Keras first divides them by their sum
    losses = {name: run_loss if t.loss == RUN_LOSS else t.loss for name, t in tasks.items() if t.loss is not None}
    metrics = {name: list(t.metrics) for name, t in tasks.items() if t.metrics}
    if validate:
        metrics["labels"] = metrics.get("labels", []) + _ranking_metrics()
    net.compile(
        optimizer=keras.optimizers.Adam(config["learning_rate"]),
        loss=losses,
        loss_weights={name: float(tasks[name].weight) for name in losses},
        metrics=metrics or None,
        jit_compile=config["jit"],
    )


def _restore(net, checkpoint, same_optimizer):
    """Load a checkpoint into the compiled ``net``: weights, and the optimizer state when it fits."""
    if same_optimizer:
        net.optimizer.build(net.trainable_variables)
        net.load_weights(checkpoint)  # weights and optimizer state (Adam's moments, step count)
        return
    # Switching --mixed-precision adds or removes the loss-scale optimizer: keep the weights only.
    print(f"{checkpoint}: --mixed-precision changed, so the optimizer restarts (weights are kept)")
    net.set_weights(runs.load_model(None, checkpoint).get_weights())


def _read_patterns(config):
    """Every glob the run reads, training and validation, as one list."""
    return [p for key in ("data", "validation_data") for p in _as_list(config[key])]


def _as_list(patterns):
    return [] if not patterns else [patterns] if isinstance(patterns, str) else list(patterns)


def _patterns(pattern):
    """A glob as a string, several as a list of strings (so that they go into ``config.json``)."""
    if isinstance(pattern, (str, os.PathLike)):
        return str(pattern)
    return [str(p) for p in pattern]


def _ranking_metrics():
    """MAP@10 and GAP@20, the course's two leaderboard numbers, as Keras metrics."""
    from course_lib import metrics

    return [metrics.MAPAtK(k=10), metrics.GAPAtK(k=20)]


def weights_digest(model):
    """A short SHA-256 of the model's weights: equal on every worker of a multi-worker run."""
    digest = hashlib.sha256()
    for weight in model.get_weights():
        digest.update(weight.tobytes())
    return digest.hexdigest()[:16]


def main(args):
    """``python -m course_lib train``."""
    runs.check_folder(args.out)  # before TensorFlow starts: a typo costs no wait
    if args.cpu_devices is not None and args.cpu_devices < 1:
        raise ValueError(f"--cpu-devices must be 1 or more. Received: --cpu-devices {args.cpu_devices}")
    if args.cpu_devices:
        distribute.use_cpu_devices(args.cpu_devices)
    history = train(
        args.out, args.data, args.validation_data,
        model_args=runs.parse_model_args(args.model_arg), mixed_precision=args.mixed_precision, jit=args.jit,
        **{name: getattr(args, name) for name in DEFAULTS},
    )
    if history.history:
        last = {k: round(float(v[-1]), 4) for k, v in history.history.items()}
        print(f"{args.out}: epoch {history.epoch[-1] + 1} " + " ".join(f"{k} {v}" for k, v in last.items()))
        if args.strategy == "multiworker":
            print(f"weights {weights_digest(history.model)}")
    return 0
