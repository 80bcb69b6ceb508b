"""The registry behind :func:`build_model`: model names -> builders, and what ``train`` fits.

The contract between a model and the project (``train``, ``predict``, ``score``):

- A builder returns a Keras ``Model`` whose inputs are named like the features of
  :func:`course_lib.data.load_yt8m` and whose outputs are a **dict** with the key ``labels``:
  ``(batch, 3862)`` scores in label-id order, float32. ``predict`` ranks that output.
- The model may have more named outputs (one per topic vertical, per task, ...). How ``train``
  fits each output is declared beside the builder: ``register_model(name, tasks=function)``,
  where ``function(**builder_arguments)`` returns ``{output name: Task(...)}`` with one entry per
  output of the model. ``train`` compiles one loss, loss weight and list of metrics per output
  from it, and maps the dataset's labels ``(batch, 3862)`` to one target per output (the
  columns ``Task.label_ids``, all labels when ``None``) inside the tf.data graph. The
  declaration is a function of the builder's arguments, so a resumed run (which rebuilds the
  model from ``config.json``) gets the same one.
- A builder that declares nothing gets ``{"labels": Task()}``: the run's ``--loss`` on ``labels``.
- ``train`` adds the validation metrics MAP@10 and GAP@20 to ``labels``.

A model that needs its own training step (meta-learning, gradient balancing) returns a
``keras.Model`` subclass that overrides ``train_step``; ``fit``, the callbacks and the run
folder stay the same.
"""

import dataclasses
import inspect

RUN_LOSS = "run_loss"  # Task.loss: the loss named by train's ``loss`` argument (--loss)
_BUILDERS = {}
_TASKS = {}


@dataclasses.dataclass(frozen=True)
class Task:
    """How ``train`` fits one named output of a model.

    Args:
        loss: a Keras loss (instance or identifier); ``RUN_LOSS`` (default) for the run's
            ``--loss`` (binary cross-entropy unless told otherwise); ``None`` for no loss (the
            output is only measured, for example ``labels`` when per-vertical losses train it).
        weight: the loss weight (the total loss is the weighted sum over outputs). Default 1.
        metrics: Keras metrics of this output (fresh instances: the function is called per run).
        label_ids: the label ids this output predicts, in its column order; its target is
            ``labels[:, label_ids]``. ``None`` (default): all labels in label-id order.
    """

    loss: object = RUN_LOSS
    weight: float = 1.0
    metrics: tuple = ()
    label_ids: tuple = None


def _default_tasks(**_):
    return {"labels": Task()}


def register_model(name, tasks=None):
    """Decorator: make a model builder available as ``build_model(name, ...)`` and ``--model name``.

    The builder takes keyword arguments only (each with a default) and returns a Keras ``Model``
    with a dict of outputs, one of them ``labels``. ``tasks``, a function of the same keyword
    arguments returning ``{output name: Task}``, declares how each output is trained (default:
    ``{"labels": Task()}``).
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"A model name must be a non-empty string. Received: name={name!r}")

    def register(builder):
        if name in _BUILDERS and _BUILDERS[name] is not builder:
            raise ValueError(f"A model named {name!r} is already registered ({_BUILDERS[name].__module__}).")
        _BUILDERS[name] = builder
        _TASKS[name] = tasks or _default_tasks
        return builder

    return register


def available_models():
    """The registered model names, sorted."""
    return sorted(_BUILDERS)


def model_arguments(name):
    """The keyword arguments of model ``name`` and their defaults."""
    builder = _builder(name)
    return {p.name: p.default for p in inspect.signature(builder).parameters.values()}


def build_model(name, **kwargs):
    """Build the registered model ``name`` with the builder's keyword arguments.

    Raises:
        ValueError: the name is not registered, or an argument is not one the builder takes.
    """
    return _builder(name)(**_arguments(name, kwargs))


def model_tasks(name, **kwargs):
    """``{output name: Task}`` of model ``name`` built with ``kwargs`` (defaults filled in)."""
    tasks = dict(_TASKS[name](**{**model_arguments(name), **_arguments(name, kwargs)}))
    if "labels" not in tasks or not all(isinstance(task, Task) for task in tasks.values()):
        raise ValueError(f"Model {name!r} must declare a Task for each output, one named 'labels'. Received: {tasks!r}")
    return tasks


def _arguments(name, kwargs):
    unknown = sorted(set(kwargs) - set(model_arguments(name)))
    if unknown:
        raise ValueError(
            f"Model {name!r} takes {', '.join(model_arguments(name))}. Received: {', '.join(unknown)}"
        )
    return kwargs


def _builder(name):
    if name not in _BUILDERS:
        raise ValueError(f"Unknown model; available: {', '.join(available_models())}. Received: model={name!r}")
    return _BUILDERS[name]
