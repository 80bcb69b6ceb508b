"""The course's Keras layers, one module per idea, in the order the notebooks teach them.

- :mod:`~course_lib.layers.heads` (notebook 03b): :class:`VerticalHeads`, one sigmoid head per
  label group, and :class:`LabelOrder`, the heads' columns back to label-id order in the graph.
- :mod:`~course_lib.layers.conditioning` (notebook 04): concatenation, additive, multi-head and
  multiplicative conditioning on a task descriptor z.
- :mod:`~course_lib.layers.soft_sharing` (notebook 05): :class:`SoftSharedDense`, one ``Dense``
  per task and the soft-sharing penalty between them as a layer loss.
- :mod:`~course_lib.layers.cross_stitch` (notebook 05): :class:`CrossStitch`, T task networks
  mixed by learned ``alpha`` (per channel or per layer), convex start by default.
- :mod:`~course_lib.layers.uncertainty` (notebook 06): :class:`UncertaintyWeighting`, task losses
  weighted by learned log-variances (Kendall, Gal & Cipolla 2018).
- :mod:`~course_lib.layers.experts` (notebook 07): :class:`Experts` (a batched expert bank),
  :class:`Gates` and :class:`MixtureOfExperts` (MMoE, and OMoE with one gate).
- :mod:`~course_lib.layers.routing` (notebook 07): :class:`SubNetworkRouting` (SNR-Trans and
  SNR-Aver, hard-concrete gates with an L0 penalty).
- :mod:`~course_lib.layers.ple` (notebook 07): :class:`ExtractionLevel` (CGC, one PLE level) and
  :class:`ProgressiveLayeredExtraction` (PLE).
- :mod:`~course_lib.layers.towers` (notebook 07): :class:`Towers`, one tower per topic vertical.

A new idea gets a module of its own. Every layer here is a real Keras layer: sub-layers and weights made in ``__init__`` /
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
from course_lib.layers.experts import Experts, Gates, MixtureOfExperts
from course_lib.layers.heads import LabelOrder, VerticalHeads
from course_lib.layers.ple import ExtractionLevel, ProgressiveLayeredExtraction
from course_lib.layers.routing import SubNetworkRouting
from course_lib.layers.soft_sharing import SoftSharedDense
from course_lib.layers.towers import Towers
from course_lib.layers.uncertainty import UncertaintyWeighting

__all__ = [
    "AdditiveConditioning",
    "ConcatenationConditioning",
    "CrossStitch",
    "Experts",
    "ExtractionLevel",
    "Gates",
    "LabelOrder",
    "MixtureOfExperts",
    "MultiHeadConditioning",
    "MultiplicativeConditioning",
    "ProgressiveLayeredExtraction",
    "SoftSharedDense",
    "SubNetworkRouting",
    "Towers",
    "UncertaintyWeighting",
    "VerticalHeads",
]
