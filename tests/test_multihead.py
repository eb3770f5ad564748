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


# --- grouped-query attention: multi-head and multi-query as its two ends ----------------------

KERAS_VERSION = tuple(int(part) for part in keras.__version__.split(".")[:2])
needs_keras_window = pytest.mark.skipif(
    KERAS_VERSION < (3, 15),
    reason="keras.layers.GroupQueryAttention(sliding_window=...) is new in Keras 3.15")


def gqa_weights(layer):
    return [w.numpy() for w in (layer.W_q, layer.W_k, layer.W_v, layer.W_o,
                                layer.b_q, layer.b_k, layer.b_v, layer.b_o)]


@pytest.mark.parametrize("num_key_value_heads", [1, 2, 4])
def test_grouped_query_attention_matches_the_reference_oracle(rng, num_key_value_heads):
    """h_kv = 1 is multi-query attention, h_kv = 4 = h_q multi-head attention."""
    q, k, v = random_qkv(rng, dq=6, dk=5, dv=4)
    layer = attn_lib.GroupedQueryAttention(4, num_key_value_heads, key_dim=2, value_dim=3,
                                           output_dim=7)
    layer(q, k, v)
    for bias in (layer.b_q, layer.b_k, layer.b_v, layer.b_o):
        bias.assign(rng.normal(size=bias.shape).astype(np.float32))
    lens = np.array([[1, 2, 5], [5, 0, 3]])
    mask = rng.random((2, 1, 5)) > 0.3
    out, weights = layer(q, k, v, valid_lens=lens, mask=mask, return_attention_scores=True)
    ref_out, ref_w = reference.grouped_query_attention(
        q, k, v, 4, num_key_value_heads, *gqa_weights(layer), valid_lens=lens, mask=mask)
    assert out.shape == (2, 3, 7) and weights.shape == (2, 4, 3, 5)
    np.testing.assert_allclose(out.numpy(), ref_out, atol=1e-5)
    np.testing.assert_allclose(weights.numpy(), ref_w, atol=1e-6)


def test_equal_query_heads_weigh_alike_only_when_they_share_a_key_head(rng):
    x = rng.normal(size=(1, 4, 6)).astype(np.float32)
    for num_key_value_heads, shared in ((1, True), (3, False)):
        layer = attn_lib.GroupedQueryAttention(3, num_key_value_heads, key_dim=2)
        layer(x, x, x)
        layer.W_q.assign(np.tile(layer.W_q.numpy()[:, :2], (1, 3)))  # three equal query heads
        _, weights = layer(x, x, x, return_attention_scores=True)
        alike = np.allclose(weights[:, 0], weights[:, 1:], atol=1e-6)
        assert alike == shared  # multi-query: one key head for all


@pytest.mark.parametrize("causal", [False, True])
def test_as_many_key_value_heads_as_query_heads_is_exactly_multi_head_attention(rng, causal):
    q, k, v = random_qkv(rng, num_queries=5, num_kv=5, dq=6, dk=5, dv=4)
    mha = attn_lib.MultiHeadAttention(num_heads=3, key_dim=2, value_dim=3, output_dim=4)
    gqa = attn_lib.GroupedQueryAttention(3, 3, key_dim=2, value_dim=3, output_dim=4)
    mha(q, k, v)
    gqa(q, k, v)
    gqa.set_weights(mha.get_weights())
    lens, mask = np.array([3, 5]), rng.random((2, 5, 5)) > 0.2
    for kwargs in ({}, {"valid_lens": lens, "mask": mask}):
        expected = mha(q, k, v, causal=causal, return_attention_scores=True, **kwargs)
        got = gqa(q, k, v, causal=causal, return_attention_scores=True, **kwargs)
        for a, b in zip(got, expected):
            np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_multi_head_attention_keeps_its_config_and_weights(rng):
    layer = attn_lib.MultiHeadAttention(num_heads=2, key_dim=3, value_dim=5, output_dim=4)
    q, k, v = random_qkv(rng, dq=6, dk=5, dv=4)
    layer(q, k, v)
    config = layer.get_config()
    assert {name: config[name] for name in ("num_heads", "key_dim", "value_dim",
                                            "output_dim", "dropout")} == {
        "num_heads": 2, "key_dim": 3, "value_dim": 5, "output_dim": 4, "dropout": 0.0}
    assert not {"num_query_heads", "num_key_value_heads", "sliding_window"} & set(config)
    assert [(w.name, tuple(w.shape)) for w in layer.weights] == [
        ("W_q", (6, 6)), ("b_q", (6,)), ("W_k", (5, 6)), ("b_k", (6,)),
        ("W_v", (4, 10)), ("b_v", (10,)), ("W_o", (10, 4)), ("b_o", (4,))]
    assert isinstance(layer, attn_lib.GroupedQueryAttention)


def copy_keras_gqa_weights(theirs, ours):
    """Keras keeps kernels as (d_in, heads, d) and (heads, d, d_out): the same numbers."""
    pairs = [(theirs._query_dense, ours.W_q, ours.b_q), (theirs._key_dense, ours.W_k, ours.b_k),
             (theirs._value_dense, ours.W_v, ours.b_v),
             (theirs._output_dense, ours.W_o, ours.b_o)]
    for dense, kernel, bias in pairs:
        kernel.assign(dense.kernel.numpy().reshape(kernel.shape))
        bias.assign(dense.bias.numpy().reshape(bias.shape))


def keras_and_ours_gqa(x, num_key_value_heads, sliding_window=None):
    window = {} if sliding_window is None else {"sliding_window": sliding_window}
    theirs = keras.layers.GroupQueryAttention(head_dim=3, num_query_heads=4,
                                              num_key_value_heads=num_key_value_heads, **window)
    theirs(x, x)
    for bias in (theirs._query_dense.bias, theirs._key_dense.bias, theirs._value_dense.bias,
                 theirs._output_dense.bias):  # Keras starts them at zero: make them count
        bias.assign(np.random.default_rng(1).normal(size=bias.shape).astype(np.float32))
    ours = attn_lib.GroupedQueryAttention(4, num_key_value_heads, key_dim=3,
                                          sliding_window=sliding_window)
    ours(x, x, x)
    copy_keras_gqa_weights(theirs, ours)
    return theirs, ours


def check_equal_to_keras(theirs, ours, x, mask, causal):
    expected, expected_w = theirs(x, x, attention_mask=mask, use_causal_mask=causal,
                                  return_attention_scores=True)
    out, weights = ours(x, x, x, mask=mask, causal=causal, return_attention_scores=True)
    np.testing.assert_allclose(out.numpy(), expected.numpy(), atol=1e-6)
    np.testing.assert_allclose(weights.numpy(), expected_w.numpy(), atol=1e-6)
    # Keras' fused kernel (no scores asked) rounds differently from Keras' own scores path,
    # by an ulp or two of outputs near 4 (4.8e-7 each): relative to their size
    fused = theirs(x, x, attention_mask=mask, use_causal_mask=causal)
    np.testing.assert_allclose(out.numpy(), fused.numpy(), rtol=1e-6, atol=1e-6)


def mask_keeping_the_diagonal(rng, batch, length):
    """Random keys hidden, never a query's own: no row is empty (Keras spreads those)."""
    return (rng.random((batch, length, length)) > 0.4) | np.eye(length, dtype=bool)


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("num_key_value_heads", [1, 2, 4])
def test_grouped_query_attention_equals_keras_with_the_same_weights(rng, num_key_value_heads,
                                                                     causal):
    x = rng.normal(size=(2, 6, 8)).astype(np.float32)
    theirs, ours = keras_and_ours_gqa(x, num_key_value_heads)
    for mask in (None, mask_keeping_the_diagonal(rng, 2, 6)):
        check_equal_to_keras(theirs, ours, x, mask, causal)


@needs_keras_window
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("num_key_value_heads, window", [(1, 1), (2, 3), (4, 2)])
def test_sliding_window_equals_keras_sliding_window(rng, num_key_value_heads, window, causal):
    x = rng.normal(size=(2, 7, 8)).astype(np.float32)
    theirs, ours = keras_and_ours_gqa(x, num_key_value_heads, sliding_window=window)
    for mask in (None, mask_keeping_the_diagonal(rng, 2, 7)):
        check_equal_to_keras(theirs, ours, x, mask, causal)


@pytest.mark.parametrize("num_key_value_heads", [1, 2])
def test_sliding_window_outputs_never_depend_on_keys_outside_the_window(rng,
                                                                        num_key_value_heads):
    x = rng.normal(size=(2, 8, 6)).astype(np.float32)
    layer = attn_lib.GroupedQueryAttention(4, num_key_value_heads, key_dim=3, sliding_window=3)
    visible = np.broadcast_to(reference.sliding_window_mask(8, 8, 3), (2, 8, 8))
    assert not leak_test(self_call(layer, causal=True), visible, x).any()
    wide = attn_lib.GroupedQueryAttention(4, num_key_value_heads, key_dim=3)
    assert leak_test(self_call(wide, causal=True), visible, x).any()  # the test can fail
    band = np.broadcast_to(reference.sliding_window_mask(8, 8, 3, causal=False), (2, 8, 8))
    assert not leak_test(self_call(layer), band, x).any()  # the window alone: |i - j| < 3
    assert leak_test(self_call(layer), visible, x).any()  # and it sees 2 keys ahead


def test_layer_contract_grouped_query_attention(rng, tmp_path):
    q, k, v = random_qkv(rng, dq=6, dk=5, dv=4)
    check_layer_contract(
        lambda: attn_lib.GroupedQueryAttention(4, 2, key_dim=3, value_dim=5, output_dim=4,
                                               dropout=0.1, sliding_window=2),
        (q, k, v), {"valid_lens": np.array([2, 5], np.int32), "causal": True},
        tmp_path=tmp_path)


# --- grouped-query attention through a (windowed) cache ----------------------------------------

@pytest.mark.parametrize("chunks", [(9,), (1,) * 9, (4, 1, 4), (2, 5, 2)])
@pytest.mark.parametrize("window, cache_window", [(None, None), (3, None), (3, 3), (3, 5)])
def test_chunked_generation_through_a_cache_equals_one_uncached_pass(rng, chunks, window,
                                                                     cache_window):
    x = rng.normal(size=(2, 9, 8)).astype(np.float32)
    layer = attn_lib.GroupedQueryAttention(4, 2, key_dim=4, sliding_window=window)
    full = layer(x, x, x, causal=True).numpy()
    cache, start, pieces = attn_lib.KVCache(1, 2, 4, window=cache_window), 0, []
    for t in chunks:
        part = x[:, start:start + t]
        pieces.append(layer(part, part, part, causal=True, cache=cache).numpy())
        start += t
        assert cache.stored(0) == min(start, cache_window or start)  # never more than W
    np.testing.assert_allclose(np.concatenate(pieces, axis=1), full, atol=1e-6)
    assert cache.length == 9


def test_a_hand_written_mask_through_a_windowed_cache_covers_the_kept_keys(rng):
    x = rng.normal(size=(1, 8, 8)).astype(np.float32)
    layer = attn_lib.GroupedQueryAttention(2, 1, key_dim=4, sliding_window=3)
    full = layer(x, x, x, causal=True).numpy()
    cache = attn_lib.KVCache(1, 1, 4, window=3)
    layer(x[:, :6], x[:, :6], x[:, :6], causal=True, cache=cache)
    kept = cache.stored(0)  # 3 of 6 positions; keys 3, 4, 5
    assert (kept, cache.first_position(0), cache.length) == (3, 3, 6)
    mask = attn_lib.sliding_window_mask(2, 3, kept + 2, offset=kept)[None]  # (1, 2, 5)
    out = layer(x[:, 6:], x[:, 6:], x[:, 6:], mask=mask, cache=cache)
    np.testing.assert_allclose(out, full[:, 6:], atol=1e-6)
    absolute = attn_lib.sliding_window_mask(1, 3, offset=cache.length)[None]  # (1, 1, 9)
    with pytest.raises(ValueError, match=r"mask.shape=\(1, 1, 9\)"):  # not the kept keys
        layer(x[:, :1], x[:, :1], x[:, :1], mask=absolute, cache=cache)


@pytest.mark.parametrize("make, error, message", [
    (lambda: attn_lib.GroupedQueryAttention(4, 3, key_dim=2), ValueError,
     r"`num_query_heads` must be divisible by `num_key_value_heads`. Received: "
     r"num_query_heads=4, num_key_value_heads=3"),
    (lambda: attn_lib.GroupedQueryAttention(4, 0, key_dim=2), ValueError,
     r"`num_key_value_heads` must be > 0"),
    (lambda: attn_lib.GroupedQueryAttention(4, 2, key_dim=2, sliding_window=0), ValueError,
     r"`sliding_window` must be > 0. Received: sliding_window=0"),
    (lambda: attn_lib.GroupedQueryAttention(4, 2, key_dim=2, sliding_window=2.5), TypeError,
     r"`sliding_window` must be an integer"),
    (lambda: attn_lib.MultiHeadAttention(num_heads=0, key_dim=2), ValueError,
     r"`num_heads` must be > 0. Received: num_heads=0"),
])
def test_grouped_query_constructor_errors_name_the_argument(make, error, message):
    with pytest.raises(error, match=message):
        make()


@pytest.mark.parametrize("window, cache, message", [
    (None, attn_lib.KVCache(1, 2, 4), r"num_kv_heads=1 \(this layer's key-value heads\).*"
                                      r"Received: num_kv_heads=2, head_dim=4"),
    (None, attn_lib.KVCache(1, 1, 4, window=4), r"sliding_window of at most that. "
                                                r"Received: cache.window=4, sliding_window=None"),
    (5, attn_lib.KVCache(1, 1, 4, window=4), r"Received: cache.window=4, sliding_window=5"),
])
def test_a_cache_that_does_not_fit_the_layer_is_refused(rng, window, cache, message):
    x = rng.normal(size=(1, 3, 8)).astype(np.float32)
    layer = attn_lib.GroupedQueryAttention(2, 1, key_dim=4, sliding_window=window)
    with pytest.raises(ValueError, match=message):
        layer(x, x, x, causal=True, cache=cache)
