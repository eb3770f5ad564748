"""RoPE and ALiBi inside the attention layers and the decoder: equal to a NumPy oracle,
cached equal to uncached, positions read from the cache, errors named."""

import numpy as np
import pytest

import attn_lib
from attn_lib import reference
from attn_lib.diagnostics import leak_test
from attn_lib.models import Decoder
from attn_lib.models.decoder import POSITION_ENCODINGS


def manual(layer, x, kind):
    h, dk = layer.num_query_heads, layer.key_dim
    def split(y):
        b, t, hd = y.shape
        return y.reshape(b, t, -1, dk).transpose(0, 2, 1, 3)
    q = split(x @ layer.W_q.numpy() + layer.b_q.numpy())
    k = split(x @ layer.W_k.numpy() + layer.b_k.numpy())
    v = split(x @ layer.W_v.numpy() + layer.b_v.numpy())
    g = h // layer.num_key_value_heads
    k, v = np.repeat(k, g, 1), np.repeat(v, g, 1)
    T = x.shape[1]
    if kind == "rope":
        q, k = reference.rope(q), reference.rope(k)
    s = q @ np.swapaxes(k, -1, -2) / np.sqrt(dk)
    if kind == "alibi":
        s = s + reference.alibi_bias(h, T)[None]
    w = reference.masked_softmax(s, mask=reference.causal_mask(T, T)[None, None])
    o = (w @ v).transpose(0, 2, 1, 3).reshape(x.shape[0], T, -1)
    return o @ layer.W_o.numpy() + layer.b_o.numpy()


@pytest.mark.parametrize("kind", ["rope", "alibi"])
@pytest.mark.parametrize("make", [
    lambda k: attn_lib.MultiHeadAttention(4, 4, position_encoding=k),
    lambda k: attn_lib.GroupedQueryAttention(4, 2, 4, position_encoding=k)])
def test_layer_equals_manual_and_cache_equals_full(kind, make):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 9, 8)).astype(np.float32)
    layer = make(kind)
    full = layer(x, x, x, causal=True).numpy()
    np.testing.assert_allclose(full, manual(layer, x, kind), atol=1e-5)
    cache = attn_lib.KVCache(1, layer.num_key_value_heads, 4)
    parts, s = [], 0
    for t in (4, 1, 3, 1):
        c = x[:, s:s + t]
        parts.append(layer(c, c, c, causal=True, cache=cache).numpy())
        s += t
    np.testing.assert_allclose(np.concatenate(parts, 1), full, atol=1e-5)
    clone = type(layer).from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    vis = reference.causal_mask(9, 9)[None].repeat(2, 0)
    assert not leak_test(lambda y: layer(y, y, y, causal=True), vis, x).any()


@pytest.mark.parametrize("kind", ["rope", "alibi"])
def test_windowed_cache_equals_full_windowed(kind):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(1, 12, 8)).astype(np.float32)
    layer = attn_lib.GroupedQueryAttention(4, 2, 4, sliding_window=3, position_encoding=kind)
    full = layer(x, x, x, causal=True).numpy()
    cache = attn_lib.KVCache(1, 2, 4, window=3)
    parts = [layer(x[:, i:i + 1], x[:, i:i + 1], x[:, i:i + 1], causal=True, cache=cache).numpy()
             for i in range(12)]
    np.testing.assert_allclose(np.concatenate(parts, 1), full, atol=1e-5)


def test_rope_layer_scores_ignore_a_common_shift_via_prefill_positions():
    """A rope layer's attention on a chunk depends on where it starts only through distances."""
    rng = np.random.default_rng(2)
    x = rng.normal(size=(1, 5, 8)).astype(np.float32)
    layer = attn_lib.MultiHeadAttention(2, 4, position_encoding="rope")
    _, w0 = layer(x, x, x, causal=True, return_attention_scores=True)
    cache = attn_lib.KVCache(1, 2, 4, window=5)
    junk = rng.normal(size=(1, 5, 8)).astype(np.float32)
    layer_g = attn_lib.GroupedQueryAttention(2, 2, 4, sliding_window=5, position_encoding="rope")
    layer_g(x, x, x)
    layer_g.set_weights(layer.get_weights())
    for i in range(5):  # 5 junk positions, then evicted by the window
        layer_g(junk[:, i:i+1], junk[:, i:i+1], junk[:, i:i+1], causal=True, cache=cache)
    out = [layer_g(x[:, i:i+1], x[:, i:i+1], x[:, i:i+1], causal=True, cache=cache,
                   return_attention_scores=True)[1].numpy() for i in range(5)]
    # the last query sees exactly x[0..4] (window 5), at positions 5..9 instead of 0..4
    assert (out[-1][0, :, 0, 0] == 0).all()  # the evicted slot of this call
    np.testing.assert_allclose(out[-1][0, :, 0, 1:], w0.numpy()[0, :, 4], atol=1e-5)


def test_bad_position_encoding():
    with pytest.raises(ValueError, match="position_encoding"):
        attn_lib.MultiHeadAttention(2, 4, position_encoding="sinusoidal")
    with pytest.raises(ValueError, match="key_dim.*even"):
        attn_lib.MultiHeadAttention(2, 3, position_encoding="rope")



@pytest.mark.parametrize("kind", POSITION_ENCODINGS)
def test_cached_generation_equals_uncached_for_every_encoding(kind):
    model = Decoder(vocab_size=10, max_len=24, d_model=16, num_heads=4, num_layers=2,
                    position_encoding=kind)
    prompt = np.random.default_rng(0).integers(0, 10, (2, 5)).astype("int32")
    t1, l1 = model.generate(prompt, 8, use_cache=True)
    t2, l2 = model.generate(prompt, 8, use_cache=False)
    np.testing.assert_array_equal(t1, t2)
    np.testing.assert_allclose(l1, l2, atol=1e-5)
    clone = Decoder.from_config(model.get_config())
    assert clone.get_config() == model.get_config()


def test_unknown_encoding_is_named():
    with pytest.raises(ValueError, match="position_encoding.*'relative'"):
        Decoder(10, 8, position_encoding="relative")
