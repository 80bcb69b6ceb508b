"""The relatedness sweep: the synthetic generator's one knob, and results read against its truth.

Taught in notebook 07, part 9. The generator (:mod:`course_lib.data.synthetic`) splits the 25
verticals into five groups of five whose directions have cosine ``relatedness`` (``-relatedness``
for the one vertical per group that conflicts with its group; one other vertical per group has
noisy labels). :func:`write_samples` writes one small sample per value with the same seed, so the
groups, signs, noisy verticals and strengths stay the same and only the cosine changes; the other
functions sort per-vertical results by what that truth says each vertical is::

    folders = write_samples(tmp, (0.0, 0.5, 1.0), videos=4000)   # {relatedness: folder}
    truth = read_truth(folders[1.0])                              # SYNTHETIC.json's task_structure
    vertical_roles(truth)                                         # "aligned", "conflicting" or "noisy"
    by_role({vertical: gain}, truth)                              # {role: mean over its verticals}
    gate_grouping(mean_gate_weights, truth)                       # gate use: one group against the rest
"""

import json
from pathlib import Path

import numpy as np

from course_lib.data.options import SAMPLE_ARGS
from course_lib.data.vocabulary import slugify

__all__ = ["ROLES", "by_role", "gate_grouping", "read_truth", "vertical_roles", "write_samples"]

ROLES = ("aligned", "conflicting", "noisy")


def write_samples(folder, values, videos, *, seed=SAMPLE_ARGS["seed"], shards=2, validate_fraction=0.5,
                  progress=False):
    """One synthetic sample per relatedness value, in ``folder/relatedness_<value>``.

    Args:
        folder: where the samples go (created if needed).
        values: relatedness values, each in [0, 1].
        videos: videos of each sample, train and validate together.
        seed: the generator's seed (default: the embedded sample's, so the groups are the sample's).
        shards: shards of each sample (default 2: one train, one validate).
        validate_fraction: share of the videos in the validate split (default 0.5).
        progress: show the generator's progress bar.

    Returns:
        ``{relatedness (float): folder}`` in the order given.

    Example:

    >>> import tempfile
    >>> folders = write_samples(tempfile.mkdtemp(), (0.0, 1.0), videos=8)
    >>> [read_truth(f)["relatedness"] for f in folders.values()]
    [0.0, 1.0]
    """
    from course_lib.data.synthetic import write_synthetic

    values = [float(value) for value in values]
    if not all(0 <= value <= 1 for value in values):
        raise ValueError(f"relatedness values must be in [0, 1]. Received: values={values!r}")
    folders = {}
    for value in values:
        out = Path(folder) / f"relatedness_{value:.2f}"
        write_synthetic(out, videos=videos, shards=shards, seed=seed, validate_fraction=validate_fraction,
                        progress=progress, relatedness=value)
        folders[value] = out
    return folders


def read_truth(folder):
    """The ``task_structure`` a sample's ``SYNTHETIC.json`` stores (see ``task_structure``)."""
    manifest = Path(folder) / "SYNTHETIC.json"
    if not manifest.exists():
        raise ValueError(f"{manifest}: no such file; a synthetic sample's folder holds one. Received: folder={folder}")
    return json.loads(manifest.read_text())["task_structure"]


def vertical_roles(truth):
    """Each vertical's role in the truth: ``"conflicting"`` (sign -1), ``"noisy"`` or ``"aligned"``.

    Example:

    >>> from course_lib.data.synthetic import task_structure
    >>> roles = vertical_roles(task_structure(seed=0))
    >>> [roles.count(role) for role in ROLES]
    [15, 5, 5]
    """
    return ["conflicting" if sign < 0 else "noisy" if noise > 0 else "aligned"
            for sign, noise in zip(truth["sign"], truth["label_noise"])]


def by_role(values, truth):
    """Mean of per-vertical ``values`` over the verticals of each role; ``None`` values are left out.

    Args:
        values: ``{vertical: value}`` keyed by name or by slug (``experiments.per_group_map`` of
            ``vertical_groups()``), or a sequence in ``truth["verticals"]`` order.
        truth: a ``task_structure``.

    Returns:
        ``{role: mean}`` for the roles in :data:`ROLES` (``nan`` for a role without a value).

    Example:

    >>> truth = {"verticals": ["a", "b", "c", "d"], "sign": [1, -1, 1, 1], "label_noise": [0, 0, 0.2, 0]}
    >>> by_role({"a": 1.0, "b": 2.0, "c": 3.0, "d": None}, truth)
    {'aligned': 1.0, 'conflicting': 2.0, 'noisy': 3.0}
    """
    if isinstance(values, dict):
        values = {slugify(name): value for name, value in values.items()}
        missing = [name for name in truth["verticals"] if slugify(name) not in values]
        if missing:
            raise ValueError(f"values must name every vertical of the truth. Received: no value for {missing[:3]}")
        values = [values[slugify(name)] for name in truth["verticals"]]
    if len(values) != len(truth["verticals"]):
        raise ValueError(f"values must have one entry per vertical ({len(truth['verticals'])}). "
                         f"Received: {len(values)} values")
    roles = vertical_roles(truth)
    result = {}
    for role in ROLES:
        chosen = [float(v) for v, r in zip(values, roles) if r == role and v is not None]
        result[role] = float(np.mean(chosen)) if chosen else float("nan")
    return result


def gate_grouping(gates, truth):
    """How alike the gate use of two verticals is, for pairs of one group and pairs of two groups.

    Each vertical's row of mean gate weights (``(25, experts)``, e.g. an MMoE's gate values averaged
    over videos) minus the mean row, so that what every gate shares drops out; the similarity of two
    verticals is the cosine of their centred rows.

    Returns:
        ``{"same group": mean over the pairs of one group, "other groups": mean over the other
        pairs}``; the truth's cosines are ``+-relatedness`` for the first and 0 for the second.

    Example:

    >>> truth = {"group": [0, 0, 1, 1]}
    >>> gates = np.array([[0.9, 0.1], [0.8, 0.2], [0.1, 0.9], [0.2, 0.8]])
    >>> {k: round(v, 3) for k, v in gate_grouping(gates, truth).items()}
    {'same group': 1.0, 'other groups': -1.0}
    """
    gates = np.asarray(gates, dtype=np.float64)
    group = np.asarray(truth["group"])
    if gates.ndim != 2 or len(gates) != len(group):
        raise ValueError(f"gates must be (verticals, experts) with {len(group)} rows. Received: shape {gates.shape}")
    centred = gates - gates.mean(axis=0)
    norms = np.maximum(np.linalg.norm(centred, axis=1, keepdims=True), 1e-12)
    cosine = (centred / norms) @ (centred / norms).T
    pairs = np.triu(np.ones_like(cosine, dtype=bool), k=1)
    same = group[:, None] == group[None, :]
    return {"same group": float(cosine[pairs & same].mean()), "other groups": float(cosine[pairs & ~same].mean())}
