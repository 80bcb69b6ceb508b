"""Per-vertical heads as Keras layers: one sigmoid head per label group, and the way back to label ids.

Taught in notebook 03b (part 5, the course's first multi-head network) and used by the multi-task
models of notebooks 04 to 07. A model with one head per topic vertical gives one output per
vertical, each its own task with its own loss; the project's metrics and submissions need the
3,862 scores in label-id order, which :class:`LabelOrder` rebuilds inside the graph::

    per_vertical = VerticalHeads(groups, seed=seed)(hidden)    # {vertical: (N, |vertical|)}
    labels = LabelOrder(groups, num_classes=3862)(per_vertical)  # (N, 3862), label-id order

``groups`` is a mapping ``{name: label ids}`` such as ``load_vocabulary().vertical_groups()``; the
NumPy column maps of :mod:`course_lib.heads` convert arrays between the two orders outside a model.
"""

import keras
import numpy as np
from keras import ops

from course_lib.data import load_vocabulary
from course_lib.heads import head_order

__all__ = ["LabelOrder", "VerticalHeads", "head_bias_initializer"]

HEAD_BIASES = ("zeros", "prior")


def head_bias_initializer(head_bias, ids):
    """The bias initializer of a sigmoid head over label ``ids``: ``"zeros"`` or ``"prior"``.

    ``"prior"`` starts every unit at its label's log-prior odds in the YouTube-8M train partition
    (:meth:`course_lib.data.vocabulary.Vocabulary.log_prior_odds`), so the head starts at the
    labels' base rates instead of 0.5, as notebooks 03b and 04 start their heads by hand.
    """
    if head_bias not in HEAD_BIASES:
        raise ValueError(f"head_bias must be one of {', '.join(HEAD_BIASES)}. Received: head_bias={head_bias!r}")
    if head_bias == "zeros":
        return "zeros"
    vocabulary = load_vocabulary()
    if max(ids) >= vocabulary.num_classes or min(ids) < 0:
        raise ValueError(f"head_bias='prior' needs label ids in [0, {vocabulary.num_classes}). "
                         f"Received: ids from {min(ids)} to {max(ids)}")
    return keras.initializers.Constant(vocabulary.log_prior_odds(ids).tolist())


def _groups(groups):
    """``groups`` as an ordered dict ``{name: list of int ids}``, validated (``ValueError``)."""
    pairs = list(groups.items()) if hasattr(groups, "items") else [tuple(pair) for pair in groups]
    names = [name for name, _ in pairs]
    if len(set(names)) != len(names) or not all(isinstance(name, str) and name for name in names):
        raise ValueError(f"groups must have distinct, non-empty string names. Received: names={names!r}")
    result = {name: [int(i) for i in np.asarray(ids).reshape(-1)] for name, ids in pairs}
    if any(not ids for ids in result.values()):
        raise ValueError(f"every group needs at least one label id. Received: groups={result!r}")
    head_order(result)  # no group, or a label id in two groups
    return result


@keras.saving.register_keras_serializable(package="course_lib")
class VerticalHeads(keras.layers.Layer):
    """One sigmoid ``Dense`` head per label group on a shared representation.

    ``p_g = sigmoid(h W_g + b_g)`` for every group ``g``, with ``W_g`` of shape ``(d, |g|)``: one
    independent yes/no probability per label, the labels of each group read by their own head.
    Head ``i`` (in group order) starts from ``GlorotUniform(seed + i)``: a seeded Keras
    initializer repeats its values, so one shared seed would start every head with the same
    (rescaled) weights.

    The heads compute in float32 unless ``dtype`` says otherwise (so under ``mixed_float16`` the
    trunk runs in float16 and the probabilities, and the losses on them, stay float32).

    Args:
        groups: mapping ``{name: label ids}`` (or a list of ``(name, ids)`` pairs); the groups
            must not overlap. The names become the output keys and the heads' names.
        activation: of every head. Default ``"sigmoid"``.
        seed: seed of the first head's initializer; head ``i`` gets ``seed + i``. Default
            ``None`` (unseeded, different on every build).
        head_bias: ``"zeros"`` (default) or ``"prior"``: the heads' biases start at their labels'
            log-prior odds (see :func:`head_bias_initializer`; the ids must be YouTube-8M label ids).
        **kwargs: base layer arguments (``name``, ``dtype``; default dtype ``"float32"``).

    Input shape:
        ``(batch, d)`` (or ``(..., d)``).

    Output shape:
        A dict ``{name: (batch, |group|)}`` in group order, one entry per head. In a functional
        model each entry can be a named output with its own loss.

    Example:

    >>> groups = {"music": [2, 0], "sports": [1]}
    >>> outputs = VerticalHeads(groups, seed=0)(np.ones((4, 8)))
    >>> {name: tuple(p.shape) for name, p in outputs.items()}
    {'music': (4, 2), 'sports': (4, 1)}
    >>> keras.backend.standardize_dtype(outputs["music"].dtype)
    'float32'
    """

    def __init__(self, groups, activation="sigmoid", seed=None, head_bias="zeros", **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        if seed is not None and (int(seed) != seed or seed < 0):
            raise ValueError(f"seed must be a non-negative integer or None. Received: seed={seed!r}")
        self.groups = _groups(groups)
        self.activation = keras.activations.get(activation)
        self.seed = None if seed is None else int(seed)
        self.head_bias = head_bias
        self.heads = [
            keras.layers.Dense(
                len(ids),
                activation=self.activation,
                kernel_initializer=keras.initializers.GlorotUniform(None if seed is None else self.seed + i),
                bias_initializer=head_bias_initializer(head_bias, ids),
                dtype=self.dtype_policy,
                name=name,
            )
            for i, (name, ids) in enumerate(self.groups.items())
        ]

    def build(self, input_shape):
        if input_shape[-1] is None:
            raise ValueError(f"The last axis of the input must be known. Received: input_shape={input_shape}")
        for head in self.heads:
            head.build(input_shape)

    def call(self, inputs):
        return {head.name: head(inputs) for head in self.heads}

    def compute_output_shape(self, input_shape):
        return {name: (*input_shape[:-1], len(ids)) for name, ids in self.groups.items()}

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "groups": [[name, ids] for name, ids in self.groups.items()],  # pairs: JSON keeps the order
                "activation": keras.activations.serialize(self.activation),
                "seed": self.seed,
                "head_bias": self.head_bias,
            }
        )
        return config


@keras.saving.register_keras_serializable(package="course_lib")
class LabelOrder(keras.layers.Layer):
    """Per-group outputs back to one row of scores in label-id order, inside the graph.

    ``y[:, j] = p_g[:, i]`` when label ``j`` is the ``i``-th id of group ``g``, and ``fill`` for a
    label id no group covers. Computed as one gather: the groups are concatenated in group order
    (plus one column of ``fill``) and ``ops.take`` picks column ``inverse[j]`` for every label
    ``j``, a constant index vector, so the output shape is static. The layer holds no weights and
    computes in float32 unless ``dtype`` says otherwise (its inputs are probabilities).

    Args:
        groups: the mapping ``{name: label ids}`` the heads were built from (or ``(name, ids)``
            pairs).
        num_classes: width of the result. Default: the largest id + 1.
        fill: score of the label ids no group covers. Default 0.

    Input shape:
        A dict ``{name: (batch, |group|)}`` with every group (other keys are ignored), or a list
        of ``(batch, |group|)`` tensors in group order.

    Output shape:
        ``(batch, num_classes)``.

    Example:

    >>> groups = {"music": [2, 0], "sports": [1]}
    >>> to_ids = LabelOrder(groups, num_classes=4)
    >>> np.asarray(to_ids({"music": np.array([[0.2, 0.9]]), "sports": np.array([[0.5]])}))
    array([[0.9, 0.5, 0.2, 0. ]], dtype=float32)
    """

    def __init__(self, groups, num_classes=None, fill=0.0, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.groups = _groups(groups)
        order = head_order(self.groups, num_classes)
        if num_classes is not None and (int(num_classes) != num_classes or num_classes < 1):
            raise ValueError(f"num_classes must be a positive integer. Received: num_classes={num_classes!r}")
        self.num_classes = int(order.max()) + 1 if num_classes is None else int(num_classes)
        self.fill = float(fill)
        inverse = np.full(self.num_classes, len(order), dtype="int32")  # len(order): the fill column
        inverse[order] = np.arange(len(order), dtype="int32")
        self._inverse = inverse
        self._needs_fill = len(order) < self.num_classes

    def _columns(self, inputs):
        if isinstance(inputs, dict):
            missing = [name for name in self.groups if name not in inputs]
            if missing:
                raise ValueError(f"LabelOrder has no input for group(s) {missing}. Received: keys {sorted(inputs)}")
            return [inputs[name] for name in self.groups]
        if len(inputs) != len(self.groups):
            raise ValueError(f"LabelOrder takes {len(self.groups)} inputs, one per group. Received: {len(inputs)}")
        return list(inputs)

    def build(self, input_shape):
        for (name, ids), shape in zip(self.groups.items(), self._columns(input_shape)):
            if shape[-1] != len(ids):
                raise ValueError(f"Input {name!r} must have {len(ids)} columns. Received: shape={tuple(shape)}")

    def call(self, inputs):
        columns = [ops.cast(x, self.compute_dtype) for x in self._columns(inputs)]
        if self._needs_fill:
            columns.append(ops.full_like(columns[0][..., :1], self.fill))
        return ops.take(ops.concatenate(columns, axis=-1), self._inverse, axis=-1)

    def compute_output_shape(self, input_shape):
        return (*self._columns(input_shape)[0][:-1], self.num_classes)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "groups": [[name, ids] for name, ids in self.groups.items()],
                "num_classes": self.num_classes,
                "fill": self.fill,
            }
        )
        return config
