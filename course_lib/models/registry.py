"""The registry behind :func:`build_model`: model names -> builder functions."""

import inspect

_BUILDERS = {}


def register_model(name):
    """Decorator: make a model builder available as ``build_model(name, ...)`` and ``--model name``.

    The builder takes keyword arguments only (each with a default) and returns a Keras ``Model``.
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"A model name must be a non-empty string. Received: name={name!r}")

    def register(builder):
        if name in _BUILDERS and _BUILDERS[name] is not builder:
            raise ValueError(f"A model named {name!r} is already registered ({_BUILDERS[name].__module__}).")
        _BUILDERS[name] = builder
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
    builder = _builder(name)
    unknown = sorted(set(kwargs) - set(model_arguments(name)))
    if unknown:
        raise ValueError(
            f"Model {name!r} takes {', '.join(model_arguments(name))}. Received: {', '.join(unknown)}"
        )
    return builder(**kwargs)


def _builder(name):
    if name not in _BUILDERS:
        raise ValueError(f"Unknown model; available: {', '.join(available_models())}. Received: model={name!r}")
    return _BUILDERS[name]
