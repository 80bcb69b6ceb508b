"""The choices and defaults of ``train`` and ``predict``, in one place that imports nothing heavy.

:mod:`course_lib.project.train` and :mod:`course_lib.project.predict` use them as their keyword
defaults, and :mod:`course_lib.cli` builds its ``--help`` from them without importing TensorFlow
(so ``python -m course_lib --help`` stays instant).
"""

LOSSES = ("binary_crossentropy", "categorical_crossentropy")
STRATEGIES = ("default", "mirrored", "multiworker")
TRAIN_DEFAULTS = {
    "model": "fcn",
    "epochs": 5,
    "batch_size": 256,
    "learning_rate": 1e-3,
    "loss": "binary_crossentropy",
    "seed": 0,
    "strategy": "default",
    "keep_checkpoints": 3,
}
PREDICT_BATCH_SIZE = 1024
