"""The notebooks' experiment loop: train a model from fixed initial weights, score it on arrays.

::

    initial = model.get_weights()
    fit_from(model, initial, X_train, Y_train, epochs=4, batch_size=250)  # same start, same seeds
    evaluate(model, X_valid, Y_valid)   # {"MAP@10": ..., "GAP@20": ...}
    evaluate(scores, None, Y_valid)     # the same for a plain (N, C) score array
    per_group_map(scores, Y_valid, groups)  # {vertical: MAP@10 among its own labels}

Runs that differ only in their penalty, callbacks or inputs start from the same weights, the
same optimizer step and the same shuffling seed, so the differences are the experiment's.
Taught in notebook 03b, part 5 (and notebook 02's baselines are scored the same way);
``per_group_map`` in notebook 04 (each vertical as a task).
"""

import keras
import numpy as np

from course_lib.metrics import ranking

__all__ = ["LABELS", "evaluate", "fit_from", "per_group_map", "predict_labels"]

LABELS = "labels"  # the model output holding (N, C) scores in label-id order


def predict_labels(model, X, *, batch_size=500):
    """Scores ``(N, C)`` in label-id order from ``model``'s output named ``labels``.

    A model with one output returns it; with several (a dict, or a list named by
    ``model.output_names``) the one named ``labels``.
    """
    outputs = model.predict(X, batch_size=batch_size, verbose=0)
    if isinstance(outputs, dict):
        if LABELS not in outputs:
            raise ValueError(f"the model has no output named {LABELS!r}. Received: outputs {sorted(outputs)}")
        return np.asarray(outputs[LABELS])
    if isinstance(outputs, (list, tuple)):
        names = list(getattr(model, "output_names", None) or [])
        if LABELS not in names:
            raise ValueError(f"the model has no output named {LABELS!r}. Received: output_names={names!r}")
        return np.asarray(outputs[names.index(LABELS)])
    return np.asarray(outputs)


def evaluate(model_or_scores, X, Y, *, map_k=10, gap_k=20, batch_size=500):
    """MAP@``map_k`` and GAP@``gap_k`` of a model (or of a score array) against labels ``Y``.

    Args:
        model_or_scores: a Keras model whose output (or output named ``labels``) is ``(N, C)``
            scores in label-id order, or such a score array itself.
        X: the model's inputs (ignored, and may be ``None``, for a score array).
        Y: multi-hot labels ``(N, C)``.
        map_k, gap_k: the cut-offs (defaults 10 and 20, the course's two figures).
        batch_size: prediction batch size.

    Returns:
        ``{"MAP@10": float, "GAP@20": float}`` (keys follow ``map_k`` and ``gap_k``).

    Example:

    >>> Y = np.array([[1, 0, 0], [0, 1, 1]], np.float32)
    >>> result = evaluate(np.array([[0.9, 0.1, 0.0], [0.8, 0.7, 0.1]]), None, Y, map_k=2, gap_k=2)
    >>> {name: round(value, 4) for name, value in result.items()}  # AP 1 and 1/4; GAP (1 + 2/3) / 3
    {'MAP@2': 0.625, 'GAP@2': 0.5556}
    """
    if isinstance(model_or_scores, keras.Model):
        scores = predict_labels(model_or_scores, X, batch_size=batch_size)
    else:
        scores = np.asarray(model_or_scores)
    Y = np.asarray(Y)
    if scores.shape != Y.shape:
        raise ValueError(f"scores and Y must have the same shape (N, C). Received: scores.shape={scores.shape}, "
                         f"Y.shape={Y.shape}")
    return {f"MAP@{map_k}": float(ranking.map_at_k(Y, scores, k=map_k)),
            f"GAP@{gap_k}": float(ranking.gap_at_k(Y, scores, k=gap_k))}


def per_group_map(scores, Y, groups, *, k=10):
    """MAP@``k`` of each label group as a task: its videos, ranked among its own labels only.

    For group ``g`` (label ids ``ids``): the videos with at least one label in ``g``, each ranking
    the ``|g|`` scores ``scores[:, ids]``. ``None`` for a group without such a video.

    Args:
        scores: ``(N, C)`` scores in label-id order (``predict_labels``).
        Y: multi-hot labels ``(N, C)``.
        groups: ``{name: label ids}`` (``load_vocabulary().vertical_groups()``).
        k: the cut-off (default 10).

    Returns:
        ``{name: float or None}`` in group order.

    Example:

    >>> Y = np.array([[1, 0, 0], [0, 1, 1], [0, 0, 1]], np.float32)
    >>> scores = np.array([[0.9, 0.1, 0.0], [0.8, 0.7, 0.1], [0.5, 0.3, 0.2]])
    >>> per_group_map(scores, Y, {"a": [0], "b": [1, 2]}, k=2)  # b: video 2 AP 1, video 3 AP 1/2
    {'a': 1.0, 'b': 0.75}
    """
    scores, Y = np.asarray(scores), np.asarray(Y)
    if scores.shape != Y.shape or Y.ndim != 2:
        raise ValueError(f"scores and Y must have the same shape (N, C). Received: scores.shape={scores.shape}, "
                         f"Y.shape={Y.shape}")
    result = {}
    for name, ids in groups.items():
        ids = np.asarray(ids)
        rows = Y[:, ids].any(axis=1)
        result[name] = float(ranking.map_at_k(Y[rows][:, ids], scores[rows][:, ids], k=k)) if rows.any() else None
    return result


def fit_from(model, initial_weights, X, Y, *, epochs, batch_size, callbacks=(), seed=0, reset_seed_generators=False,
             **fit_kwargs):
    """Train a compiled ``model`` from ``initial_weights``, as if it had never been trained.

    Resets the weights to ``initial_weights`` (``model.get_weights()`` taken once, before the
    first run), every optimizer variable but the learning rate to its start (the step counter to 0,
    momenta to 0; a ``LossScaleOptimizer`` keeps its loss scale), and seeds Python, NumPy and
    Keras with ``seed`` (the shuffling), then calls ``model.fit(X, Y, verbose=0, ...)``.

    The layers' own random state (the ``keras.random.SeedGenerator`` of a dropout or a noise
    layer, which ``get_weights`` and ``seed`` leave alone) carries on from the previous run unless
    ``reset_seed_generators=True``: a model that draws while training (``Dropout``, ``expert_dropout``,
    SNR's routing noise) repeats its run exactly only with the reset. It is off by default because
    the committed outputs of notebook 07 come from runs whose dropout and noise carried on.

    Args:
        model: a compiled Keras model.
        initial_weights: the list ``model.get_weights()`` returned before training.
        X, Y: training inputs and targets, as ``fit`` takes them.
        epochs, batch_size: as for ``fit``.
        callbacks: ``fit`` callbacks (for example a ``ProximalCallback``).
        seed: the seed set before training (default 0).
        reset_seed_generators: also put every ``SeedGenerator`` of the model back to its start, so
            that the run draws the same dropout masks and noise as the model's first (default False).
        **fit_kwargs: passed to ``fit`` (``validation_data``, ``shuffle``, ...).

    Returns:
        The ``keras.callbacks.History`` of the run.
    """
    if getattr(model, "optimizer", None) is None:
        raise ValueError("model must be compiled before fit_from. Received: a model without an optimizer")
    model.set_weights(initial_weights)
    _reset_optimizer(model.optimizer)
    if reset_seed_generators:
        _reset_seed_generators(model)
    keras.utils.set_random_seed(seed)
    return model.fit(X, Y, epochs=epochs, batch_size=batch_size, callbacks=list(callbacks), verbose=0,
                     **fit_kwargs)


def _reset_optimizer(optimizer):
    # A LossScaleOptimizer's own variables (loss scale, counter) carry over; its inner optimizer's
    # step counter and slots (momenta) go back to zero. The learning-rate variable is kept.
    inner = getattr(optimizer, "inner_optimizer", optimizer)
    keep = id(inner.learning_rate)
    for variable in inner.variables:
        if id(variable) != keep:
            variable.assign(np.zeros(variable.shape, variable.dtype))


def _reset_seed_generators(model):
    # A layer's SeedGenerator holds its state in one variable, [seed, draws so far]; each draw adds
    # 1 to the count and never changes the seed, so [seed, 0] is the state the layer was built with.
    for variable in model.variables:
        if variable.name == "seed_generator_state":
            seed = variable.numpy()[0]
            variable.assign(np.array([seed, 0], dtype=variable.dtype))
