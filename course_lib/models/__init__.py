"""Models by name: the course's baseline and, in later notebooks, the multi-task models.

Taught in notebook 02 (the baseline) and the multi-task notebooks that register more. Each model
is a function that returns a Keras ``Model`` whose inputs are named like the features of
:func:`course_lib.data.load_yt8m` (``mean_rgb``, ``mean_audio``). ``python -m course_lib train
--model NAME`` and :func:`build_model` look the name up here::

    @register_model("fcn")
    def fcn(num_classes=3862, hidden_units=1024, ...):
        ...

    model = build_model("fcn", hidden_units=256)
"""

from course_lib.models.registry import available_models, build_model, model_arguments, register_model

# Built-in models register themselves on import.
from course_lib.models import fcn  # noqa: E402,F401  isort: skip
