"""The course project as three commands: ``train``, ``predict``, ``score``.

Taught in notebook 02 and used by every later notebook's experiments::

    python -m course_lib train --model fcn --epochs 5 --out runs/fcn
    python -m course_lib predict --run runs/fcn --out runs/fcn/submission.csv
    python -m course_lib score runs/fcn/submission.csv

One module per command (:mod:`~course_lib.project.train`, :mod:`~course_lib.project.predict`,
:mod:`~course_lib.project.score`), each with a Python function a notebook calls and the ``main(args)``
the command line calls; :mod:`~course_lib.project.runs` is the run folder they share.
"""
