"""The check every layer of ``course_lib.layers`` passes: ``check_layer(layer_or_factory, inputs)``.

What it checks, in order (each failure names the check):

1. **Config round trip.** ``type(layer).from_config(layer.get_config())`` has an equal config, and
   with the same weights gives the same outputs; the serialised layer is JSON.
2. **``.keras`` save and load.** The layer inside a functional model, saved and loaded in safe mode,
   gives the same outputs.
3. **``mixed_float16``.** A layer built under the policy (``course_lib.precision.dtype_policy``)
   gives outputs of dtype ``mixed_dtype`` (default: the layer's compute dtype; pass ``"float32"``
   for layers that promise float32 outputs, such as heads) and finite values.
4. **``jit_compile=True``.** ``model.predict`` under XLA matches the eager call.
5. **Distinct sub-networks** (layers with several experts, towers or heads). The layer tells the
   check which weights start each sub-network: ``sub_weights(layer)`` returns one weight (usually
   the kernel) per expert / tower / head, after the layer is built. No two may start
   proportional: their flattened common prefixes, normalised, must differ (a seeded Keras
   initializer repeats its random stream, so two sub-networks built from one seed start with the
   same values, rescaled when their shapes differ). With a factory, two layers made by it (same
   seed) must also start identical: one seed argument makes the whole layer reproducible.

Convention for later layers (experts, gates, towers, cross-stitch): give the layer one ``seed``
argument, derive a seed per sub-network from it, and test it with
``check_layer(lambda: Layer(..., seed=3), inputs, sub_weights=lambda layer: [e.kernel for e in
layer.experts])``. ``inputs`` is what ``layer(inputs)`` takes: an array, or a dict / list of arrays
(the functional model then has one ``keras.Input`` per array, named by the dict keys).
"""

import json
import tempfile
from pathlib import Path

import keras
import numpy as np
from keras import tree

from course_lib.precision import dtype_policy


def check_layer(layer_or_factory, inputs, *, mixed_dtype=None, sub_weights=None, rtol=1e-5, atol=1e-6):
    """Run the five checks of this module on a layer; raise ``AssertionError`` naming the failed one.

    Args:
        layer_or_factory: a layer (not yet called), or a function of no argument that returns a
            new one. A factory is needed to check reproducibility and to build the layer under
            ``mixed_float16``; for a layer instance the check rebuilds it from its config with the
            ``dtype`` entry removed (the layer as the global policy makes it).
        inputs: NumPy array(s) with a batch axis, as ``layer(inputs)`` takes them.
        mixed_dtype: the output dtype promised under ``mixed_float16``. Default: the compute
            dtype of the layer built under that policy.
        sub_weights: ``layer -> [weight, ...]``, one per sub-network, for check 5.
        rtol, atol: tolerances of the output comparisons (XLA may reorder sums).

    Returns:
        The layer's eager outputs (NumPy), for further assertions.
    """
    factory = layer_or_factory if callable(layer_or_factory) and not isinstance(layer_or_factory, keras.Layer) \
        else _rebuild_factory(layer_or_factory)
    layer = layer_or_factory if isinstance(layer_or_factory, keras.Layer) else factory()
    expected = _numpy(layer(inputs))
    _check_config(layer, inputs, expected, rtol, atol)
    model = _model(layer, inputs)
    _check_saving(model, inputs, expected, rtol, atol)
    _check_mixed(factory, inputs, mixed_dtype)
    _check_jit(model, inputs, expected, rtol, atol)
    if sub_weights is not None:
        _check_sub_weights(layer, factory, inputs, sub_weights, reproducible=not isinstance(layer_or_factory, keras.Layer))
    return expected


def _rebuild_factory(layer):
    config = {k: v for k, v in layer.get_config().items() if k != "dtype"}
    return lambda: type(layer).from_config(dict(config))


def _numpy(outputs):
    return tree.map_structure(lambda x: np.asarray(keras.ops.convert_to_numpy(x)), outputs)


def _assert_close(actual, expected, what, rtol, atol):
    tree.assert_same_structure(_numpy(actual), expected)
    for a, e in zip(tree.flatten(_numpy(actual)), tree.flatten(expected)):
        np.testing.assert_allclose(a, e, rtol=rtol, atol=atol, err_msg=what)


def _check_config(layer, inputs, expected, rtol, atol):
    config = layer.get_config()
    json.dumps(keras.saving.serialize_keras_object(layer))  # raises when the config is not JSON
    clone = type(layer).from_config(config)
    assert clone.get_config() == config, f"config round trip: {clone.get_config()} != {config}"
    clone(inputs)
    clone.set_weights(layer.get_weights())
    _assert_close(clone(inputs), expected, "config round trip: outputs differ with the same weights", rtol, atol)


def _model(layer, inputs):
    def keras_input(x, name):
        return keras.Input(np.shape(x)[1:], dtype=str(np.asarray(x).dtype), name=name)

    if isinstance(inputs, dict):
        symbolic = {key: keras_input(x, key) for key, x in inputs.items()}
    elif isinstance(inputs, (list, tuple)):
        symbolic = [keras_input(x, f"input_{i}") for i, x in enumerate(inputs)]
    else:
        symbolic = keras_input(inputs, "inputs")
    return keras.Model(symbolic, layer(symbolic))


def _check_saving(model, inputs, expected, rtol, atol):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.keras"
        model.save(path)
        loaded = keras.saving.load_model(path, safe_mode=True)
    _assert_close(loaded(inputs), expected, ".keras save and load: outputs differ", rtol, atol)


def _check_mixed(factory, inputs, mixed_dtype):
    with dtype_policy("mixed_float16"):
        layer = factory()
        outputs = layer(inputs)
    want = mixed_dtype or layer.compute_dtype
    for x in tree.flatten(outputs):
        got = keras.backend.standardize_dtype(x.dtype)
        assert got == want, f"mixed_float16: output dtype {got}, expected {want}"
        assert np.all(np.isfinite(keras.ops.convert_to_numpy(x))), "mixed_float16: outputs not finite"


def _check_jit(model, inputs, expected, rtol, atol):
    model.compile(jit_compile=True)
    assert model.jit_compile, "jit_compile: Keras fell back to eager (is op determinism on?)"
    _assert_close(model.predict(inputs, verbose=0), expected, "jit_compile=True: outputs differ from eager",
                  max(rtol, 1e-4), atol)


def _check_sub_weights(layer, factory, inputs, sub_weights, reproducible):
    starts = [np.asarray(keras.ops.convert_to_numpy(w), dtype="float64").reshape(-1) for w in sub_weights(layer)]
    assert len(starts) >= 2, f"sub_weights: expected one weight per sub-network, found {len(starts)}"
    for i in range(len(starts)):
        for j in range(i + 1, len(starts)):
            n = min(starts[i].size, starts[j].size)
            assert n >= 2, f"sub_weights {i} and {j}: fewer than 2 common values to compare"
            a, b = (s[:n] / np.linalg.norm(s[:n]) for s in (starts[i], starts[j]))
            assert not (np.allclose(a, b, atol=1e-6) or np.allclose(a, -b, atol=1e-6)), (
                f"distinct sub-networks: sub-networks {i} and {j} start with the same (rescaled) weights; "
                "give each its own seed"
            )
    if reproducible:
        again = factory()
        again(inputs)
        for w, v in zip(sub_weights(layer), sub_weights(again)):
            np.testing.assert_array_equal(np.asarray(w), np.asarray(v), err_msg="one seed, two builds: weights differ")
