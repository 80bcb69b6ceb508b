"""Per-variable-group learning rates for Keras 3 optimizers: a head that learns faster than the trunk.

Taught in notebook 04 (section 4, per-head learning rates); notebooks 05 and 06 use it. Keras 2 had
third-party ``LearningRateMultiplier`` wrappers (``LearningRateMultiplier(SGD, lr_multiplier={
'dense_1': 0.5}, lr=0.001)``); none exists for Keras 3. :func:`with_learning_rate_multipliers`
returns an optimizer of the same class whose update of variable ``v`` uses the learning rate
``eta * c(v)``::

    c(v)    = multipliers[k] for the first key k (in order) that is a substring of v.path, else 1
    SGD:      v <- v - eta c(v) g                      (momentum: m <- mu m - eta c(v) g; v <- v + m)
    Adam:     v <- v - eta c(v) m_hat / (sqrt(v_hat) + eps)

The factor multiplies the *learning rate*, not the gradient. Under Adam the two differ: Adam
divides the first moment by the root of the second, so a gradient scaled by ``c`` gives the same
step (up to ``eps``); only the learning rate sets the step size. Under plain SGD they coincide.

The mechanism: the optimizer's ``update_step(gradient, variable, learning_rate)`` is called once per
variable (also inside ``tf.distribute``'s per-replica update, inside a ``LossScaleOptimizer`` under
``mixed_float16`` and inside an XLA-compiled train step); the subclass multiplies the
``learning_rate`` it receives by the variable's factor, found at ``build`` from ``variable.path``.
Decoupled weight decay (``AdamW``, ``weight_decay=``) still uses the base learning rate.

The classes are made per optimizer class, named ``<Class>WithLearningRateMultipliers`` and
registered under ``course_lib``, so ``get_config`` / ``from_config`` and ``keras.optimizers.
deserialize`` round-trip (the Keras built-ins are registered when this module is imported).

Example:

>>> import keras
>>> optimizer = with_learning_rate_multipliers(keras.optimizers.Adam(1e-3), {"heads/": 10.0})
>>> type(optimizer).__name__, isinstance(optimizer, keras.optimizers.Adam)
('AdamWithLearningRateMultipliers', True)
>>> optimizer.multipliers
{'heads/': 10.0}
"""

import keras

_PACKAGE = "course_lib"
_CLASSES = {}  # base optimizer class -> its subclass with multipliers


def with_learning_rate_multipliers(optimizer, multipliers):
    """A new optimizer like ``optimizer`` whose update of each variable uses ``lr * factor``.

    Args:
        optimizer: a Keras 3 optimizer (an instance; its config is copied, not its state, so wrap it
            before training) or an identifier such as ``"adam"``. A ``LossScaleOptimizer`` gets its
            inner optimizer wrapped; an optimizer already wrapped gets its multipliers replaced.
        multipliers: ``{substring of variable.path: factor}``; the first key (in order) found in a
            variable's path gives its factor, 1.0 when none is. Factors are positive floats.

    Returns:
        An instance of ``<Class>WithLearningRateMultipliers``, a subclass of the optimizer's class.

    Raises:
        ValueError: ``multipliers`` is not a dict of non-empty strings to positive numbers.
    """
    optimizer = keras.optimizers.get(optimizer)
    if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        config = optimizer.get_config()
        config.pop("inner_optimizer")
        inner = with_learning_rate_multipliers(optimizer.inner_optimizer, multipliers)
        return keras.optimizers.LossScaleOptimizer(inner, **config)
    base = getattr(type(optimizer), "_multiplied_class", type(optimizer))
    config = {k: v for k, v in optimizer.get_config().items() if k != "multipliers"}
    return multiplier_class(base).from_config({**config, "multipliers": _check(multipliers)})


def multiplier_class(base):
    """The registered subclass ``<base>WithLearningRateMultipliers`` of optimizer class ``base``."""
    if not (isinstance(base, type) and issubclass(base, keras.optimizers.Optimizer)):
        raise ValueError(f"base must be a Keras optimizer class. Received: base={base!r}")
    if base in _CLASSES:
        return _CLASSES[base]
    name = f"{base.__name__}WithLearningRateMultipliers"
    if any(cls.__name__ == name for cls in _CLASSES.values()):
        raise ValueError(f"Another optimizer class is named {base.__name__!r}. Received: base={base!r}")
    cls = type(name, (_Multiplied, base), {"__module__": __name__, "__qualname__": name, "_multiplied_class": base})
    _CLASSES[base] = keras.saving.register_keras_serializable(package=_PACKAGE, name=name)(cls)
    globals()[name] = cls
    return cls


class _Multiplied:
    """Mixin placed before a Keras optimizer class: scales the learning rate per variable."""

    def __init__(self, *args, multipliers=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.multipliers = _check(multipliers or {})
        self._factors = {}

    def factor(self, variable):
        """The learning-rate factor of ``variable`` (a Keras variable, or its path as a string)."""
        path = variable if isinstance(variable, str) else variable.path
        return next((float(f) for key, f in self.multipliers.items() if key in path), 1.0)

    def build(self, variables):
        super().build(variables)
        self._factors = {self._var_key(v): self.factor(v) for v in variables}

    def update_step(self, gradient, variable, learning_rate):
        # ``variable`` is the backend variable here (a tf.Variable, per replica under tf.distribute):
        # look its factor up by the same key the optimizer uses for its slots.
        factor = self._factors.get(self._var_key(variable), 1.0)
        if factor != 1.0:
            learning_rate = keras.ops.multiply(learning_rate, factor)
        return super().update_step(gradient, variable, learning_rate)

    def get_config(self):
        return {**super().get_config(), "multipliers": dict(self.multipliers)}


def _check(multipliers):
    if not isinstance(multipliers, dict) or not all(
        isinstance(k, str) and k and isinstance(f, (int, float)) and not isinstance(f, bool) and f > 0
        for k, f in multipliers.items()
    ):
        raise ValueError(
            "multipliers must map non-empty substrings of variable paths to positive factors. "
            f"Received: multipliers={multipliers!r}"
        )
    return {k: float(f) for k, f in multipliers.items()}


def _register_builtins():
    for name in ("SGD", "Adam", "AdamW", "Adamax", "Nadam", "RMSprop", "Adagrad", "Adadelta", "Ftrl", "Lion", "Lamb"):
        if hasattr(keras.optimizers, name):
            multiplier_class(getattr(keras.optimizers, name))


_register_builtins()
