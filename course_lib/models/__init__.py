"""Models by name: the course's baseline and the multi-task models, each a builder function.

Taught in notebook 02 (the baseline) and the multi-task notebooks that register more. A builder
returns a Keras ``Model`` whose inputs are named like the features of
:func:`course_lib.data.load_yt8m` (``mean_rgb``, ``mean_audio``) and whose outputs are a dict with
``labels`` ``(batch, 3862)`` in label-id order, plus any named task outputs; how ``train`` fits
each output is declared beside the builder (see :mod:`~course_lib.models.registry`)::

    def my_tasks(hidden_units=1024, seed=0):          # same keyword arguments as the builder
        return {"labels": Task(), "games": Task(weight=0.5, label_ids=games_ids)}

    @register_model("my_model", tasks=my_tasks)
    def my_model(hidden_units=1024, seed=0):
        ...
        return keras.Model(inputs, {"labels": labels, "games": games})

    model = build_model("my_model", hidden_units=256)   # python -m course_lib train --model my_model

Registered here, each in its own module:

- ``fcn`` (:mod:`~course_lib.models.fcn`): the demo's baseline.
- ``vertical_heads`` (:mod:`~course_lib.models.vertical_heads`): the FCN's trunk with a head and a
  loss per topic vertical.
- ``shared_bottom`` (:mod:`~course_lib.models.shared_bottom`): a tower and a head per vertical on
  the shared trunk (notebook 04).
- ``cross_stitch`` (:mod:`~course_lib.models.cross_stitch`): one network per chosen vertical, mixed
  by cross-stitch units (notebook 05).

Models import layers and data, never the project.
"""

from course_lib.models.registry import (
    RUN_LOSS,
    Task,
    available_models,
    build_model,
    model_arguments,
    model_tasks,
    register_model,
)

# Built-in models register themselves on import.
from course_lib.models import fcn  # noqa: E402,F401  isort: skip
from course_lib.models import vertical_heads  # noqa: E402,F401  isort: skip
from course_lib.models import shared_bottom  # noqa: E402,F401  isort: skip
from course_lib.models import cross_stitch  # noqa: E402,F401  isort: skip
