"""The ``Example:`` blocks of the metrics' docstrings run and print what they claim."""

import doctest
import importlib

import pytest


@pytest.mark.parametrize("name", ["checks", "blocks", "selection", "runs", "pooled", "ranking", "streaming", "keras"])
def test_docstring_examples(name):
    module = importlib.import_module(f"course_lib.metrics.{name}")
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
