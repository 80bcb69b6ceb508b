"""The course project as three commands: ``train``, ``predict``, ``score``.

Taught in notebook 02 and used by every later notebook's experiments::

    python -m course_lib train --model fcn --epochs 5 --out runs/fcn
    python -m course_lib predict --run runs/fcn --out runs/fcn/submission.csv
    python -m course_lib score runs/fcn/submission.csv

One module per command (:mod:`~course_lib.project.train`, :mod:`~course_lib.project.predict`,
:mod:`~course_lib.project.score`), each with a Python function a notebook calls and the ``main(args)``
the command line calls; :mod:`~course_lib.project.runs` is the run folder they share,
:mod:`~course_lib.project.distribute` the ``--strategy`` choices (one device, mirrored,
multi-worker), and :mod:`~course_lib.project.options` the commands' choices and defaults (read by
:mod:`course_lib.cli` without importing TensorFlow). The project reads a model through one
contract: a dict of outputs with ``labels`` in label-id order, and the tasks its builder declares
(:mod:`course_lib.models.registry`).
"""
