"""The defaults of the data commands (``synth``, ``inspect``), in one place that imports nothing heavy.

:mod:`course_lib.data.synthetic` and :mod:`course_lib.data.summary` use them as their keyword
defaults, and :mod:`course_lib.cli` builds its ``--help`` from them without importing TensorFlow
(so ``python -m course_lib --help`` stays instant), as :mod:`course_lib.project.options` does for
``train`` and ``predict``.

>>> SAMPLE_ARGS["videos"], SUMMARY_TOP
(10000, 10)
"""

# The embedded sample: what ``make lab`` / ``make test`` generate into data/sample.
SAMPLE_ARGS = {"videos": 10_000, "shards": 10, "seed": 2018, "validate_fraction": 0.2, "relatedness": 0.5}
SUMMARY_TOP = 10  # most frequent labels that ``inspect`` lists
