"""The course's Keras layers, one module per idea, in the order the notebooks teach them.

- :mod:`~course_lib.layers.heads` (notebook 03b): :class:`VerticalHeads`, one sigmoid head per
  label group, and :class:`LabelOrder`, the heads' columns back to label-id order in the graph.
- :mod:`~course_lib.layers.soft_sharing` (notebook 05): :class:`SoftSharedDense`, one ``Dense``
  per task and the soft-sharing penalty between them as a layer loss.
- :mod:`~course_lib.layers.cross_stitch` (notebook 05): :class:`CrossStitch`, T task networks
  mixed by learned ``alpha`` (per channel or per layer), convex start by default.

Later notebooks add a module each (task conditioning, cross-stitch, experts and gates, towers,
...). Every layer here is a real Keras layer: sub-layers and weights made in ``__init__`` /
``build``, ``keras.ops`` in ``call``, a ``get_config`` that round-trips, registered with
``@keras.saving.register_keras_serializable(package="course_lib")`` so ``.keras`` files load in
safe mode, and a docstring with the equation, ``Args``, shapes, a runnable ``Example`` and the
notebook that teaches it. Every one passes ``tests/layers/check.py: check_layer`` (config round
trip, ``.keras`` save and load, ``mixed_float16``, ``jit_compile=True``, distinct sub-networks).

Layers import from :mod:`course_lib.data` and the NumPy helpers beside it, never from
:mod:`course_lib.models` or :mod:`course_lib.project`, which build on them.
"""

from course_lib.layers.conditioning import (
    AdditiveConditioning,
    ConcatenationConditioning,
    MultiHeadConditioning,
    MultiplicativeConditioning,
)
from course_lib.layers.cross_stitch import CrossStitch
from course_lib.layers.heads import LabelOrder, VerticalHeads
from course_lib.layers.soft_sharing import SoftSharedDense

__all__ = [
    "AdditiveConditioning",
    "ConcatenationConditioning",
    "CrossStitch",
    "LabelOrder",
    "MultiHeadConditioning",
    "MultiplicativeConditioning",
    "SoftSharedDense",
    "VerticalHeads",
]
