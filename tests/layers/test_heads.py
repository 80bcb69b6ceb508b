"""VerticalHeads and LabelOrder: the shared layer check, label order, seeds, and bad arguments."""

import doctest

import keras
import numpy as np
import pytest

from course_lib import heads as column_maps
from course_lib import precision
from course_lib.data import load_vocabulary
from course_lib.layers import LabelOrder, VerticalHeads
from course_lib.layers import heads as heads_module
from tests.layers.check import check_layer

GROUPS = {"music": [2, 0, 5], "sports": [1, 3], "news": [6]}  # label 4 in no group


def hidden(batch=4, width=8, seed=0):
    return np.random.default_rng(seed).normal(size=(batch, width)).astype("float32")


def head_outputs(batch=4, seed=0):
    rng = np.random.default_rng(seed)
    return {name: rng.uniform(size=(batch, len(ids))).astype("float32") for name, ids in GROUPS.items()}


def test_vertical_heads_pass_the_layer_check():
    outputs = check_layer(
        lambda: VerticalHeads(GROUPS, seed=3),
        hidden(),
        mixed_dtype="float32",
        sub_weights=lambda layer: [head.kernel for head in layer.heads],
    )
    assert {name: p.shape for name, p in outputs.items()} == {"music": (4, 3), "sports": (4, 2), "news": (4, 1)}
    assert all(np.all((p > 0) & (p < 1)) for p in outputs.values())


def test_prior_heads_pass_the_layer_check_and_start_at_the_log_prior_odds():
    outputs = check_layer(lambda: VerticalHeads(GROUPS, seed=3, head_bias="prior"), hidden(), mixed_dtype="float32",
                          sub_weights=lambda layer: [head.kernel for head in layer.heads])
    layer = VerticalHeads(GROUPS, seed=3, head_bias="prior")
    layer(hidden())
    odds = load_vocabulary().log_prior_odds()
    for head in layer.heads:
        np.testing.assert_allclose(np.asarray(head.bias), odds[GROUPS[head.name]], rtol=1e-6)
        z = hidden() @ np.asarray(head.kernel) + odds[GROUPS[head.name]]
        np.testing.assert_allclose(outputs[head.name], 1 / (1 + np.exp(-z)), rtol=1e-5, atol=1e-7)


def test_label_order_passes_the_layer_check():
    outputs = check_layer(lambda: LabelOrder(GROUPS, num_classes=8, fill=-1.0), head_outputs(), mixed_dtype="float32")
    expected = column_maps.to_label_order(head_outputs(), GROUPS, num_classes=8, fill=-1.0)
    np.testing.assert_array_equal(outputs, expected)


def test_a_layer_instance_and_list_inputs_pass_too():
    layer = LabelOrder(GROUPS)
    outputs = check_layer(layer, [head_outputs()[name] for name in GROUPS], mixed_dtype="float32")
    assert outputs.shape == (4, 7)  # default width: the largest id + 1


def test_the_check_catches_heads_that_share_one_seed():
    @keras.saving.register_keras_serializable(package="tests")
    class OneSeed(VerticalHeads):  # the DeepCTR pitfall: one seeded initializer for every head
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            for head in self.heads:
                head.kernel_initializer = keras.initializers.GlorotUniform(seed=0)

    with pytest.raises(AssertionError, match="distinct sub-networks"):
        check_layer(lambda: OneSeed(GROUPS, seed=0), hidden(), mixed_dtype="float32",
                    sub_weights=lambda layer: [head.kernel for head in layer.heads])


def test_heads_and_label_order_on_the_real_verticals_match_the_numpy_maps():
    groups = load_vocabulary().vertical_groups()
    inputs = keras.Input((16,))
    per_vertical = VerticalHeads(groups, seed=0)(inputs)
    model = keras.Model(inputs, {**per_vertical, "labels": LabelOrder(groups, num_classes=3862)(per_vertical)})
    out = model(hidden(width=16), training=False)
    assert tuple(out["labels"].shape) == (4, 3862)
    numpy_order = column_maps.to_label_order({k: np.asarray(v) for k, v in out.items()}, groups, num_classes=3862)
    np.testing.assert_array_equal(np.asarray(out["labels"]), numpy_order)


def test_heads_stay_float32_on_a_float16_trunk():
    with precision.dtype_policy("mixed_float16"):
        inputs = keras.Input((8,))
        trunk = keras.layers.Dense(8, name="trunk")(inputs)
        per_vertical = VerticalHeads(GROUPS, seed=0)(trunk)
        labels = LabelOrder(GROUPS)(per_vertical)
    assert keras.backend.standardize_dtype(trunk.dtype) == "float16"
    assert all(keras.backend.standardize_dtype(p.dtype) == "float32" for p in per_vertical.values())
    assert keras.backend.standardize_dtype(labels.dtype) == "float32"


@pytest.mark.parametrize(
    "make, text",
    [
        (lambda: VerticalHeads({"a": [0, 1], "b": [1]}), "overlap"),
        (lambda: VerticalHeads({}), "groups"),
        (lambda: VerticalHeads({"a": []}), "at least one label id"),
        (lambda: VerticalHeads([("a", [0]), ("a", [1])]), "distinct"),
        (lambda: VerticalHeads({"a": [0]}, seed=-1), "Received: seed=-1"),
        (lambda: VerticalHeads({"a": [0]}, head_bias="ones"), "head_bias must be one of zeros, prior"),
        (lambda: VerticalHeads({"a": [3862]}, head_bias="prior"), "label ids in"),
        (lambda: LabelOrder({"a": [0, 5]}, num_classes=3), "num_classes"),
        (lambda: LabelOrder({"a": [0]})({"b": np.zeros((1, 1))}), "group"),
        (lambda: LabelOrder({"a": [0, 1]})({"a": np.zeros((1, 3))}), "2 columns"),
    ],
)
def test_bad_arguments_name_the_problem(make, text):
    with pytest.raises(ValueError, match=text):
        make()


def test_dtype_policy_restores_the_previous_policy_even_on_error():
    with precision.dtype_policy("mixed_bfloat16"):
        with pytest.raises(RuntimeError):
            with precision.dtype_policy("mixed_float16"):
                raise RuntimeError
        assert keras.config.dtype_policy().name == "mixed_bfloat16"
    assert keras.config.dtype_policy().name == "float32"


@pytest.mark.parametrize("module", [heads_module, precision])
def test_docstring_examples_run(module):
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
