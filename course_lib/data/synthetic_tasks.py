"""The ground truth of the synthetic sample's multi-task structure: how the 25 verticals relate.

Used by :mod:`course_lib.data.synthetic` (the features are drawn from these directions) and read by
notebooks 04 to 07, which plot what their models learned against it.

The 25 verticals are the tasks. They fall into ``NUM_GROUPS`` = 5 seeded groups of five.
``u_v = sign_v sqrt(rho) d_g + sqrt(1 - rho) f_v`` with ``d_g`` the group's direction, ``f_v``
the vertical's own and all of them orthonormal, so two verticals of one group have cosine
``+rho`` (``-rho`` for the one vertical per group whose sign is -1: its signal conflicts with
its group's), and verticals of different groups have cosine 0. ``rho`` is the one knob,
``relatedness`` (default 0.5; 0 = unrelated tasks, 1 = one shared direction per group), as the
cosine between the tasks' weight vectors in the MMoE paper's synthetic experiment. Strengths
``s_v`` are drawn in [0.7, 1.3] (some tasks are harder), and one vertical per group is noisy.
``SYNTHETIC.json`` stores the structure beside the generator's arguments.
"""

import numpy as np

from course_lib.data.options import SAMPLE_ARGS
from course_lib.data.vocabulary import load_vocabulary

NUM_GROUPS = 5


def task_structure(seed=SAMPLE_ARGS["seed"], relatedness=SAMPLE_ARGS["relatedness"], vocabulary=None):
    """The seeded ground truth of how the 25 verticals (the tasks of notebooks 04-07) relate.

    The verticals are split at random into ``NUM_GROUPS`` groups of five. Vertical ``v`` of group
    ``g`` has the unit direction ``u_v = sign_v sqrt(relatedness) d_g + sqrt(1 - relatedness) e_v``
    (``d_g``, ``e_v`` orthonormal), so two verticals of one group have cosine ``+relatedness``
    when their signs agree and ``-relatedness`` when they conflict (one vertical in each group has
    ``sign = -1``), and verticals of different groups are orthogonal: ``relatedness`` is the knob of
    the MMoE paper's synthetic experiment. Five verticals, one per group, are noisy: a share of
    their labels (0.2 to 0.3) is replaced by another label of the vertical.

    Returns:
        A dict of plain lists (JSON-ready): ``verticals`` (names), ``group`` (group of each
        vertical), ``groups`` (vertical names of each group), ``sign``, ``strength`` (signal
        strength of each vertical, 0.7 to 1.3), ``label_noise``, ``relatedness`` (the knob) and
        ``cosine`` (the 25 x 25 matrix of cosines between the verticals' directions).

    Example:

    >>> truth = task_structure(seed=0, relatedness=0.6)
    >>> len(truth["verticals"]), round(max(c for row in truth["cosine"] for c in row if c < 0.99), 2)
    (25, 0.6)
    """
    if not 0 <= relatedness <= 1:
        raise ValueError(f"relatedness must be in [0, 1]. Received: relatedness={relatedness!r}")
    vocabulary = vocabulary or load_vocabulary()
    num_verticals = vocabulary.num_verticals
    rng = np.random.default_rng([seed, 4])
    group = np.empty(num_verticals, np.int64)
    group[rng.permutation(num_verticals)] = np.arange(num_verticals) % NUM_GROUPS
    sign = np.ones(num_verticals)
    label_noise = np.zeros(num_verticals)
    for g in range(NUM_GROUPS):
        members = rng.permutation(np.flatnonzero(group == g))
        sign[members[0]] = -1.0
        label_noise[members[1]] = rng.uniform(0.2, 0.3)
    strength = rng.uniform(0.7, 1.3, num_verticals)
    mix = np.sqrt(relatedness) * sign[:, None] * np.eye(NUM_GROUPS)[group]
    coordinates = np.concatenate([mix, np.sqrt(1 - relatedness) * np.eye(num_verticals)], axis=1)
    cosine = coordinates @ coordinates.T
    return {
        "verticals": list(vocabulary.vertical_names),
        "group": group.tolist(),
        "groups": [[vocabulary.vertical_names[v] for v in np.flatnonzero(group == g)] for g in range(NUM_GROUPS)],
        "sign": sign.tolist(),
        "strength": strength.round(6).tolist(),
        "label_noise": label_noise.round(6).tolist(),
        "relatedness": float(relatedness),
        "cosine": cosine.round(6).tolist(),
        "_coordinates": coordinates,
    }
