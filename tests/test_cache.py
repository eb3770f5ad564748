"""attn_lib.cache.KVCache: what it stores, its size, reset, and its argument checks."""

import numpy as np
import pytest

from attn_lib import KVCache


def chunk(rng, batch=2, heads=3, t=4, d=5, dtype="float32"):
    return rng.normal(size=(batch, heads, t, d)).astype(dtype)


def test_append_returns_the_stored_positions_followed_by_the_new_ones(rng):
    cache = KVCache(num_layers=1, num_kv_heads=3, head_dim=5)
    k1, v1, k2, v2 = (chunk(rng, t=t) for t in (4, 4, 2, 2))
    cache.append(0, k1, v1)
    keys, values = cache.append(0, k2, v2)
    np.testing.assert_array_equal(keys, np.concatenate([k1, k2], axis=2))
    np.testing.assert_array_equal(values, np.concatenate([v1, v2], axis=2))
    np.testing.assert_array_equal(cache.keys(0), keys)
    assert cache.length == 6


@pytest.mark.parametrize("dtype, size", [("float32", 4), ("float16", 2), ("float64", 8)])
def test_nbytes_equals_two_layers_batch_positions_heads_head_dim_bytes(rng, dtype, size):
    layers, batch, heads, d = 3, 2, 4, 8
    cache = KVCache(num_layers=layers, num_kv_heads=heads, head_dim=d, dtype=dtype)
    for t in (5, 1, 3):
        for layer in range(layers):
            new = chunk(rng, batch, heads, t, d, dtype)
            cache.append(layer, new, new)
    assert cache.nbytes == 2 * layers * batch * 9 * heads * d * size


def test_reset_empties_every_layer_and_frees_the_batch_size(rng):
    cache = KVCache(num_layers=2, num_kv_heads=3, head_dim=5)
    for layer in (0, 1):
        cache.append(layer, chunk(rng), chunk(rng))
    cache.reset()
    assert (cache.length, cache.nbytes, cache.batch_size, cache.keys(1)) == (0, 0, None, None)
    cache.append(0, chunk(rng, batch=1), chunk(rng, batch=1))  # a new batch size is fine
    assert cache.batch_size == 1


def test_length_refuses_layers_that_hold_different_numbers_of_positions(rng):
    cache = KVCache(num_layers=2, num_kv_heads=3, head_dim=5)
    cache.append(0, chunk(rng), chunk(rng))
    with pytest.raises(RuntimeError, match=r"different numbers of positions.*\[4, 0\]"):
        _ = cache.length
    assert "length=[4, 0]" in repr(cache)  # repr never raises


def test_key_value_heads_are_a_separate_argument(rng):
    cache = KVCache(num_layers=1, num_kv_heads=1, head_dim=5)  # e.g. grouped queries
    keys, _ = cache.append(0, chunk(rng, heads=1), chunk(rng, heads=1))
    assert keys.shape == (2, 1, 4, 5)


def test_errors_name_the_argument_and_what_was_received(rng):
    cache = KVCache(num_layers=2, num_kv_heads=3, head_dim=5)
    with pytest.raises(ValueError, match=r"`layer` must be in \[0, num_layers=2\). "
                                         r"Received: layer=2"):
        cache.append(2, chunk(rng), chunk(rng))
    with pytest.raises(ValueError, match=r"num_kv_heads=3, t, head_dim=5\). "
                                         r"Received: keys.shape=\(2, 4, 4, 5\)"):
        cache.append(0, chunk(rng, heads=4), chunk(rng, heads=4))
    with pytest.raises(ValueError, match=r"values.shape=\(2, 3, 3, 5\)"):
        cache.append(0, chunk(rng), chunk(rng, t=3))
    with pytest.raises(TypeError, match=r"cache's dtype float32. Received: keys.dtype=float64"):
        cache.append(0, chunk(rng, dtype="float64"), chunk(rng))
    cache.append(0, chunk(rng), chunk(rng))
    with pytest.raises(ValueError, match=r"with the stored B=2. Received: keys.shape=\(1,"):
        cache.append(1, chunk(rng, batch=1), chunk(rng, batch=1))
    with pytest.raises(TypeError, match="`dtype` must be a floating-point dtype"):
        KVCache(1, 1, 1, dtype="int32")
    with pytest.raises(ValueError, match="`num_kv_heads` must be > 0. Received: num_kv_heads=0"):
        KVCache(1, 0, 1)
