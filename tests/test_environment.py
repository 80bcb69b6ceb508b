"""environment.yml (conda) and pyproject.toml (pip) name the same dependencies."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _name_and_spec(requirement):
    match = re.match(r"^\s*([A-Za-z0-9_.-]+)(\[[^\]]*\])?\s*(.*)$", requirement)
    return match.group(1).lower().replace("_", "-"), match.group(3).replace(" ", "")


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pip = dict(_name_and_spec(r) for r in project["dependencies"])
    for extra, requirements in project["optional-dependencies"].items():
        if extra != "gpu":  # the CUDA build is pip-only; conda users get CUDA from conda-forge
            pip.update(_name_and_spec(r) for r in requirements)
    conda = {}
    text = (ROOT / "environment.yml").read_text()
    for line in text[text.index("dependencies:") :].splitlines():
        item = re.match(r"^  - ([A-Za-z0-9_.-]+)(.*)$", line)
        if item and item.group(1) not in ("python", "pip"):
            # conda-forge spells some names with "_" (jupyterlab_rise) where PyPI normalises to "-"
            conda[item.group(1).lower().replace("_", "-")] = item.group(2).replace(" ", "")
    assert conda == pip
