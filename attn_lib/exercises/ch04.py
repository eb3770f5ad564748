"""Checks for the exercises of Chapter 4 (Keras' attention layers, masks, conventions).

Exercises 4.2–4.4 take a *function* as the answer; the check runs it on fresh
cases, so a function that only fits the example in the notebook does not pass.
"""

import numpy as np

from attn_lib import reference
from attn_lib.exercises import exercise

_SEED_QUERY = np.array([1.0, 1.0, 1.0, 3.0])
_SEED_KEYS = np.array([[1.0, 1.0, 2.0, 4.0], [4.0, 1.0, 1.0, 3.0], [1.0, 1.0, 2.0, 1.0]])


@exercise("4.1", hint="A masked key drops out of the softmax; renormalise over the keys "
                      "that remain.")
def _(answer):
    answer = np.asarray(answer, dtype=np.float64).reshape(-1)
    if answer.shape != (3,):
        raise ValueError(f"expected 3 weights, one per key; got {answer.size}")
    expected = reference.masked_softmax((_SEED_KEYS @ _SEED_QUERY)[None, None, :],
                                        mask=np.array([True, False, True]))[0, 0]
    return np.allclose(answer, expected, atol=1e-4)


@exercise("4.2", hint="In PyTorch's key_padding_mask, True marks padding; count what is left.")
def _(answer):
    if not callable(answer):
        raise TypeError("the answer is a function key_padding_mask -> valid_lens: pass the "
                        "function itself, not what it returns")
    rng = np.random.default_rng(402)
    for batch, num_kv in [(3, 5), (1, 1), (4, 7)]:
        lens = rng.integers(0, num_kv + 1, size=batch)
        key_padding_mask = np.arange(num_kv)[None, :] >= lens[:, None]  # True = ignore
        got = np.asarray(answer(key_padding_mask))
        if got.shape != (batch,):
            raise ValueError(f"expected valid_lens of shape (B,) = ({batch},) for a "
                             f"key_padding_mask of shape {key_padding_mask.shape}; "
                             f"got {got.shape}")
        if not np.issubdtype(got.dtype, np.integer):
            raise TypeError(f"valid_lens must be integers; got dtype {got.dtype}")
        if not np.array_equal(got, lens):
            return False
    return True


@exercise("4.3", hint="Keras wants the list [query, value, key] and a boolean value mask, "
                      "True = attend.")
def _(answer):
    if not callable(answer):
        raise TypeError("the answer is a function (queries, keys, values, valid_lens) -> "
                        "(inputs, mask): pass the function itself, not what it returns")
    import keras

    from attn_lib.masking import sequence_mask

    rng = np.random.default_rng(403)
    for batch, num_queries, num_kv in [(2, 3, 5), (1, 2, 4)]:
        queries = rng.normal(size=(batch, num_queries, 4)).astype(np.float32)
        keys = rng.normal(size=(batch, num_kv, 4)).astype(np.float32)
        values = rng.normal(size=(batch, num_kv, 4)).astype(np.float32)  # dv = dk
        valid_lens = rng.integers(1, num_kv + 1, size=batch)
        inputs, mask = answer(queries, keys, values, valid_lens)
        mask = [None if m is None else np.asarray(m) for m in mask]
        got = keras.layers.Attention()(list(inputs), mask=mask)
        expected, _ = reference.dot_product_attention(queries, keys, values, valid_lens,
                                                      scaled=False)
        if not np.allclose(np.asarray(got), expected, atol=1e-4):
            return False
        if not np.array_equal(np.asarray(sequence_mask(valid_lens, num_kv)),
                              np.asarray(mask[1]).astype(bool)):
            return False
    return True


@exercise("4.4", hint="Look only above the diagonal (key j > query i) and compare with a "
                      "tolerance.")
def _(answer):
    if not callable(answer):
        raise TypeError("the answer is a function weights -> bool: pass the function itself, "
                        "not what it returns")
    rng = np.random.default_rng(404)
    for size in (3, 6):
        scores = rng.normal(size=(1, size, size))
        honest = reference.masked_softmax(scores, mask=reference.causal_mask(size, size))[0]
        leaky = reference.masked_softmax(scores, mask=~reference.causal_mask(size, size))[0]
        uniform = np.full((size, size), 1.0 / size)
        nearly = honest.copy()
        nearly[0, 1] = 1e-9  # rounding noise, not a leak
        cases = [(honest, False), (leaky, True), (uniform, True), (nearly, False)]
        for weights, peeks in cases:
            if bool(answer(weights.astype(np.float32))) != peeks:
                return False
    return True
