"""attn_lib.cache.KVCache: what it stores, its size, reset, and its argument checks."""

import numpy as np
import pytest

import attn_lib
from attn_lib import KVCache, kv_cache_bytes


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


# --- a sliding-window cache: the last W positions, while positions keep counting --------------

def test_a_windowed_cache_keeps_the_last_window_positions_and_counts_on(rng):
    cache = KVCache(num_layers=1, num_kv_heads=3, head_dim=5, window=4)
    chunks = [chunk(rng, t=t) for t in (3, 1, 4, 2)]
    for new in chunks:
        keys, _ = cache.append(0, new, new)
    everything = np.concatenate(chunks, axis=2)  # 10 positions
    np.testing.assert_array_equal(keys, everything[:, :, -(2 + 4):])  # the call sees 4 + 2
    np.testing.assert_array_equal(cache.keys(0), everything[:, :, -4:])
    assert (cache.stored(0), cache.length, cache.first_position(0)) == (4, 10, 6)
    assert "window=4, length=10" in repr(cache)
    cache.reset()
    assert (cache.stored(0), cache.length, cache.first_position(0)) == (0, 0, 0)


def test_without_a_window_the_first_kept_position_is_always_zero(rng):
    cache = KVCache(num_layers=1, num_kv_heads=3, head_dim=5)
    for t in (3, 1, 4):
        cache.append(0, chunk(rng, t=t), chunk(rng, t=t))
    assert (cache.stored(0), cache.length, cache.first_position(0)) == (8, 8, 0)


LAYERS, BATCH, QUERY_HEADS, HEAD_DIM, STEPS = 2, 2, 8, 4, (5, 1, 1, 3, 1, 4)


@pytest.mark.parametrize("num_kv_heads, window", [
    (8, None), (4, None), (2, None), (1, None), (2, 6), (1, 3)],
    ids=["MHA", "GQA-4", "GQA-2", "MQA", "GQA-2-window-6", "MQA-window-3"])
def test_nbytes_of_generation_through_layers_equals_the_formula(rng, num_kv_heads, window):
    """2 * layers * B * min(T, W) * h_kv * d * 4 bytes, after every step, measured."""
    layers = [attn_lib.GroupedQueryAttention(QUERY_HEADS, num_kv_heads, key_dim=HEAD_DIM,
                                             sliding_window=window) for _ in range(LAYERS)]
    cache = KVCache(LAYERS, num_kv_heads, HEAD_DIM, window=window)
    length = 0
    for t in STEPS:
        x = rng.normal(size=(BATCH, t, 16)).astype(np.float32)
        for i, layer in enumerate(layers):
            x = layer(x, x, x, causal=True, cache=cache, cache_index=i)
        length += t
        kept = length if window is None else min(length, window)
        assert cache.nbytes == 2 * LAYERS * BATCH * kept * num_kv_heads * HEAD_DIM * 4
        assert cache.nbytes == kv_cache_bytes(LAYERS, num_kv_heads, HEAD_DIM, length, BATCH,
                                              window=window)
    assert cache.length == sum(STEPS)


def test_kv_cache_bytes_of_a_published_model_by_hand():
    # 32 layers, 8 key-value heads of 128, bfloat16, 32,768 positions: 4 GiB; window 4096
    assert kv_cache_bytes(32, 8, 128, 32768, dtype="bfloat16") == 2 * 32 * 32768 * 8 * 128 * 2
    assert kv_cache_bytes(32, 8, 128, 32768, dtype="bfloat16") == 4 * 2**30
    assert kv_cache_bytes(32, 8, 128, 32768, dtype="bfloat16", window=4096) == 2**29
    assert kv_cache_bytes(32, 8, 128, 1000, window=4096) == kv_cache_bytes(32, 8, 128, 1000)
    assert kv_cache_bytes(1, 1, 1, 0) == 0


def test_window_and_formula_arguments_are_checked():
    with pytest.raises(ValueError, match="`window` must be > 0. Received: window=0"):
        KVCache(1, 1, 1, window=0)
    with pytest.raises(TypeError, match="`window` must be an integer"):
        KVCache(1, 1, 1, window=2.0)
    with pytest.raises(ValueError, match="`length` must be >= 0. Received: length=-1"):
        kv_cache_bytes(1, 1, 1, -1)
    with pytest.raises(ValueError, match="`num_kv_heads` must be > 0"):
        kv_cache_bytes(1, 0, 1, 4)
