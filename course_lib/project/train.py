"""``python -m course_lib train``: fit a registered model on YouTube-8M shards, resumably.

Taught in notebook 02. :func:`train` builds ``--model`` (see :mod:`course_lib.models`), compiles it
with binary cross-entropy and the validation metrics MAP@10 and GAP@20, and runs Keras' ``fit``
over :func:`course_lib.data.load_yt8m` (shuffled, seeded, full batches only so shapes are static).
After every epoch the model and optimizer are saved to ``runs/NAME/checkpoints/epoch_NNNN.keras``
and a row is appended to ``history.csv``. Running the same command again resumes from the newest
checkpoint (weights and optimizer state), and ``--epochs`` larger than before trains on; the
remaining epochs draw their data order and dropout from ``seed + epochs done``, so they do not replay
the first epochs' (a resumed run is as good as, not bit-identical to, an uninterrupted one).

Options for speed: ``--strategy mirrored`` (``tf.distribute.MirroredStrategy`` over the visible
GPUs, or over ``--cpu-devices N`` logical CPUs), ``--mixed-precision`` (``mixed_float16``, the
output layer stays float32), ``--jit`` (XLA).
"""

import json
import math
import os
import sys
import warnings
from pathlib import Path

import keras
import tensorflow as tf

from course_lib import settings
from course_lib.data import load_yt8m
from course_lib.models import build_model, model_arguments
from course_lib.precision import dtype_policy
from course_lib.project import run as runs

LOSSES = ("binary_crossentropy", "categorical_crossentropy")
STRATEGIES = ("default", "mirrored")
# What the saved weights depend on: a run folder resumes only with the same values.
_IDENTITY = ("model", "model_args", "loss")


def train(
    out,
    data=None,
    validation_data=None,
    *,
    model="fcn",
    model_args=None,
    epochs=5,
    batch_size=256,
    learning_rate=1e-3,
    loss="binary_crossentropy",
    seed=0,
    strategy="default",
    mixed_precision=False,
    jit=False,
    keep_checkpoints=3,
    verbose="auto",
):
    """Train ``model`` into run folder ``out``, resuming from its newest checkpoint.

    Args:
        out: the run folder (created; an existing run with the same model resumes).
        data: glob (or list of globs) of training shards. Default
            ``settings.data_pattern("train")``.
        validation_data: glob (or list of globs) of validation shards, scored each epoch with
            MAP@10 and GAP@20. Default ``settings.data_pattern("validate")``; ``False`` for none.
        model: a name registered in :mod:`course_lib.models`. ``model_args``: its keyword
            arguments (for example ``{"hidden_units": 256}``).
        epochs: train until this many epochs are done in all (counting resumed ones).
        batch_size: global batch (split across replicas under ``strategy="mirrored"``).
        learning_rate: Adam's learning rate.
        loss: ``"binary_crossentropy"`` (one yes/no question per label; the right loss) or
            ``"categorical_crossentropy"`` (what the course demo compiled; for the comparison).
        seed: seeds Python, NumPy, TensorFlow, the data order, and the model's initialisers
            (its ``seed`` argument, unless ``model_args`` sets one).
        strategy: ``"default"`` (one device) or ``"mirrored"``.
        mixed_precision: compute in float16 with float32 variables and output.
        jit: compile the train and test steps with XLA.
        keep_checkpoints: how many of the newest checkpoints to keep (older ones are deleted).
        verbose: Keras' progress output; ``"auto"`` is a progress bar on a terminal and one line
            per epoch otherwise.

    Returns:
        The ``keras.callbacks.History`` of the epochs run now (empty when the run was complete).
    """
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {', '.join(LOSSES)}. Received: loss={loss!r}")
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {', '.join(STRATEGIES)}. Received: strategy={strategy!r}")
    for name, value in (("epochs", epochs), ("batch_size", batch_size), ("keep_checkpoints", keep_checkpoints)):
        if int(value) != value or value < 1:
            raise ValueError(f"{name} must be a positive integer. Received: {name}={value!r}")
    model_args = dict(model_args or {})
    model_arguments(model)  # an unknown model name fails here, before any file is written
    data = _patterns(data or settings.data_pattern("train"))
    if validation_data is None:
        validation_data = settings.data_pattern("validate")
    validation_data = _patterns(validation_data) if validation_data else None

    out = Path(out)
    config = {
        "model": model,
        "model_args": model_args,
        "loss": loss,
        "epochs": int(epochs),
        "batch_size": int(batch_size),
        "learning_rate": float(learning_rate),
        "seed": int(seed),
        "data": data,
        "validation_data": validation_data,
        "strategy": strategy,
        "mixed_precision": bool(mixed_precision),
        "jit": bool(jit),
        "versions": {"keras": keras.__version__, "tensorflow": tf.__version__},
    }
    previous = {}
    if (out / runs.CONFIG).exists():
        previous = runs.read_config(out)
        changed = [k for k in _IDENTITY if previous.get(k) != config[k]]
        if changed:
            raise runs.RunError(
                f"{out / runs.CONFIG}: this run was trained with "
                + ", ".join(f"{k}={previous.get(k)!r}" for k in changed)
                + "; resume with the same values or train into another --out. Received: "
                + ", ".join(f"{k}={config[k]!r}" for k in changed)
            )
    initial_epoch, last = runs.latest_checkpoint(out)
    if initial_epoch >= epochs:
        print(f"{out}: already trained for {initial_epoch} epoch(s) (--epochs {epochs}); nothing to do")
        return keras.callbacks.History()

    # Read the shards' listings first: a bad pattern fails before the run folder is created.
    epoch_seed = seed + initial_epoch
    train_set = load_yt8m(data, batch_size, shuffle=True, seed=epoch_seed, drop_remainder=True)
    validation_set = load_yt8m(validation_data, batch_size) if validation_data else None
    (out / runs.CHECKPOINTS).mkdir(parents=True, exist_ok=True)
    runs.write_config(out, config)
    for stale in (out / runs.CHECKPOINTS).glob(".*.keras"):
        stale.unlink()  # left by an interrupted save
    if initial_epoch:
        _trim_history(out / runs.HISTORY, initial_epoch)
        print(f"{out}: resuming after epoch {initial_epoch} from {last}")

    keras.utils.set_random_seed(epoch_seed)
    build_args = dict(model_args)
    if "seed" in model_arguments(model):
        build_args.setdefault("seed", seed)
    with dtype_policy("mixed_float16" if mixed_precision else "float32"):
        with _strategy(strategy, jit).scope():
            net = build_model(model, **build_args)
            net.compile(
                optimizer=keras.optimizers.Adam(learning_rate),
                loss=_loss(loss),
                metrics=_ranking_metrics() if validation_set is not None else None,
                jit_compile=bool(jit),
            )
            if last is not None:
                _restore(net, last, same_optimizer=previous.get("mixed_precision") == config["mixed_precision"])
        callbacks = [
            EpochCheckpoint(out, keep=keep_checkpoints),
            keras.callbacks.CSVLogger(str(out / runs.HISTORY), append=True),
            keras.callbacks.TerminateOnNaN(),
        ]
        if verbose == "auto":
            verbose = 1 if sys.stdout.isatty() else 2
        with warnings.catch_warnings():
            # The shards' length is unknown until the first pass ends; that is expected here.
            warnings.filterwarnings("ignore", message="Your input ran out of data")
            return net.fit(
                train_set,
                validation_data=validation_set,
                epochs=int(epochs),
                initial_epoch=initial_epoch,
                shuffle=False,  # load_yt8m shuffles, seeded
                callbacks=callbacks,
                verbose=verbose,
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


def _loss(name):
    if name == "categorical_crossentropy":
        # On sigmoid outputs Keras first divides them by their sum, as the course demo trained.
        return keras.losses.CategoricalCrossentropy()
    return keras.losses.BinaryCrossentropy()


def _patterns(pattern):
    """A glob as a string, several as a list of strings (so that they go into ``config.json``)."""
    if isinstance(pattern, (str, os.PathLike)):
        return str(pattern)
    return [str(p) for p in pattern]


def _ranking_metrics():
    """MAP@10 and GAP@20, the course's two leaderboard numbers, as Keras metrics."""
    from course_lib import metrics

    return [metrics.MAPAtK(k=10), metrics.GAPAtK(k=20)]


def _strategy(name, jit=False):
    if name == "default":
        return tf.distribute.get_strategy()
    devices = [d.name for d in tf.config.list_logical_devices("GPU")]
    if not devices:
        devices = [d.name for d in tf.config.list_logical_devices("CPU")]
        if jit and len(devices) > 1:
            # XLA compiles for CPU:0 and cannot read the replica variables on CPU:1, CPU:2, ...
            raise ValueError(
                "--jit with --strategy mirrored needs GPUs; XLA does not support replicas on logical CPU devices"
            )
    strategy = tf.distribute.MirroredStrategy(devices)
    print(f"mirrored over {strategy.num_replicas_in_sync} devices: {', '.join(devices)}")
    return strategy


def use_cpu_devices(count):
    """Split the CPU into ``count`` logical devices (for ``--strategy mirrored`` without GPUs).

    Must run before TensorFlow initialises its devices, that is before the first op in a process.
    """
    if int(count) != count or count < 1:
        raise ValueError(f"cpu_devices must be a positive integer. Received: cpu_devices={count!r}")
    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * int(count))
    except RuntimeError:
        if len(tf.config.list_logical_devices("CPU")) != count:
            raise ValueError(
                f"cpu_devices={count}: TensorFlow has already started with "
                f"{len(tf.config.list_logical_devices('CPU'))} CPU device(s) in this process; "
                "set it in a fresh process (the command line does)"
            ) from None


def _trim_history(path, epochs_done):
    """Drop rows of epochs after the resumed checkpoint (written just before an interruption)."""
    if not path.exists():
        return
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    if not lines:
        return
    epoch = lambda line: line.split(",", 1)[0]  # noqa: E731  Keras' CSVLogger counts from 0
    kept = lines[:1] + [line for line in lines[1:] if epoch(line).isdigit() and int(epoch(line)) < epochs_done]
    if len(kept) != len(lines):
        runs.write_atomic(path, "".join(kept))


class EpochCheckpoint(keras.callbacks.Callback):
    """Save the model (with its optimizer) after every epoch, atomically; keep the newest ``keep``."""

    def __init__(self, run, keep=3):
        super().__init__()
        self.run = Path(run)
        self.keep = int(keep)

    def on_epoch_end(self, epoch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            # TerminateOnNaN stops the run; resuming starts again from the last good checkpoint.
            print(f"epoch {epoch + 1}: loss is {loss}, checkpoint not saved")
            return
        path = runs.checkpoint_path(self.run, epoch + 1)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.stem}.partial.keras")
        self.model.save(tmp)
        os.replace(tmp, path)
        for _, old in runs.checkpoints(self.run)[: -self.keep]:
            old.unlink()


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


def main(args):
    """``python -m course_lib train``."""
    if args.cpu_devices:
        use_cpu_devices(args.cpu_devices)
    history = train(
        args.out,
        args.data,
        args.validation_data,
        model=args.model,
        model_args=parse_model_args(args.model_arg),
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        loss=args.loss,
        seed=args.seed,
        strategy=args.strategy,
        mixed_precision=args.mixed_precision,
        jit=args.jit,
        keep_checkpoints=args.keep_checkpoints,
    )
    if history.history:
        last = {k: round(float(v[-1]), 4) for k, v in history.history.items()}
        print(f"{args.out}: epoch {history.epoch[-1] + 1} " + " ".join(f"{k} {v}" for k, v in last.items()))
    return 0
