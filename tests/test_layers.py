"""attn_lib.layers: against the NumPy reference and Keras' layers, masks, contract, errors."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given
from hypothesis import strategies as st
from layer_contract import check_layer_contract

import attn_lib
from attn_lib import reference
from attn_lib.data import CHAPTER1_DATA, make_kernel_regression
from attn_lib.data.regression import leave_one_out
from attn_lib.diagnostics import leak_test

WORKED_QUERY = np.array([[[1.0, 1.0, 1.0, 3.0]]], np.float32)
WORKED_KEYS = np.array([[[1.0, 1.0, 2.0, 4.0], [4.0, 1.0, 1.0, 3.0], [1.0, 1.0, 2.0, 1.0]]],
                     np.float32)


def random_qkv(rng, batch=2, num_queries=3, num_kv=5, dq=4, dk=4, dv=6):
    q = rng.normal(size=(batch, num_queries, dq)).astype(np.float32)
    k = rng.normal(size=(batch, num_kv, dk)).astype(np.float32)
    v = rng.normal(size=(batch, num_kv, dv)).astype(np.float32)
    return q, k, v


# --- the worked example of chapter 0 --------------------------------------------------------------

def test_worked_example_gives_the_published_weights_and_output():
    layer = attn_lib.DotProductAttention(scaled=False)
    output = layer(WORKED_QUERY, WORKED_KEYS, WORKED_KEYS).numpy()
    np.testing.assert_allclose(layer.attention_weights.numpy()[0, 0], [0.731, 0.269, 9.02e-5],
                               rtol=1e-3)
    np.testing.assert_allclose(output[0, 0], [1.807, 1.0, 1.731, 3.731], atol=1e-3)


def test_worked_example_agrees_with_numpy_and_keras():
    q, k = WORKED_QUERY, WORKED_KEYS
    ours = attn_lib.DotProductAttention(scaled=False)(q, k, k).numpy()
    by_hand, _ = reference.dot_product_attention(q, k, k, scaled=False)
    keras_out = keras.layers.Attention()([WORKED_QUERY, WORKED_KEYS]).numpy()
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
    layer = attn_lib.AdditiveAttention(units=hidden)
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
        _, weights = layer(q, k, v, return_attention_scores=True)
        np.testing.assert_allclose(weights.numpy().sum(-1), 1.0, rtol=1e-5)


def test_nadaraya_watson_is_a_softmax_of_gaussian_scores_over_the_keys(rng):
    x_train = np.sort(rng.uniform(0, 5, 20)).astype("float32")
    y_train = np.sin(x_train)
    x_test = np.linspace(0, 5, 7, dtype="float32")
    layer = attn_lib.NadarayaWatson(initial_width=0.4)
    out, weights = layer(x_test.reshape(1, -1, 1), x_train.reshape(1, -1, 1),
                         y_train.reshape(1, -1, 1), return_attention_scores=True)
    expected, expected_w = reference.nadaraya_watson(x_test, x_train, y_train, 0.4)
    np.testing.assert_allclose(out.numpy().ravel(), expected, atol=1e-5)
    np.testing.assert_allclose(weights.numpy()[0], expected_w, atol=1e-6)
    assert [w.name for w in layer.weights] == ["log_width"]


def test_nadaraya_watson_mask_drops_keys_like_leave_one_out():
    data = make_kernel_regression(n_train=20, n_test=15, seed=3)
    x = data.x_train.reshape(1, -1, 1)
    y = data.y_train.reshape(1, -1, 1)
    n = len(data.x_train)
    layer = attn_lib.NadarayaWatson(initial_width=0.4)
    masked = layer(x, x, y, mask=~np.eye(n, dtype=bool)[None]).numpy().ravel()
    queries, keys, values, _ = leave_one_out(data.x_train, data.y_train)
    separate = layer(queries, keys, values).numpy().ravel()
    np.testing.assert_allclose(masked, separate, atol=1e-5)


def test_training_on_leave_one_out_data_finds_the_best_width_on_a_grid():
    data = make_kernel_regression(**CHAPTER1_DATA)
    queries, keys, values, targets = leave_one_out(data.x_train, data.y_train)
    layer = attn_lib.NadarayaWatson(initial_width=1.0)
    q, k, v = (keras.Input((None, 1)) for _ in range(3))
    model = keras.Model([q, k, v], layer(q, k, v))
    model.compile(optimizer=keras.optimizers.SGD(1.0), loss="mse")
    model.fit([queries, keys, values], targets, batch_size=len(queries), epochs=60,
              verbose=0)
    widths = np.geomspace(0.05, 2.0, 200)
    losses = []
    for width in widths:
        scores = -((queries - np.swapaxes(keys, 1, 2)) ** 2) / (2 * width**2)  # (n, 1, n-1)
        weights = reference.softmax(scores)
        losses.append(np.mean((weights @ values - targets) ** 2))
    best = widths[int(np.argmin(losses))]
    assert abs(float(layer.width) - best) / best < 0.05
    assert model.evaluate([queries, keys, values], targets, verbose=0) < min(losses) + 1e-3


def test_attention_pooling_weights_are_a_masked_softmax_of_the_learned_scores(rng):
    x = rng.normal(size=(2, 5, 3)).astype(np.float32)
    pool = attn_lib.AttentionPooling(units=4)
    pooled, weights = pool(x, valid_lens=np.array([2, 5]), return_attention_scores=True)
    scores = np.tanh(x @ pool.W_1.numpy() + pool.b_1.numpy()) @ pool.w_2.numpy()  # (B, T)
    expected = reference.masked_softmax(scores[:, None, :], valid_lens=np.array([2, 5]))[:, 0]
    np.testing.assert_allclose(weights.numpy(), expected, atol=1e-6)
    np.testing.assert_allclose(pooled.numpy(), np.einsum("bt,btd->bd", expected, x), atol=1e-5)
    np.testing.assert_allclose(pool.attention_weights.numpy(), expected, atol=1e-6)


# --- attention pooling ---------------------------------------------------------------------

def pooling_oracle(pool, x, valid_lens):
    """NumPy: ``a = masked_softmax(w₂ᵀ tanh(W₁ x_t + b₁))``, pooled ``Σ_t a_t x_t``."""
    W_1, b_1, w_2 = (v.numpy() for v in (pool.W_1, pool.b_1, pool.w_2))
    scores = np.tanh(x @ W_1 + b_1) @ w_2  # (B, T)
    weights = reference.masked_softmax(scores[:, None, :], valid_lens)[:, 0]  # (B, T)
    return np.einsum("bt,btd->bd", weights, x), weights


def test_pooling_matches_a_numpy_oracle_and_an_empty_sequence_pools_to_zero(rng):
    pool = attn_lib.AttentionPooling(units=5)
    x = rng.normal(size=(3, 6, 4)).astype("float32")
    valid_lens = np.array([2, 6, 0])
    pooled, weights = pool(x, valid_lens=valid_lens, return_attention_scores=True)
    expected, expected_weights = pooling_oracle(pool, x, valid_lens)
    np.testing.assert_allclose(weights.numpy(), expected_weights, atol=1e-6)
    np.testing.assert_allclose(pooled.numpy(), expected, atol=1e-5)
    assert (pooled.numpy()[2] == 0).all() and (weights.numpy()[2] == 0).all()  # nothing to pool


def test_pooling_ignores_whatever_the_padding_holds(rng):
    pool = attn_lib.AttentionPooling(units=3)
    x = rng.normal(size=(2, 5, 4)).astype("float32")
    valid_lens = np.array([3, 1])
    expected = pool(x, valid_lens=valid_lens).numpy()
    changed = x.copy()
    changed[0, 3:], changed[1, 1:] = 1e4, -7.0
    np.testing.assert_array_equal(pool(changed, valid_lens=valid_lens).numpy(), expected)


def test_pooling_reads_a_keras_mask_as_it_reads_valid_lens():
    token_ids = np.array([[3, 4, 0, 0], [5, 6, 7, 1]])
    embedding = keras.layers.Embedding(10, 3, mask_zero=True)
    pool = attn_lib.AttentionPooling(units=2)
    pooled, weights = pool(embedding(token_ids), return_attention_scores=True)
    unmasked = embedding(token_ids).numpy()  # a NumPy copy carries no Keras mask
    expected, expected_weights = pool(unmasked, valid_lens=np.array([2, 4]),
                                      return_attention_scores=True)
    np.testing.assert_allclose(weights.numpy(), expected_weights.numpy(), atol=1e-6)
    np.testing.assert_allclose(pooled.numpy(), expected.numpy(), atol=1e-6)
    assert (weights.numpy()[0, 2:] == 0).all()


@pytest.mark.parametrize("call, error, message", [
    (lambda pool: pool(np.ones((2, 3), "float32")), ValueError,
     r"`x` must have rank 3.*Received: x.shape=\(2, 3\)"),
    (lambda pool: pool(np.ones((2, 3, 4), "int32")), TypeError,
     r"`x` must be a floating-point tensor.*Received: x.dtype=int32"),
    (lambda pool: pool(np.ones((2, 3, 4), "float32"), valid_lens=np.ones((2, 3), "int32")),
     ValueError, r"`valid_lens` must have shape \(B,\), here \(2,\). "
                 r"Received: valid_lens.shape=\(2, 3\)"),
])
def test_pooling_rejects_bad_inputs(call, error, message):
    with pytest.raises(error, match=message):
        call(attn_lib.AttentionPooling(units=2))


def test_pooling_rejects_a_non_positive_size():
    with pytest.raises(ValueError, match=r"`units` must be > 0. Received: units=0"):
        attn_lib.AttentionPooling(units=0)


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


# --- Keras masks (defect 1 of 0.2: they were dropped) -----------------------------------------

IDS = np.array([[3, 5, 2, 0, 0], [1, 2, 3, 4, 5], [7, 1, 0, 0, 0]])


def embedded_with_mask(dim=4):
    embedding = keras.layers.Embedding(8, dim, mask_zero=True)
    return embedding(IDS)


def test_defect1_dot_product_reads_keras_masks_like_keras_attention():
    x = embedded_with_mask()
    ours, weights = attn_lib.DotProductAttention(scaled=False)(x, x, x,
                                                               return_attention_scores=True)
    theirs = keras.layers.Attention()([x, x])
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), atol=1e-6)
    real = IDS != 0
    assert (weights.numpy()[~np.broadcast_to(real[:, None, :], weights.shape)] == 0).all()
    np.testing.assert_array_equal(ours._keras_mask.numpy(), real)  # the queries' mask goes on


@pytest.mark.parametrize("make", [lambda: attn_lib.AdditiveAttention(units=3),
                                  lambda: attn_lib.GeneralAttention(),
                                  lambda: attn_lib.NadarayaWatson()],
                         ids=["additive", "general", "nadaraya_watson"])
def test_defect1_every_layer_puts_zero_weight_on_keys_a_keras_mask_hides(make):
    x = embedded_with_mask()
    _, weights = make()(x, x, x, return_attention_scores=True)
    keys_masked = np.broadcast_to((IDS == 0)[:, None, :], weights.shape)
    queries_masked = np.broadcast_to((IDS == 0)[:, :, None], weights.shape)
    assert (weights.numpy()[keys_masked | queries_masked] == 0).all()
    assert np.allclose(weights.numpy().sum(-1)[IDS != 0], 1.0)


# --- masks: shapes are explicit (defect 2), leaks ---------------------------------------------

def test_defect2_a_keras_style_value_mask_is_refused_even_when_batch_equals_num_queries(rng):
    q, k, v = random_qkv(rng, batch=3, num_queries=3)
    value_mask = np.ones((3, 5), bool)  # (B, Tv) with B == Tq: once silently read as (Tq, Tv)
    with pytest.raises(ValueError, match=r"`mask` must have rank 3.*mask\[:, None, :\].*"
                                         r"mask.shape=\(3, 5\)"):
        attn_lib.DotProductAttention()(q, k, v, mask=value_mask)


def test_a_rank_3_mask_may_be_shared_by_the_batch_or_by_the_queries(rng):
    q, k, v = random_qkv(rng)
    layer = attn_lib.DotProductAttention()
    per_key = np.array([[True, True, False, True, False], [True] * 5])[:, None, :]  # (B, 1, Tv)
    shared = attn_lib.causal_mask(3, 5).numpy()[None]  # (1, Tq, Tv)
    for mask in (per_key, shared):
        _, weights = layer(q, k, v, mask=mask, return_attention_scores=True)
        _, expected = reference.dot_product_attention(q, k, v, mask=mask)
        np.testing.assert_allclose(weights.numpy(), expected, atol=1e-6)


LAYERS = {
    "dot_product": lambda: attn_lib.DotProductAttention(),
    "additive": lambda: attn_lib.AdditiveAttention(units=3),
    "general": lambda: attn_lib.GeneralAttention(),
    "nadaraya_watson": lambda: attn_lib.NadarayaWatson(),
}


@pytest.mark.parametrize("make", LAYERS.values(), ids=LAYERS.keys())
def test_no_output_depends_on_a_key_that_valid_lens_or_mask_hides(rng, make):
    q, k, v = random_qkv(rng, num_queries=4)
    lens = np.array([[1, 2, 5, 3], [4, 0, 2, 5]])
    mask = rng.random((2, 4, 5)) < 0.7
    visible = reference.sequence_mask(lens, 5) & mask
    layer = make()
    leaks = leak_test(lambda q, k, v: layer(q, k, v, valid_lens=lens, mask=mask), visible, q, k, v)
    assert not leaks.any()
    # the test can fail: the same layer without its mask leaks
    assert leak_test(lambda q, k, v: layer(q, k, v), visible, q, k, v).any()


# --- valid_lens of every integer type (defect 4) ----------------------------------------------

@pytest.mark.parametrize("dtype", ["int8", "int16", "int32", "int64", "uint8", "uint16",
                                   "uint32", "uint64"])
def test_defect4_valid_lens_of_every_integer_dtype_give_the_same_weights(rng, dtype):
    q, k, v = random_qkv(rng)
    layer = attn_lib.DotProductAttention()
    _, expected = layer(q, k, v, valid_lens=np.array([2, 4]), return_attention_scores=True)
    _, weights = layer(q, k, v, valid_lens=np.array([2, 4], dtype),
                       return_attention_scores=True)
    np.testing.assert_array_equal(weights.numpy(), expected.numpy())


# --- mixed precision (defect 5) ----------------------------------------------------------------

def test_defect5_scaled_scores_that_fit_float16_do_not_overflow_under_mixed_precision(rng):
    q = (40 * rng.standard_normal((1, 4, 64)) / 8 + 40).astype(np.float32)  # q·k ~ 10⁵ > 65504
    expected = attn_lib.DotProductAttention()(q, q, q).numpy()
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        output = attn_lib.DotProductAttention()(q, q, q)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert output.dtype == tf.float16
    assert np.isfinite(output.numpy()).all()
    np.testing.assert_allclose(output.numpy(), expected, rtol=2e-2)


# --- dropout acts on the weights, only in training ---------------------------------------------

def test_dropout_acts_only_in_training(rng):
    q, k, v = random_qkv(rng)
    layer = attn_lib.DotProductAttention(dropout=0.5)
    inference = layer(q, k, v, training=False).numpy()
    np.testing.assert_allclose(inference, layer(q, k, v).numpy())
    assert not np.allclose(layer(q, k, v, training=True).numpy(), inference)


def test_dropout_drops_weights_not_output_features(rng):
    q, k, _ = random_qkv(rng, num_kv=40)
    ones = np.ones((2, 40, 6), np.float32)  # every value vector is all ones
    out = attn_lib.DotProductAttention(dropout=0.5)(q, k, ones, training=True).numpy()
    # dropped weights scale a whole row of the output; dropped features would differ per feature
    np.testing.assert_allclose(out, np.broadcast_to(out[..., :1], out.shape), rtol=1e-6)
    assert not np.allclose(out, 1.0)


# --- weights are returned, also where the attribute cannot hold numbers (defect 8) -------------

def test_defect8_weights_come_back_from_a_traced_call_and_from_predict(rng):
    q, k, v = random_qkv(rng)
    lens = np.array([2, 5])
    layer = attn_lib.AdditiveAttention(units=4)
    _, eager = layer(q, k, v, valid_lens=lens, return_attention_scores=True)
    traced = tf.function(lambda q, k, v: layer(q, k, v, valid_lens=lens,
                                                return_attention_scores=True)[1])
    np.testing.assert_allclose(traced(q, k, v).numpy(), eager.numpy(), atol=1e-6)
    inputs = [keras.Input(a.shape[1:]) for a in (q, k, v)]
    model = keras.Model(inputs, layer(*inputs, return_attention_scores=True)[1])
    np.testing.assert_allclose(model.predict([q, k, v], verbose=0),
                               layer(q, k, v, return_attention_scores=True)[1].numpy(),
                               atol=1e-6)


# --- the Keras layer contract -------------------------------------------------------------------

@pytest.mark.parametrize("make", LAYERS.values(), ids=LAYERS.keys())
def test_layer_contract(rng, tmp_path, make):
    q, k, v = random_qkv(rng)
    check_layer_contract(make, (q, k, v), {"valid_lens": np.array([2, 5], np.int32)},
                         tmp_path=tmp_path)


def test_layer_contract_attention_pooling(rng, tmp_path):
    x = rng.normal(size=(2, 5, 3)).astype(np.float32)
    check_layer_contract(lambda: attn_lib.AttentionPooling(units=4), (x,),
                         {"valid_lens": np.array([2, 5], np.int32)}, tmp_path=tmp_path)


# --- bad input ---------------------------------------------------------------------------------

@pytest.mark.parametrize("call, error, message", [
    (lambda q, k, v: attn_lib.DotProductAttention()(q, np.ones((2, 5, 3), "float32"), v),
     ValueError, r"same size.*queries.shape=\(2, 3, 4\), keys.shape=\(2, 5, 3\)"),
    (lambda q, k, v: attn_lib.DotProductAttention()(q, k, v[:, :4]),
     ValueError, r"`keys` and `values` must have the same batch size and number of positions.*"
                 r"keys.shape=\(2, 5, 4\), values.shape=\(2, 4, 6\)"),
    (lambda q, k, v: attn_lib.AdditiveAttention(4)(q[0], k, v),
     ValueError, r"`queries` must have rank 3.*queries.shape=\(3, 4\)"),
    (lambda q, k, v: attn_lib.DotProductAttention()(q, k, v, valid_lens=np.array([1, 2, 3])),
     ValueError, r"valid_lens.*\(2,\) or \(2, 3\).*valid_lens.shape=\(3,\)"),
    (lambda q, k, v: attn_lib.DotProductAttention()(q, k, v, valid_lens=np.array([1, -2])),
     ValueError, r"non-negative"),
    (lambda q, k, v: attn_lib.GeneralAttention()(q, k, v, valid_lens=np.array([1.0, 2.0])),
     TypeError, r"valid_lens.*integers"),
    (lambda q, k, v: attn_lib.DotProductAttention()(q, k, v, mask=np.ones((2, 3, 4), bool)),
     ValueError, r"`mask` must have rank 3.*\(2, 3, 5\).*mask.shape=\(2, 3, 4\)"),
    (lambda q, k, v: attn_lib.DotProductAttention()(q, k, v, mask=np.ones((2, 3, 5))),
     TypeError, r"`mask` must be boolean.*float64"),
    (lambda q, k, v: attn_lib.DotProductAttention()(q.astype(int), k, v),
     TypeError, r"`queries` must be a floating-point"),
    (lambda q, k, v: attn_lib.DotProductAttention()(q[:1], k, v),
     ValueError, r"same batch size"),
    # defect 6: unclear errors
    (lambda q, k, v: attn_lib.DotProductAttention()(q, k, v, mask=[None, np.ones((2, 5), bool)]),
     TypeError, r"`mask` must be one boolean tensor.*not a list.*valid_lens"),
    (lambda q, k, v: attn_lib.DotProductAttention()(q, k, v, mask=np.array(True)),
     ValueError, r"`mask` must have rank 3.*mask.shape=\(\)"),
    # defect 7: flags are booleans
    (lambda q, k, v: attn_lib.DotProductAttention()(q, k, v, training="no"),
     TypeError, r"`training` must be True, False or None.*'no'"),
    (lambda q, k, v: attn_lib.DotProductAttention()(q, k, v, return_attention_scores=1),
     TypeError, r"`return_attention_scores` must be True or False"),
])
def test_bad_input_is_named_in_the_error(rng, call, error, message):
    q, k, v = random_qkv(rng)
    with pytest.raises(error, match=message):
        call(q, k, v)


def test_defect6_unknown_rank_inputs_are_named():
    layer = attn_lib.DotProductAttention()

    @tf.function(input_signature=[tf.TensorSpec(None, tf.float32)])
    def run(x):
        return layer(x, x, x)

    with pytest.raises(ValueError, match=r"`queries` must have rank 3.*unknown rank"):
        run(tf.ones((1, 2, 3)))


def test_defect6_a_built_layer_called_with_another_feature_size_is_named(rng):
    q, k, v = random_qkv(rng, dq=3, dk=5)
    layer = attn_lib.GeneralAttention(name="general")
    layer(q, k, v)
    with pytest.raises(ValueError, match=r"'general' was built for.*'queries': 3.*'queries': 4"):
        layer(np.ones((2, 3, 4), "float32"), k, v)


@pytest.mark.parametrize("make, error, message", [
    (lambda: attn_lib.DotProductAttention(dropout=1.5), ValueError, r"dropout.*\[0, 1\).*1.5"),
    (lambda: attn_lib.DotProductAttention(scaled="no"), TypeError,
     r"`scaled` must be True or False.*'no'"),
    (lambda: attn_lib.AdditiveAttention(units=0), ValueError, r"units.*> 0"),
    (lambda: attn_lib.AdditiveAttention(units=2.5), TypeError, r"units.*integer"),
    (lambda: attn_lib.NadarayaWatson(initial_width=-1.0), ValueError, r"initial_width.*> 0"),
    (lambda: attn_lib.AttentionPooling(units="4"), TypeError, r"units.*integer"),
])
def test_bad_constructor_arguments_are_named(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_layers_work_inside_a_traced_function_with_unknown_sizes(rng):
    q, _, _ = random_qkv(rng)
    layer = attn_lib.DotProductAttention()

    @tf.function(input_signature=[tf.TensorSpec((None, None, 4)), tf.TensorSpec((None,), tf.int32)])
    def run(queries, lens):
        return layer(queries, queries, queries, valid_lens=lens)

    out = run(tf.constant(q), tf.constant([1, 3])).numpy()
    expected, _ = reference.dot_product_attention(q, q, q, valid_lens=np.array([1, 3]))
    np.testing.assert_allclose(out, expected, atol=1e-5)
