"""attn_lib.multihead: against the NumPy reference and Keras, masks, leaks, contract, errors."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from layer_contract import check_layer_contract

import attn_lib
from attn_lib import reference
from attn_lib.diagnostics import leak_test
from attn_lib.multihead import merge_heads, split_heads


def random_qkv(rng, batch=2, num_queries=3, num_kv=5, dq=4, dk=4, dv=6):
    return tuple(rng.normal(size=shape).astype(np.float32) for shape in
                 ((batch, num_queries, dq), (batch, num_kv, dk), (batch, num_kv, dv)))


# --- the head helpers ---------------------------------------------------------------------------

def test_split_heads_gives_each_head_a_contiguous_block_of_features():
    x = np.arange(2 * 3 * 6, dtype=np.float32).reshape(2, 3, 6)
    heads = split_heads(tf.constant(x), 3).numpy()  # (B, h, T, 2)
    assert heads.shape == (2, 3, 3, 2)
    np.testing.assert_array_equal(heads[:, 1], x[:, :, 2:4])
    np.testing.assert_array_equal(merge_heads(heads).numpy(), x)


# --- against the reference ---------------------------------------------------------------------

def test_multi_head_attention_matches_reference(rng):
    q, k, v = random_qkv(rng, dq=6, dk=5, dv=4)
    layer = attn_lib.MultiHeadAttention(num_heads=3, key_dim=2, value_dim=3, output_dim=7)
    lens = np.array([[1, 2, 5], [5, 0, 3]])
    layer(q, k, v)
    for bias in (layer.b_q, layer.b_k, layer.b_v, layer.b_o):
        bias.assign(bias.numpy() + 0.1)
    out, weights = layer(q, k, v, valid_lens=lens, return_attention_scores=True)
    ref_out, ref_w = reference.multi_head_attention(
        q, k, v, 3, *(w.numpy() for w in (layer.W_q, layer.W_k, layer.W_v, layer.W_o)),
        *(b.numpy() for b in (layer.b_q, layer.b_k, layer.b_v, layer.b_o)), valid_lens=lens)
    assert out.shape == (2, 3, 7) and weights.shape == (2, 3, 3, 5)
    np.testing.assert_allclose(out.numpy(), ref_out, atol=1e-5)
    np.testing.assert_allclose(weights.numpy(), ref_w, atol=1e-6)
    np.testing.assert_allclose(layer.attention_weights.numpy(), ref_w, atol=1e-6)


@pytest.mark.parametrize("num_heads", [1, 2, 4])
def test_self_attention_matches_reference(rng, num_heads):
    x = rng.normal(size=(2, 5, 3)).astype(np.float32)
    layer = attn_lib.SelfAttention(units=8, num_heads=num_heads)
    lens = np.array([3, 5])
    out, weights = layer(x, valid_lens=lens, return_attention_scores=True)
    ref_out, ref_w = reference.self_attention(x, layer.W_q.numpy(), layer.W_k.numpy(),
                                              layer.W_v.numpy(), num_heads, valid_lens=lens)
    np.testing.assert_allclose(out.numpy(), ref_out, atol=1e-5)
    np.testing.assert_allclose(weights.numpy(), ref_w[:, 0] if num_heads == 1 else ref_w,
                               atol=1e-6)


def test_positional_encoding_adds_the_sinusoid_table():
    layer = attn_lib.PositionalEncoding(max_len=10, d_model=6)
    x = np.zeros((2, 4, 6), np.float32)
    np.testing.assert_allclose(layer(x).numpy()[1], reference.positional_encoding(10, 6)[:4],
                               atol=1e-6)


# --- against Keras ----------------------------------------------------------------------------

def copy_keras_mha_weights(theirs, ours):
    """Keras keeps kernels as (d_in, h, d); ours are the same numbers as (d_in, h*d)."""
    pairs = [(theirs._query_dense, ours.W_q, ours.b_q), (theirs._key_dense, ours.W_k, ours.b_k),
             (theirs._value_dense, ours.W_v, ours.b_v)]
    for dense, kernel, bias in pairs:
        kernel.assign(dense.kernel.numpy().reshape(kernel.shape))
        bias.assign(dense.bias.numpy().reshape(bias.shape))
    ours.W_o.assign(theirs._output_dense.kernel.numpy().reshape(ours.W_o.shape))
    ours.b_o.assign(theirs._output_dense.bias.numpy())


def keras_and_ours(q, k, v):
    theirs = keras.layers.MultiHeadAttention(num_heads=2, key_dim=3, value_dim=4)
    theirs(q, v, key=k)
    ours = attn_lib.MultiHeadAttention(num_heads=2, key_dim=3, value_dim=4)
    ours(q, k, v)
    copy_keras_mha_weights(theirs, ours)
    return theirs, ours


@pytest.mark.parametrize("causal", [False, True])
def test_multi_head_attention_equals_keras_with_the_same_weights(rng, causal):
    q, k, v = random_qkv(rng, num_queries=4, num_kv=4, dq=6, dk=5, dv=5)
    theirs, ours = keras_and_ours(q, k, v)
    mask = reference.sequence_mask(np.array([[4, 2, 3, 1], [1, 1, 4, 4]]), 4)
    expected, expected_w = theirs(q, v, key=k, attention_mask=mask, use_causal_mask=causal,
                                  return_attention_scores=True)
    out, weights = ours(q, k, v, mask=mask, causal=causal, return_attention_scores=True)
    np.testing.assert_allclose(out.numpy(), expected.numpy(), atol=1e-5)
    np.testing.assert_allclose(weights.numpy(), expected_w.numpy(), atol=1e-6)


def test_defect1_multi_head_attention_reads_keras_masks_like_keras(rng):
    ids = np.array([[3, 5, 2, 0, 0], [1, 2, 3, 4, 5]])
    x = keras.layers.Embedding(8, 6, mask_zero=True)(ids)
    plain = x.numpy()
    theirs, ours = keras_and_ours(plain, plain, plain)
    out, weights = ours(x, x, x, return_attention_scores=True)
    expected, expected_w = theirs(x, x, return_attention_scores=True)  # it deletes x's mask
    real = ids != 0  # Keras spreads a padded query's weight evenly; ours gives it none
    np.testing.assert_allclose(out.numpy()[real], expected.numpy()[real], atol=1e-5)
    np.testing.assert_allclose(weights.numpy()[0, :, :3], expected_w.numpy()[0, :, :3], atol=1e-6)
    assert (weights.numpy()[0, :, :, 3:] == 0).all()
    assert (expected_w.numpy()[0, :, :3, 3:] < 1e-6).all()


def test_defect1_self_attention_reads_the_mask_of_a_masking_embedding():
    ids = np.array([[3, 5, 2, 0, 0], [1, 2, 3, 4, 5]])
    embedded = keras.layers.Embedding(8, 4, mask_zero=True)(ids)
    layer = attn_lib.SelfAttention(units=4)
    masked, weights = layer(embedded, return_attention_scores=True)
    assert (weights.numpy()[0, :, 3:] == 0).all()
    with_lens = layer(embedded, valid_lens=np.array([3, 5])).numpy()
    np.testing.assert_allclose(masked.numpy()[0, :3], with_lens[0, :3], atol=1e-6)
    np.testing.assert_array_equal(masked._keras_mask.numpy(), ids != 0)


def test_keras_multi_head_attention_keeps_its_causal_mask_with_dropout_and_scores(rng):
    """A Keras release in 2026 dropped the causal mask in exactly this call; pin it."""
    x = rng.normal(size=(2, 6, 8)).astype(np.float32)
    layer = keras.layers.MultiHeadAttention(num_heads=2, key_dim=4, dropout=0.3)
    visible = np.broadcast_to(reference.causal_mask(6, 6), (2, 6, 6))

    def call(x):
        return layer(x, x, use_causal_mask=True, return_attention_scores=True,
                     training=False)[0]

    assert not leak_test(call, visible, x).any()
    _, weights = layer(x, x, use_causal_mask=True, return_attention_scores=True, training=False)
    assert (weights.numpy()[:, :, ~reference.causal_mask(6, 6)] == 0).all()


# --- leaks: causal and padding masks hide what they should ---------------------------------------

CAUSAL_LAYERS = {
    "multi_head": lambda: attn_lib.MultiHeadAttention(num_heads=2, key_dim=3),
    "self_attention_1": lambda: attn_lib.SelfAttention(units=6),
    "self_attention_3": lambda: attn_lib.SelfAttention(units=6, num_heads=3),
}


def self_call(layer, **kwargs):
    if isinstance(layer, attn_lib.SelfAttention):
        return lambda x: layer(x, **kwargs)
    return lambda x: layer(x, x, x, **kwargs)


@pytest.mark.parametrize("make", CAUSAL_LAYERS.values(), ids=CAUSAL_LAYERS.keys())
def test_causal_outputs_never_depend_on_the_future(rng, make):
    x = rng.normal(size=(2, 6, 6)).astype(np.float32)
    visible = np.broadcast_to(reference.causal_mask(6, 6), (2, 6, 6))
    layer = make()
    assert not leak_test(self_call(layer, causal=True), visible, x).any()
    assert leak_test(self_call(layer), visible, x).any()  # the test can fail


@pytest.mark.parametrize("make", CAUSAL_LAYERS.values(), ids=CAUSAL_LAYERS.keys())
def test_outputs_never_depend_on_padding_or_masked_keys(rng, make):
    x = rng.normal(size=(2, 6, 6)).astype(np.float32)
    lens = np.array([3, 6])
    mask = np.ones((2, 1, 6), bool)
    mask[1, 0, 1] = False
    visible = np.broadcast_to(reference.sequence_mask(lens, 6)[:, None, :] & mask, (2, 6, 6))
    layer = make()
    assert not leak_test(self_call(layer, valid_lens=lens, mask=mask, causal=False), visible,
                         x).any()
    assert leak_test(self_call(layer), visible, x).any()


def test_self_attention_is_permutation_equivariant_without_positions(rng):
    x = rng.normal(size=(1, 6, 4)).astype(np.float32)
    layer = attn_lib.SelfAttention(units=8, num_heads=2)
    perm = rng.permutation(6)
    np.testing.assert_allclose(layer(x[:, perm]).numpy(), layer(x).numpy()[:, perm], atol=1e-5)


# --- the Keras layer contract ------------------------------------------------------------

def test_layer_contract_multi_head_attention(rng, tmp_path):
    q, k, v = random_qkv(rng, dq=6, dk=5, dv=4)
    check_layer_contract(
        lambda: attn_lib.MultiHeadAttention(num_heads=2, key_dim=3, value_dim=5, output_dim=4,
                                            dropout=0.1),
        (q, k, v), {"valid_lens": np.array([2, 5], np.int32), "causal": True},
        tmp_path=tmp_path)


@pytest.mark.parametrize("num_heads", [1, 3])
def test_layer_contract_self_attention(rng, tmp_path, num_heads):
    x = rng.normal(size=(2, 5, 4)).astype(np.float32)
    check_layer_contract(lambda: attn_lib.SelfAttention(units=6, num_heads=num_heads,
                                                        dropout=0.1),
                         (x,), {"valid_lens": np.array([2, 5], np.int32), "causal": True},
                         tmp_path=tmp_path)


def test_layer_contract_positional_encoding(rng, tmp_path):
    x = rng.normal(size=(2, 5, 4)).astype(np.float32)
    check_layer_contract(lambda: attn_lib.PositionalEncoding(max_len=9, d_model=4), (x,),
                         tmp_path=tmp_path)


# --- bad input ---------------------------------------------------------------------------------

@pytest.mark.parametrize("call, error, message", [
    (lambda x: attn_lib.SelfAttention(4)(x[0]), ValueError, r"`x` must have rank 3.*\(3, 4\)"),
    (lambda x: attn_lib.SelfAttention(4)(x, causal="yes"), TypeError,
     r"`causal` must be True or False.*'yes'"),
    (lambda x: attn_lib.MultiHeadAttention(2, 2)(x, x, x, causal=1), TypeError,
     r"`causal` must be True or False"),
    (lambda x: attn_lib.SelfAttention(4)(x, mask=np.ones((2, 3), bool)), ValueError,
     r"`mask` must have rank 3.*mask.shape=\(2, 3\)"),
    (lambda x: attn_lib.PositionalEncoding(2, 4)(x), ValueError,
     r"T <= max_len=2.*x.shape=\(2, 3, 4\)"),
    (lambda x: attn_lib.PositionalEncoding(9, 5)(x), ValueError, r"d_model=5.*x.shape=\(2, 3, 4\)"),
])
def test_bad_input_is_named_in_the_error(rng, call, error, message):
    x = rng.normal(size=(2, 3, 4)).astype(np.float32)
    with pytest.raises(error, match=message):
        call(x)


def test_defect2_a_mask_per_batch_is_never_applied_per_head_when_batch_equals_heads(rng):
    x = rng.normal(size=(2, 4, 6)).astype(np.float32)
    layer = attn_lib.MultiHeadAttention(num_heads=2, key_dim=3)
    mask = np.ones((2, 4, 4), bool)
    mask[0, :, 3] = False  # example 0 hides key 3, in every head
    _, weights = layer(x, x, x, mask=mask, return_attention_scores=True)
    assert (weights.numpy()[0, :, :, 3] == 0).all() and (weights.numpy()[1, :, :, 3] > 0).all()


@pytest.mark.parametrize("make, error, message", [
    (lambda: attn_lib.SelfAttention(units=6, num_heads=4), ValueError,
     r"units.*divisible by.*num_heads.*units=6, num_heads=4"),
    (lambda: attn_lib.MultiHeadAttention(num_heads=2, key_dim=-1), ValueError, r"key_dim"),
    (lambda: attn_lib.PositionalEncoding(max_len=0, d_model=4), ValueError, r"max_len"),
])
def test_bad_constructor_arguments_are_named(make, error, message):
    with pytest.raises(error, match=message):
        make()


# --- a key-value cache --------------------------------------------------------------------------

@pytest.mark.parametrize("chunks", [(7,), (3, 1, 3), (1,) * 7, (2, 5)])
def test_attention_through_a_cache_equals_one_causal_pass(rng, chunks):
    x = rng.normal(size=(2, 7, 8)).astype(np.float32)
    layer = attn_lib.MultiHeadAttention(num_heads=2, key_dim=4)
    full = layer(x, x, x, causal=True).numpy()
    cache, start, pieces = attn_lib.KVCache(1, 2, 4), 0, []
    for t in chunks:
        part = x[:, start:start + t]
        pieces.append(layer(part, part, part, causal=True, cache=cache).numpy())
        start += t
    np.testing.assert_allclose(np.concatenate(pieces, axis=1), full, atol=1e-6)
    assert cache.length == 7


def test_explicit_offset_mask_through_a_cache_equals_causal(rng):
    x = rng.normal(size=(1, 6, 8)).astype(np.float32)
    layer = attn_lib.MultiHeadAttention(num_heads=2, key_dim=4)
    full, weights = layer(x, x, x, causal=True, return_attention_scores=True)
    cache = attn_lib.KVCache(1, 2, 4)
    layer(x[:, :4], x[:, :4], x[:, :4], causal=True, cache=cache)
    mask = attn_lib.causal_mask(2, 6, offset=4)[None]
    out, w = layer(x[:, 4:], x[:, 4:], x[:, 4:], mask=mask, cache=cache,
                   return_attention_scores=True)
    assert w.shape == (1, 2, 2, 6)
    np.testing.assert_allclose(out, full[:, 4:], atol=1e-6)
    np.testing.assert_allclose(w, weights[:, :, 4:], atol=1e-6)


def test_cache_arguments_are_checked(rng):
    x = rng.normal(size=(1, 3, 8)).astype(np.float32)
    layer = attn_lib.MultiHeadAttention(num_heads=2, key_dim=4)
    with pytest.raises(TypeError, match="`cache` must be an attn_lib.KVCache or None"):
        layer(x, x, x, cache={})
    with pytest.raises(ValueError, match="`valid_lens` cannot be used with a `cache`"):
        layer(x, x, x, cache=attn_lib.KVCache(1, 2, 4), valid_lens=np.array([2]))
    with pytest.raises(ValueError, match="Received: num_kv_heads=1, head_dim=4"):
        layer(x, x, x, cache=attn_lib.KVCache(1, 1, 4))
    cache = attn_lib.KVCache(1, 2, 4)
    layer(x, x, x, cache=cache)
    with pytest.raises(ValueError, match="mask"):
        layer(x, x, x, cache=cache, mask=attn_lib.causal_mask(3)[None])  # (1, 3, 3): not 6
