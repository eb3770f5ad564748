"""Keras layers against the NumPy reference, against Keras' own layers, and their invariants."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given
from hypothesis import strategies as st

import attn_lib
from attn_lib import reference

SEED_QUERY = np.array([[[1.0, 1.0, 1.0, 3.0]]], np.float32)
SEED_KEYS = np.array([[[1.0, 1.0, 2.0, 4.0], [4.0, 1.0, 1.0, 3.0], [1.0, 1.0, 2.0, 1.0]]],
                     np.float32)


def random_qkv(rng, batch=2, num_queries=3, num_kv=5, dq=4, dk=4, dv=6):
    q = rng.normal(size=(batch, num_queries, dq)).astype(np.float32)
    k = rng.normal(size=(batch, num_kv, dk)).astype(np.float32)
    v = rng.normal(size=(batch, num_kv, dv)).astype(np.float32)
    return q, k, v


# --- seed 000's worked example --------------------------------------------------------------

def test_seed_000_example_gives_the_published_weights_and_output():
    layer = attn_lib.DotProductAttention(scaled=False)
    output = layer(SEED_QUERY, SEED_KEYS, SEED_KEYS).numpy()
    np.testing.assert_allclose(layer.attention_weights.numpy()[0, 0], [0.731, 0.269, 9.02e-5],
                               rtol=1e-3)
    np.testing.assert_allclose(output[0, 0], [1.807, 1.0, 1.731, 3.731], atol=1e-3)


def test_seed_000_example_agrees_with_numpy_and_keras():
    ours = attn_lib.DotProductAttention(scaled=False)(SEED_QUERY, SEED_KEYS, SEED_KEYS).numpy()
    by_hand, _ = reference.dot_product_attention(SEED_QUERY, SEED_KEYS, SEED_KEYS, scaled=False)
    keras_out = keras.layers.Attention()([SEED_QUERY, SEED_KEYS]).numpy()
    np.testing.assert_allclose(ours, by_hand, atol=1e-5)
    np.testing.assert_allclose(ours, keras_out, atol=1e-5)


# --- against the NumPy reference ------------------------------------------------------------

shapes = st.tuples(st.integers(1, 3), st.integers(1, 4), st.integers(1, 6), st.integers(1, 5),
                   st.integers(1, 5), st.booleans())


@given(shapes)
def test_dot_product_attention_matches_reference(shape):
    batch, num_queries, num_kv, d, dv, per_query = shape
    rng = np.random.default_rng(sum(shape))
    q, k, v = random_qkv(rng, batch, num_queries, num_kv, d, d, dv)
    lens = rng.integers(0, num_kv + 1, size=(batch, num_queries) if per_query else (batch,))
    layer = attn_lib.DotProductAttention()
    out = layer(q, k, v, valid_lens=lens).numpy()
    ref_out, ref_w = reference.dot_product_attention(q, k, v, valid_lens=lens)
    np.testing.assert_allclose(out, ref_out, atol=1e-5)
    np.testing.assert_allclose(layer.attention_weights.numpy(), ref_w, atol=1e-6)


@given(shapes, st.integers(1, 8))
def test_additive_attention_matches_reference_with_different_query_and_key_sizes(shape, hidden):
    batch, num_queries, num_kv, dq, dk, per_query = shape
    rng = np.random.default_rng(sum(shape) + hidden)
    q, k, v = random_qkv(rng, batch, num_queries, num_kv, dq, dk + 1, 3)
    lens = rng.integers(0, num_kv + 1, size=(batch, num_queries) if per_query else (batch,))
    layer = attn_lib.AdditiveAttention(num_hiddens=hidden)
    out = layer(q, k, v, valid_lens=lens).numpy()
    ref_out, ref_w = reference.additive_attention(
        q, k, v, layer.W_q.numpy(), layer.W_k.numpy(), layer.w_v.numpy(), valid_lens=lens)
    np.testing.assert_allclose(out, ref_out, atol=1e-5)
    np.testing.assert_allclose(layer.attention_weights.numpy(), ref_w, atol=1e-6)


def test_general_attention_matches_reference(rng):
    q, k, v = random_qkv(rng, dq=3, dk=5)
    layer = attn_lib.GeneralAttention()
    lens = np.array([1, 4])
    out = layer(q, k, v, valid_lens=lens).numpy()
    ref_out, _ = reference.general_attention(q, k, v, layer.W.numpy(), valid_lens=lens)
    np.testing.assert_allclose(out, ref_out, atol=1e-5)


def test_general_attention_works_for_any_batch_size(rng):
    layer = attn_lib.GeneralAttention()
    for batch in (1, 4, 7):
        q, k, v = random_qkv(rng, batch=batch)
        weights = (layer(q, k, v), layer.attention_weights.numpy())[1]
        np.testing.assert_allclose(weights.sum(-1), 1.0, rtol=1e-5)


def test_multi_head_attention_matches_reference(rng):
    q, k, v = random_qkv(rng, dq=6, dk=5, dv=4)
    layer = attn_lib.MultiHeadAttention(num_heads=3, key_dim=2, value_dim=3, output_dim=7)
    lens = np.array([[1, 2, 5], [5, 0, 3]])
    out = layer(q, k, v, valid_lens=lens).numpy()
    weights = [w.numpy() for w in (layer.W_q, layer.W_k, layer.W_v, layer.W_o)]
    biases = [b.numpy() + 0.1 for b in (layer.b_q, layer.b_k, layer.b_v, layer.b_o)]
    for variable, value in zip((layer.b_q, layer.b_k, layer.b_v, layer.b_o), biases):
        variable.assign(value)
    out = layer(q, k, v, valid_lens=lens).numpy()
    ref_out, ref_w = reference.multi_head_attention(q, k, v, 3, *weights, *biases,
                                                    valid_lens=lens)
    assert out.shape == (2, 3, 7) and layer.attention_weights.shape == (2, 3, 3, 5)
    np.testing.assert_allclose(out, ref_out, atol=1e-5)
    np.testing.assert_allclose(layer.attention_weights.numpy(), ref_w, atol=1e-6)


@pytest.mark.parametrize("num_heads", [1, 2, 4])
def test_self_attention_matches_reference(rng, num_heads):
    x = rng.normal(size=(2, 5, 3)).astype(np.float32)
    layer = attn_lib.SelfAttention(units=8, num_heads=num_heads)
    lens = np.array([3, 5])
    out = layer(x, valid_lens=lens).numpy()
    ref_out, ref_w = reference.self_attention(x, layer.W_q.numpy(), layer.W_k.numpy(),
                                              layer.W_v.numpy(), num_heads, valid_lens=lens)
    np.testing.assert_allclose(out, ref_out, atol=1e-5)
    expected_w = ref_w[:, 0] if num_heads == 1 else ref_w
    np.testing.assert_allclose(layer.attention_weights.numpy(), expected_w, atol=1e-6)


def test_positional_encoding_adds_the_sinusoid_table():
    layer = attn_lib.PositionalEncoding(max_len=10, d_model=6)
    x = np.zeros((2, 4, 6), np.float32)
    np.testing.assert_allclose(layer(x).numpy()[1], reference.positional_encoding(10, 6)[:4],
                               atol=1e-6)


# --- against Keras' layers ------------------------------------------------------------------

def test_unscaled_dot_product_equals_keras_attention_with_value_mask(rng):
    q, k, v = random_qkv(rng)
    lens = np.array([2, 5])
    ours = attn_lib.DotProductAttention(scaled=False)(q, k, v, valid_lens=lens).numpy()
    value_mask = reference.sequence_mask(lens, k.shape[1])
    theirs = keras.layers.Attention()([q, v, k], mask=[None, value_mask]).numpy()
    np.testing.assert_allclose(ours, theirs, atol=1e-5)


def test_scaled_dot_product_equals_keras_attention_on_scaled_queries(rng):
    q, k, v = random_qkv(rng, dq=16, dk=16)
    ours = attn_lib.DotProductAttention()(q, k, v).numpy()
    theirs = keras.layers.Attention()([q / np.sqrt(16), v, k]).numpy()
    np.testing.assert_allclose(ours, theirs, atol=1e-5)


def copy_keras_mha_weights(theirs, ours, num_heads, key_dim, value_dim):
    """Keras keeps kernels as (d_in, h, d); ours are the same numbers as (d_in, h*d)."""
    pairs = [(theirs._query_dense, ours.W_q, ours.b_q), (theirs._key_dense, ours.W_k, ours.b_k),
             (theirs._value_dense, ours.W_v, ours.b_v)]
    for dense, kernel, bias in pairs:
        kernel.assign(dense.kernel.numpy().reshape(kernel.shape))
        bias.assign(dense.bias.numpy().reshape(bias.shape))
    ours.W_o.assign(theirs._output_dense.kernel.numpy().reshape(ours.W_o.shape))
    ours.b_o.assign(theirs._output_dense.bias.numpy())


@pytest.mark.parametrize("causal", [False, True])
def test_multi_head_attention_equals_keras_with_the_same_weights(rng, causal):
    q, k, v = random_qkv(rng, num_queries=4, num_kv=4, dq=6, dk=5, dv=5)
    theirs = keras.layers.MultiHeadAttention(num_heads=2, key_dim=3, value_dim=4)
    mask = reference.sequence_mask(np.array([[4, 2, 3, 1], [1, 1, 4, 4]]), 4)
    expected, expected_w = theirs(q, v, key=k, attention_mask=mask, use_causal_mask=causal,
                                  return_attention_scores=True)
    ours = attn_lib.MultiHeadAttention(num_heads=2, key_dim=3, value_dim=4)
    ours(q, k, v)  # build
    copy_keras_mha_weights(theirs, ours, 2, 3, 4)
    out = ours(q, k, v, mask=mask, causal=causal).numpy()
    np.testing.assert_allclose(out, expected.numpy(), atol=1e-5)
    np.testing.assert_allclose(ours.attention_weights.numpy(), expected_w.numpy(), atol=1e-6)


# --- self-attention invariants ---------------------------------------------------------------

def test_self_attention_is_permutation_equivariant_without_positions(rng):
    x = rng.normal(size=(1, 6, 4)).astype(np.float32)
    layer = attn_lib.SelfAttention(units=8, num_heads=2)
    perm = rng.permutation(6)
    np.testing.assert_allclose(layer(x[:, perm]).numpy(), layer(x).numpy()[:, perm], atol=1e-5)


def test_causal_outputs_do_not_depend_on_the_future(rng):
    x = rng.normal(size=(1, 6, 4)).astype(np.float32)
    changed = x.copy()
    changed[:, 4:] = rng.normal(size=(1, 2, 4))
    layer = attn_lib.SelfAttention(units=8, num_heads=2)
    np.testing.assert_allclose(layer(x, causal=True).numpy()[:, :4],
                               layer(changed, causal=True).numpy()[:, :4], atol=1e-6)
    assert not np.allclose(layer(x, causal=True).numpy()[:, 4:],
                           layer(changed, causal=True).numpy()[:, 4:])


def test_outputs_do_not_depend_on_padding_beyond_valid_lens(rng):
    x = rng.normal(size=(2, 6, 4)).astype(np.float32)
    padded = x.copy()
    padded[0, 3:] = 100.0
    lens = np.array([3, 6])
    layer = attn_lib.SelfAttention(units=8)
    np.testing.assert_allclose(layer(x, valid_lens=lens).numpy()[0, :3],
                               layer(padded, valid_lens=lens).numpy()[0, :3], atol=1e-6)


def test_dropout_acts_only_in_training(rng):
    q, k, v = random_qkv(rng)
    layer = attn_lib.DotProductAttention(dropout=0.5)
    inference = layer(q, k, v, training=False).numpy()
    np.testing.assert_allclose(inference, layer(q, k, v).numpy())
    assert not np.allclose(layer(q, k, v, training=True).numpy(), inference)


# --- serialisation ----------------------------------------------------------------------------

def test_a_model_with_every_layer_saves_and_reloads_with_equal_outputs(tmp_path, rng):
    tokens = keras.Input((5, 4))
    x = attn_lib.PositionalEncoding(max_len=8, d_model=4)(tokens)
    x = attn_lib.SelfAttention(units=6, num_heads=2)(x, causal=True)
    x = attn_lib.MultiHeadAttention(num_heads=2, key_dim=3)(x, x, x)
    x = attn_lib.AdditiveAttention(num_hiddens=5)(x, tokens, x)
    x = attn_lib.GeneralAttention()(x, x, x)
    x = attn_lib.DotProductAttention(scaled=False)(x, x, x)
    model = keras.Model(tokens, x)
    data = rng.normal(size=(3, 5, 4)).astype(np.float32)
    path = tmp_path / "model.keras"
    model.save(path)
    reloaded = keras.models.load_model(path)
    np.testing.assert_allclose(reloaded.predict(data, verbose=0), model.predict(data, verbose=0),
                               atol=1e-6)


@pytest.mark.parametrize("layer", [
    attn_lib.DotProductAttention(dropout=0.1, scaled=False),
    attn_lib.AdditiveAttention(num_hiddens=7, dropout=0.2),
    attn_lib.GeneralAttention(dropout=0.3),
    attn_lib.MultiHeadAttention(num_heads=2, key_dim=3, value_dim=5, output_dim=4, dropout=0.1),
    attn_lib.SelfAttention(units=6, num_heads=3, dropout=0.1),
    attn_lib.PositionalEncoding(max_len=9, d_model=4),
], ids=lambda layer: type(layer).__name__)
def test_get_config_round_trips_every_constructor_argument(layer):
    clone = type(layer).from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()


# --- bad input ---------------------------------------------------------------------------------

@pytest.mark.parametrize("call, error, message", [
    (lambda q, k, v: attn_lib.DotProductAttention()(q, np.ones((2, 5, 3), "float32"), v),
     ValueError, r"same size.*queries.shape=\(2, 3, 4\), keys.shape=\(2, 5, 3\)"),
    (lambda q, k, v: attn_lib.DotProductAttention()(q, k, v[:, :4]),
     ValueError, r"`keys` and `values` must have the same number of positions.*"
                 r"keys.shape=\(2, 5, 4\), values.shape=\(2, 4, 6\)"),
    (lambda q, k, v: attn_lib.AdditiveAttention(4)(q[0], k, v),
     ValueError, r"`queries` must have rank 3.*queries.shape=\(3, 4\)"),
    (lambda q, k, v: attn_lib.DotProductAttention()(q, k, v, valid_lens=np.array([1, 2, 3])),
     ValueError, r"valid_lens.*shape \(2,\) or \(2, 3\).*valid_lens.shape=\(3,\)"),
    (lambda q, k, v: attn_lib.DotProductAttention()(q, k, v, valid_lens=np.array([1, -2])),
     ValueError, r"non-negative"),
    (lambda q, k, v: attn_lib.GeneralAttention()(q, k, v, valid_lens=np.array([1.0, 2.0])),
     TypeError, r"valid_lens.*integers"),
    (lambda q, k, v: attn_lib.DotProductAttention()(q, k, v, mask=np.ones((2, 3, 4), bool)),
     ValueError, r"mask.*broadcast.*\(2, 3, 5\).*mask.shape=\(2, 3, 4\)"),
    (lambda q, k, v: attn_lib.DotProductAttention()(q.astype(int), k, v),
     TypeError, r"`queries` must be a floating-point"),
    (lambda q, k, v: attn_lib.DotProductAttention()(q[:1], k, v),
     ValueError, r"same batch size"),
    (lambda q, k, v: attn_lib.SelfAttention(4)(q[0]),
     ValueError, r"`x` must have rank 3.*x.shape=\(3, 4\)"),
    (lambda q, k, v: attn_lib.PositionalEncoding(2, 4)(q),
     ValueError, r"more positions than max_len=2.*x.shape=\(2, 3, 4\)"),
    (lambda q, k, v: attn_lib.PositionalEncoding(9, 5)(q),
     ValueError, r"d_model=5.*x.shape=\(2, 3, 4\)"),
])
def test_bad_input_is_named_in_the_error(rng, call, error, message):
    q, k, v = random_qkv(rng)
    with pytest.raises(error, match=message):
        call(q, k, v)


@pytest.mark.parametrize("make, error, message", [
    (lambda: attn_lib.DotProductAttention(dropout=1.5), ValueError, r"dropout.*\[0, 1\).*1.5"),
    (lambda: attn_lib.AdditiveAttention(num_hiddens=0), ValueError, r"num_hiddens.*> 0"),
    (lambda: attn_lib.AdditiveAttention(num_hiddens=2.5), TypeError, r"num_hiddens.*integer"),
    (lambda: attn_lib.SelfAttention(units=6, num_heads=4), ValueError,
     r"units.*divisible by.*num_heads.*units=6, num_heads=4"),
    (lambda: attn_lib.MultiHeadAttention(num_heads=2, key_dim=-1), ValueError, r"key_dim"),
])
def test_bad_constructor_arguments_are_named(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_layers_work_inside_a_traced_function(rng):
    q, k, v = random_qkv(rng)
    layer = attn_lib.DotProductAttention()

    @tf.function(input_signature=[tf.TensorSpec((None, None, 4)), tf.TensorSpec((None,), tf.int32)])
    def run(queries, lens):
        return layer(queries, queries, queries, valid_lens=lens)

    out = run(tf.constant(q), tf.constant([1, 3])).numpy()
    expected, _ = reference.dot_product_attention(q, q, q, valid_lens=np.array([1, 3]))
    np.testing.assert_allclose(out, expected, atol=1e-5)


def test_self_attention_uses_the_padding_mask_of_a_masking_embedding(rng):
    ids = np.array([[3, 5, 2, 0, 0], [1, 2, 3, 4, 5]])
    embedded = keras.layers.Embedding(8, 4, mask_zero=True)(ids)
    layer = attn_lib.SelfAttention(units=4)
    masked = layer(embedded).numpy()
    np.testing.assert_array_equal(layer.attention_weights.numpy()[0, :, 3:], 0.0)
    with_lens = layer(embedded, valid_lens=np.array([3, 5])).numpy()
    np.testing.assert_allclose(masked, with_lens, atol=1e-6)
