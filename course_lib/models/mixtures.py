"""Learning what to share: OMoE, MMoE, SNR, CGC and PLE with one tower per topic vertical.

Taught in notebook 07. Every model reads ``x = [mean_rgb, mean_audio]`` (1,152 values), mixes
experts into one input per task, and feeds 25 towers, one per topic vertical (24 topics and
``(Unknown)``), whose output units are that vertical's labels (the SNR paper's set-up on
YouTube-8M)::

    x        = concat(mean_rgb, mean_audio)                     # (batch, 1152)
    x_k      = mixture(x)[:, k]                                 # OMoE, MMoE, SNR, CGC or PLE
    p_k      = Towers(x_k)                                      # (batch, |vertical k|)
    labels   = LabelOrder(p_1, ..., p_25)                       # (batch, 3862), label-id order

Each vertical is a task with its own loss, weighted as in
:func:`course_lib.models.vertical_heads.vertical_tasks` (``"size"``: the FCN's binary
cross-entropy split by vertical). The shared-bottom baseline with the same towers is
``vertical_heads`` (the FCN's trunk) or the ``shared_bottom`` model of notebook 04. Seeds: the
mixture gets ``seed``, the towers ``seed + 100000`` (no slice of one meets a slice of the other).

Every model's towers are layer-normalised and their heads start at the labels' log-prior odds
(``tower_normalize=True``, ``head_bias="prior"``; see :class:`~course_lib.layers.Towers`): without
them, on the real shards, MMoE and PLE reached less than half the FCN's MAP@10 in 10 epochs.
"""

import keras

from course_lib import layers
from course_lib.data import load_vocabulary, spec
from course_lib.models.registry import register_model
from course_lib.models.vertical_heads import vertical_tasks

TOWER_SEED = 100_000


def mixture_tasks(weighting="size", **_):
    """``{vertical: Task}`` and ``labels`` (measured only), as :func:`vertical_tasks`."""
    return vertical_tasks(weighting=weighting)


def with_towers(mixture, name, tower_units=64, weighting="size", seed=0, tower_normalize=True, head_bias="prior"):
    """The model: ``mixture`` (a layer ``(batch, d) -> (batch, 25, u)``) under 25 vertical towers."""
    vertical_tasks(weighting=weighting)  # validates
    groups = load_vocabulary().vertical_groups()
    rgb = keras.Input((spec.RGB_SIZE,), name="mean_rgb")
    audio = keras.Input((spec.AUDIO_SIZE,), name="mean_audio")
    x = keras.layers.Concatenate(name="features")([rgb, audio])
    per_task = mixture(x)
    per_vertical = layers.Towers(groups, hidden_units=tower_units, normalize=tower_normalize, head_bias=head_bias,
                                 seed=seed + TOWER_SEED, name="towers")(per_task)
    labels = layers.LabelOrder(groups, num_classes=spec.NUM_CLASSES, name="labels")(per_vertical)
    return keras.Model({"mean_rgb": rgb, "mean_audio": audio}, {**per_vertical, "labels": labels}, name=name)


def _num_tasks():
    return len(load_vocabulary().vertical_groups())


@register_model("omoe", tasks=mixture_tasks)
def omoe(num_experts=8, expert_units=256, tower_units=64, expert_dropout=0.0, weighting="size", tower_normalize=True,
         head_bias="prior", seed=0):
    """One-gate mixture of experts: one softmax gate for every vertical's tower.

    Args:
        num_experts, expert_units: the expert bank (:class:`~course_lib.layers.MixtureOfExperts`).
        tower_units: hidden units of every tower (:class:`~course_lib.layers.Towers`).
        tower_normalize, head_bias: the towers' ``normalize`` and ``head_bias`` (defaults
            ``True`` and ``"prior"``; ``False`` and ``"zeros"`` give the plain towers).
        expert_dropout: drop experts from the gate while training. Default 0.
        weighting: the verticals' loss weights, ``"size"`` or ``"uniform"``.
        seed: see the module docstring.

    Output shape:
        ``{vertical: (batch, |vertical|)}`` for the 25 verticals and ``"labels": (batch, 3862)``.

    Example:

    >>> model = omoe(num_experts=2, expert_units=8, tower_units=4)
    >>> model({"mean_rgb": keras.ops.zeros((2, 1024)), "mean_audio": keras.ops.zeros((2, 128))})["labels"].shape
    TensorShape([2, 3862])
    """
    mixture = layers.MixtureOfExperts(_num_tasks(), num_experts, expert_units, num_gates=1,
                                      expert_dropout=expert_dropout, seed=seed, name="mixture")
    return with_towers(mixture, "omoe", tower_units, weighting, seed, tower_normalize, head_bias)


@register_model("mmoe", tasks=mixture_tasks)
def mmoe(num_experts=8, expert_units=256, tower_units=64, expert_dropout=0.0, weighting="size", tower_normalize=True,
         head_bias="prior", seed=0):
    """Multi-gate mixture of experts: a softmax gate per vertical, ``f^k = sum_i g^k_i f_i``.

    Arguments as :func:`omoe`; the output likewise.
    """
    mixture = layers.MixtureOfExperts(_num_tasks(), num_experts, expert_units, expert_dropout=expert_dropout,
                                      seed=seed, name="mixture")
    return with_towers(mixture, "mmoe", tower_units, weighting, seed, tower_normalize, head_bias)


@register_model("snr", tasks=mixture_tasks)
def snr(num_experts=8, expert_units=256, mode="trans", output_units=32, l0_weight=1e-5, tower_units=64,
        weighting="size", tower_normalize=True, head_bias="prior", seed=0):
    """Sub-network routing: experts connected to each vertical's tower by hard-concrete gates.

    Args:
        mode: ``"trans"`` (SNR-Trans: a ``(expert_units, output_units)`` matrix per connection)
            or ``"aver"`` (SNR-Aver: identity; ``output_units`` is then ``expert_units``).
        output_units: width of each tower's input for ``"trans"``. Default 32.
        l0_weight: weight of the L0 penalty (per expected open connection). Default 1e-5.
        Others as :func:`omoe`.
    """
    mixture = layers.SubNetworkRouting(_num_tasks(), num_experts, expert_units, mode=mode,
                                       output_units=output_units if mode == "trans" else None,
                                       l0_weight=l0_weight, seed=seed, name="mixture")
    return with_towers(mixture, "snr", tower_units, weighting, seed, tower_normalize, head_bias)


@register_model("cgc", tasks=mixture_tasks)
def cgc(task_experts=1, shared_experts=4, expert_units=128, tower_units=64, expert_dropout=0.0, weighting="size",
        tower_normalize=True, head_bias="prior", seed=0):
    """Customized gate control: per-vertical experts and shared ones, each gate sees its own and the shared.

    Args:
        task_experts: experts of each vertical. Default 1.
        shared_experts: shared experts. Default 4.
        Others as :func:`omoe`.
    """
    mixture = layers.ExtractionLevel(_num_tasks(), task_experts, shared_experts, expert_units,
                                     expert_dropout=expert_dropout, seed=seed, name="mixture")
    return with_towers(mixture, "cgc", tower_units, weighting, seed, tower_normalize, head_bias)


@register_model("ple", tasks=mixture_tasks)
def ple(task_experts=1, shared_experts=4, expert_units=128, num_levels=2, tower_units=64, expert_dropout=0.0,
        weighting="size", tower_normalize=True, head_bias="prior", seed=0):
    """Progressive layered extraction: ``num_levels`` CGC levels, a shared gate in every level but the last.

    Args:
        num_levels: default 2.
        Others as :func:`cgc`.
    """
    mixture = layers.ProgressiveLayeredExtraction(_num_tasks(), task_experts, shared_experts, expert_units,
                                                  num_levels=num_levels, expert_dropout=expert_dropout, seed=seed,
                                                  name="mixture")
    return with_towers(mixture, "ple", tower_units, weighting, seed, tower_normalize, head_bias)
