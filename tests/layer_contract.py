"""The Keras layer contract, checked in one place (in the spirit of Keras' `run_layer_test`).

`check_layer_contract(make, inputs, call_kwargs)` builds a layer with `make()`, calls it
eagerly on `inputs` (NumPy arrays) and requires, against that eager output:

1. config round trip: `from_config(get_config())` has the same config and, with the
   same weights, the same output;
2. the same output inside `tf.function`;
3. a functional model around the layer saves to `.keras` and reloads with the same output;
4. under the `mixed_float16` policy: a float16 output, finite, close to float32's.

Array-valued `call_kwargs` (e.g. `valid_lens`) become model inputs; others are passed as is.
"""

import keras
import numpy as np
import tensorflow as tf


def _first(output):
    return output[0] if isinstance(output, (tuple, list)) else output


def check_layer_contract(make, inputs, call_kwargs=None, tmp_path=None, fp16_atol=3e-2):
    call_kwargs = dict(call_kwargs or {})
    layer = make()
    expected = _first(layer(*inputs, **call_kwargs)).numpy()

    # 1) config round trip, same weights -> same output
    clone = type(layer).from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    clone(*inputs, **call_kwargs)
    clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(_first(clone(*inputs, **call_kwargs)).numpy(), expected,
                               atol=1e-6)

    # 2) inside tf.function
    traced = tf.function(lambda *args: _first(layer(*args, **call_kwargs)))
    np.testing.assert_allclose(traced(*[tf.constant(a) for a in inputs]).numpy(), expected,
                               atol=1e-5)

    # 3) .keras save and load, in a functional model
    if tmp_path is not None:
        arrays = {k: v for k, v in call_kwargs.items() if isinstance(v, np.ndarray)}
        others = {k: v for k, v in call_kwargs.items() if k not in arrays}
        symbolic = [keras.Input(a.shape[1:], dtype=str(a.dtype)) for a in inputs]
        named = {k: keras.Input(a.shape[1:], dtype=str(a.dtype)) for k, a in arrays.items()}
        output = _first(layer(*symbolic, **named, **others))
        model = keras.Model(symbolic + list(named.values()), output)
        path = tmp_path / f"{layer.name}.keras"
        model.save(path)
        reloaded = keras.models.load_model(path)
        feed = list(inputs) + list(arrays.values())
        np.testing.assert_allclose(reloaded.predict(feed, verbose=0), expected, atol=1e-5)

    # 4) mixed precision: computes in float16, stays finite and close
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        half = make()
        half(*inputs, **call_kwargs)
        half.set_weights(layer.get_weights())
        output = _first(half(*inputs, **call_kwargs))
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert output.dtype == tf.float16, output.dtype
    output = output.numpy().astype(np.float32)
    assert np.isfinite(output).all()
    np.testing.assert_allclose(output, expected, atol=fp16_atol * (1 + np.abs(expected).max()))
