"""pytest set-up shared by the unit tests and nbval.

Notebooks are checked at the CI size on the embedded sample, whatever the machine has: nbval
compares the outputs committed in each notebook (worked examples, shapes, counts, seeded results),
and those were produced with these settings.
"""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent
# nbval's run of each notebook also tries its exercises' stubs and known cheats (CONTRIBUTING.md, Exercises).
pytest_plugins = ["tests.notebooks.nbval_exercises"]
os.environ["COURSE_SIZE"] = "small"
os.environ["YT8M_DATA"] = str(ROOT / "data" / "sample")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("PYTHONHASHSEED", "0")

# stderr carries TensorFlow's log lines and warnings, which vary by machine; SVG embeds random ids.
NBVAL_SKIP_COMPARE = ("stderr", "image/svg+xml", "application/javascript")


def pytest_collectstart(collector):
    if getattr(collector, "path", None) is not None and collector.path.suffix == ".ipynb":
        collector.skip_compare = tuple(collector.skip_compare) + NBVAL_SKIP_COMPARE
