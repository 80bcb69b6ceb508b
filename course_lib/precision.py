"""The Keras global dtype policy, set for a block of code and restored after it.

Used by ``python -m course_lib train --mixed-precision``, by the layer checks in
``tests/layers/check.py`` and by every test that builds a model under ``mixed_float16``.
``keras.config.set_dtype_policy`` changes a process-wide setting; forgetting to restore it (or
restoring a hard-coded ``"float32"`` instead of what was there) makes every later model in the
process mixed or not by accident. Taught in notebook 02 (the ``--mixed-precision`` option).
"""

import contextlib

import keras

__all__ = ["dtype_policy"]


@contextlib.contextmanager
def dtype_policy(name):
    """Set Keras' global dtype policy to ``name`` inside the block, then restore the previous one.

    Layers built inside the block take the policy (``"mixed_float16"``: float16 compute, float32
    variables); layers built before or after it do not. The previous policy is restored even when
    the block raises.

    Args:
        name: a policy name such as ``"mixed_float16"``, ``"mixed_bfloat16"`` or ``"float32"``, a
            ``keras.DTypePolicy``, or ``None`` to leave the current policy as it is.

    Yields:
        The policy in force inside the block.

    Example:

    >>> with dtype_policy("mixed_float16"):
    ...     keras.layers.Dense(2).compute_dtype
    'float16'
    >>> keras.layers.Dense(2).compute_dtype
    'float32'
    """
    previous = keras.config.dtype_policy()
    if name is not None:
        keras.config.set_dtype_policy(name)
    try:
        yield keras.config.dtype_policy()
    finally:
        keras.config.set_dtype_policy(previous)
