"""attn_lib.positions: RoPE's relative property and pairings, ALiBi, learned and no positions."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given
from hypothesis import strategies as st
from layer_contract import check_layer_contract

import attn_lib
from attn_lib import positions, reference
from attn_lib.masking import masked_softmax
from attn_lib.positions import (
    NoPositionalEncoding,
    PositionEmbedding,
    alibi_bias,
    alibi_slopes,
    rope,
    rope_frequencies,
)


def unit_vectors(rng, n, d):
    """`n` random directions in `d` dimensions, float32 ``(n, d)``: their scores are in [-1, 1]."""
    v = rng.normal(size=(n, d))
    return (v / np.linalg.norm(v, axis=-1, keepdims=True)).astype(np.float32)


def scores(rotate, q, k, m, n):
    """``rotate(q, m) · rotate(k, n)`` row by row, ``(N,)``."""
    return tf.reduce_sum(rotate(q, m) * rotate(k, n), axis=-1).numpy()


def mixed_rope(x, pos, rotate_as, angles_as):
    """The bug: rotate pairs as `rotate_as` with angles laid out for `angles_as`."""
    angles = tf.cast(pos[:, None], tf.float64) * rope_frequencies(x.shape[-1])  # (N, d/2)
    angles = positions._layout_angles(angles, angles_as)  # (N, d)
    return (x * tf.cast(tf.cos(angles), x.dtype)
            + positions._rotate_pairs(x, rotate_as) * tf.cast(tf.sin(angles), x.dtype))


def interleaved_to_half(d):
    """The permutation of the features that turns one pairing into the other:
    features ``2i`` go first, then ``2i + 1`` (pair ``(2i, 2i+1)`` -> ``(i, i + d/2)``)."""
    return np.concatenate([np.arange(0, d, 2), np.arange(1, d, 2)])


# --- RoPE: the oracle, the relative property, the pairings ---------------------------------------

@given(seed=st.integers(0, 2**16), d=st.sampled_from([2, 4, 6, 8, 16, 64]),
       length=st.integers(1, 9), pairing=st.sampled_from(positions.PAIRINGS),
       base=st.sampled_from([10.0, 500.0, 10000.0]), per_batch=st.booleans())
def test_rope_equals_the_numpy_oracle(seed, d, length, pairing, base, per_batch):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(2, 3, length, d)).astype(np.float32)  # (B, h, T, d)
    pos = rng.integers(-100, 5000, size=(2, 1, length)) if per_batch else None
    np.testing.assert_allclose(rope(x, pos, base=base, pairing=pairing).numpy(),
                               reference.rope(x, pos, base=base, pairing=pairing), atol=1e-5)


@given(seed=st.integers(0, 2**16), d=st.sampled_from([2, 4, 8, 16, 32, 64, 128]),
       pairing=st.sampled_from(positions.PAIRINGS))
def test_rope_score_depends_only_on_the_distance(seed, d, pairing):
    """``rope(q, m) · rope(k, n)`` is the same for ``(m + s, n + s)``, and equals
    ``q · rope(k, n - m)`` in float64, to 1e-5 in float32 for unit vectors."""
    rng = np.random.default_rng(seed)
    q, k = unit_vectors(rng, 64, d), unit_vectors(rng, 64, d)
    m, n, shift = (rng.integers(0, 4096, 64) for _ in range(3))

    def rotate(x, p):
        return rope(x, p, pairing=pairing)

    here = scores(rotate, q, k, m, n)
    np.testing.assert_allclose(scores(rotate, q, k, m + shift, n + shift), here, atol=1e-5)
    relative = np.sum(q * reference.rope(k[:, None], (n - m)[:, None], pairing=pairing)[:, 0],
                      axis=-1)  # q · R(n - m) k
    np.testing.assert_allclose(here, relative, atol=1e-5)


@pytest.mark.parametrize("d", [4, 8, 16, 64])
def test_the_two_pairings_are_equal_up_to_a_fixed_permutation_of_the_features(rng, d):
    x = rng.normal(size=(2, 7, d)).astype(np.float32)
    perm = interleaved_to_half(d)
    half = rope(x[..., perm], pairing="half").numpy()
    interleaved = rope(x, pairing="interleaved").numpy()
    np.testing.assert_allclose(half, interleaved[..., perm], atol=1e-6)
    assert np.abs(rope(x, pairing="half").numpy() - interleaved).max() > 0.1  # not equal as is


def test_with_two_features_the_pairings_are_the_same(rng):
    x = rng.normal(size=(5, 2)).astype(np.float32)
    np.testing.assert_array_equal(rope(x, pairing="half"), rope(x, pairing="interleaved"))


@pytest.mark.parametrize("d", [4, 16, 128])
@pytest.mark.parametrize("rotate_as, angles_as", [("half", "interleaved"),
                                                  ("interleaved", "half")])
def test_mixing_the_pairings_breaks_the_relative_property(rng, d, rotate_as, angles_as):
    q, k = unit_vectors(rng, 512, d), unit_vectors(rng, 512, d)
    m, n, shift = (rng.integers(0, 4096, 512) for _ in range(3))

    def mixed(x, p):
        return mixed_rope(x, p, rotate_as, angles_as)

    def right(x, p):
        return rope(x, p, pairing=rotate_as)

    broken = np.abs(scores(mixed, q, k, m + shift, n + shift) - scores(mixed, q, k, m, n))
    kept = np.abs(scores(right, q, k, m + shift, n + shift) - scores(right, q, k, m, n))
    assert kept.max() < 1e-5 and broken.max() > 0.1  # measured: 0.29 ... 1.7
    norms = np.linalg.norm(mixed(q, m).numpy(), axis=-1)
    assert np.abs(norms - 1).max() > 0.05  # not even a rotation


@pytest.mark.parametrize("pairing", positions.PAIRINGS)
def test_rope_keeps_the_length_of_every_pair(rng, pairing):
    x = rng.normal(size=(3, 11, 16)).astype(np.float32)
    pos = rng.integers(0, 100000, size=11)
    rotated = rope(x, pos, pairing=pairing).numpy()
    pairs = interleaved_to_half(16) if pairing == "interleaved" else np.arange(16)

    def pair_lengths(y):
        y = y[..., pairs]
        return np.hypot(y[..., :8], y[..., 8:])

    np.testing.assert_allclose(pair_lengths(rotated), pair_lengths(x), rtol=1e-5)


@pytest.mark.parametrize("pairing", positions.PAIRINGS)
def test_position_zero_is_the_identity(rng, pairing):
    x = rng.normal(size=(2, 4, 8)).astype(np.float32)
    np.testing.assert_array_equal(rope(x, np.zeros(4, int), pairing=pairing).numpy(), x)
    np.testing.assert_array_equal(rope(x, pairing=pairing).numpy()[:, 0], x[:, 0])


def test_shifting_every_position_changes_no_attention_weight(rng):
    q, k = (rng.normal(size=(1, 2, 6, 8)).astype(np.float32) for _ in range(2))  # (B, h, T, d)

    def weights(start):
        p = np.arange(start, start + 6)
        s = tf.matmul(rope(q, p), rope(k, p), transpose_b=True) / np.sqrt(8.0)
        return masked_softmax(s, mask=attn_lib.causal_mask(6)[None, None]).numpy()

    np.testing.assert_allclose(weights(1000), weights(0), atol=1e-5)


@pytest.mark.parametrize("pairing", positions.PAIRINGS)
def test_rope_in_a_graph_of_unknown_sizes_and_in_float16(rng, pairing):
    """As on heads after `split_heads`, whose T and d are unknown while tracing."""
    x = rng.normal(size=(2, 3, 5, 8)).astype(np.float32)
    traced = tf.function(lambda t: rope(t, pairing=pairing),
                         input_signature=[tf.TensorSpec((None, 3, None, None), tf.float32)])
    np.testing.assert_allclose(traced(x).numpy(), reference.rope(x, pairing=pairing),
                               atol=1e-5)
    half = rope(x.astype(np.float16), pairing=pairing)
    assert half.dtype == tf.float16
    np.testing.assert_allclose(half.numpy(), reference.rope(x, pairing=pairing), atol=1e-2)


def test_rope_frequencies_run_from_one_to_nearly_one_over_the_base():
    theta = rope_frequencies(8, base=10000)
    np.testing.assert_allclose(theta, [1, 0.1, 0.01, 0.001])


# --- ALiBi ---------------------------------------------------------------------------------------

def test_alibi_slopes_for_8_heads_are_one_half_to_one_256th():
    np.testing.assert_array_equal(alibi_slopes(8).numpy(), 2.0 ** -np.arange(1, 9))


def test_alibi_slopes_for_head_counts_that_are_not_powers_of_two_follow_the_paper():
    # 6 heads: the 4 of 4 heads (2^-2, 2^-4, 2^-6, 2^-8), then 8 heads' 1st and 3rd
    np.testing.assert_array_equal(alibi_slopes(6).numpy(),
                                  2.0 ** -np.array([2, 4, 6, 8, 1, 3]))
    # 12 heads: the 8 of 8 heads, then every other of 16 heads' (2^-0.5, 2^-1.5, ...)
    np.testing.assert_allclose(alibi_slopes(12).numpy(),
                               2.0 ** -np.r_[np.arange(1, 9), [0.5, 1.5, 2.5, 3.5]], rtol=1e-7)
    for h in range(1, 40):
        np.testing.assert_allclose(alibi_slopes(h).numpy(), reference.alibi_slopes(h),
                                   rtol=1e-7)


@given(h=st.integers(1, 12), tq=st.integers(1, 8), tv=st.integers(1, 12),
       offset=st.integers(0, 6))
def test_alibi_bias_equals_the_oracle(h, tq, tv, offset):
    np.testing.assert_allclose(alibi_bias(h, tq, tv, offset).numpy(),
                               reference.alibi_bias(h, tq, tv, offset), rtol=1e-6)


def test_alibi_bias_after_an_offset_is_the_last_rows_of_the_full_bias():
    full = alibi_bias(4, 9).numpy()
    np.testing.assert_array_equal(alibi_bias(4, 2, offset=7).numpy(), full[:, 7:])


def test_alibi_with_a_causal_mask_weighs_keys_by_their_distance():
    # zero scores; head 0 of 8 has slope 1/2: query 2 weighs keys 0, 1, 2 as e^-1 : e^-1/2 : 1
    bias = alibi_bias(8, 3)[None]  # (1, h, Tq, Tv)
    weights = masked_softmax(bias, mask=attn_lib.causal_mask(3)[None, None]).numpy()
    expected = np.exp([-1.0, -0.5, 0.0])
    np.testing.assert_allclose(weights[0, 0, 2], expected / expected.sum(), rtol=1e-6)
    np.testing.assert_allclose(weights[0, :, 0], [[1, 0, 0]] * 8, atol=1e-6)  # query 0: itself
    assert (weights[0, :, 0, 1:] == 0).all()  # the future: exactly 0


# --- learned and no positions ----------------------------------------------------------------

def test_position_embedding_adds_row_t_at_position_t_and_trains_only_the_rows_it_sees(rng):
    layer = PositionEmbedding(max_len=10, d_model=4)
    x = rng.normal(size=(2, 6, 4)).astype(np.float32)
    with tf.GradientTape() as tape:
        out = layer(x)
        loss = tf.reduce_sum(out**2)
    np.testing.assert_allclose(out.numpy(), x + layer.embeddings.numpy()[:6], atol=1e-6)
    grad = tf.convert_to_tensor(tape.gradient(loss, layer.embeddings)).numpy()
    assert (grad[:6] != 0).all() and (grad[6:] == 0).all()  # rows 6 ... 9 never learn here


def test_position_embedding_of_a_chunk_after_start_is_those_rows_of_the_whole(rng):
    layer = PositionEmbedding(max_len=10, d_model=4)
    x = rng.normal(size=(2, 7, 4)).astype(np.float32)
    whole = layer(x).numpy()
    np.testing.assert_allclose(layer(x[:, 4:], start=4).numpy(), whole[:, 4:], atol=1e-6)


def test_layer_contract_position_embedding(rng, tmp_path):
    x = rng.normal(size=(2, 5, 4)).astype(np.float32)
    check_layer_contract(lambda: PositionEmbedding(max_len=9, d_model=4), (x,),
                         tmp_path=tmp_path)
    check_layer_contract(lambda: PositionEmbedding(max_len=9, d_model=4), (x,), {"start": 3})


def test_layer_contract_no_positional_encoding(rng, tmp_path):
    x = rng.normal(size=(2, 5, 4)).astype(np.float32)
    check_layer_contract(NoPositionalEncoding, (x,), tmp_path=tmp_path)


def test_without_positions_attention_cannot_tell_the_order_unless_causal(rng):
    """NoPE: permuting the inputs permutes the outputs; a causal mask breaks that."""
    x = rng.normal(size=(1, 6, 8)).astype(np.float32)
    perm = rng.permutation(6)
    layer = attn_lib.SelfAttention(units=8, num_heads=2)
    x = NoPositionalEncoding()(x).numpy()
    plain, permuted = layer(x).numpy(), layer(x[:, perm]).numpy()
    np.testing.assert_allclose(permuted, plain[:, perm], atol=1e-6)
    causal, causal_permuted = layer(x, causal=True).numpy(), layer(x[:, perm],
                                                                   causal=True).numpy()
    assert np.abs(causal_permuted - causal[:, perm]).max() > 0.1


# --- bad input ---------------------------------------------------------------------------------

@pytest.mark.parametrize("call, error, message", [
    (lambda x: rope(x[0, 0]), ValueError, r"`x` must have at least 2 axes.*x.shape=\(8,\)"),
    (lambda x: rope(x[..., :5]), ValueError, r"must be even.*x.shape=\(2, 3, 5\)"),
    (lambda x: rope(x.astype(int)), TypeError, r"`x` must be a floating-point.*int64"),
    (lambda x: rope(x, np.arange(3.0)), TypeError, r"`positions` must hold integers.*float64"),
    (lambda x: rope(x, np.arange(4)), ValueError,
     r"broadcast against x.shape\[:-1\]=\(2, 3\).*positions.shape=\(4,\)"),
    (lambda x: rope(x, np.zeros((5, 1, 3), int)), ValueError, r"positions.shape=\(5, 1, 3\)"),
    (lambda x: rope(x, base=1), ValueError, r"`base` must be > 1.*base=1"),
    (lambda x: rope(x, base="10000"), TypeError, r"`base` must be a number"),
    (lambda x: rope(x, pairing="neox"), ValueError,
     r'`pairing` must be "half".*"interleaved".*pairing=\'neox\''),
    (lambda x: rope_frequencies(7), ValueError, r"`dim` must be even.*dim=7"),
    (lambda x: alibi_slopes(0), ValueError, r"`num_heads` must be > 0.*num_heads=0"),
    (lambda x: alibi_slopes(2.0), TypeError, r"`num_heads` must be an integer"),
    (lambda x: alibi_bias(2, 3, offset=-1), ValueError, r"`offset` must be >= 0"),
    (lambda x: alibi_bias(2, 3, num_kv=0), ValueError, r"`num_kv` must be > 0"),
    (lambda x: PositionEmbedding(2, 8)(x), ValueError, r"T <= max_len=2.*x.shape=\(2, 3, 8\)"),
    (lambda x: PositionEmbedding(4, 8)(x, start=2), ValueError,
     r"T <= max_len - start=2.*x.shape=\(2, 3, 8\)"),
    (lambda x: PositionEmbedding(9, 8)(x, start=-1), ValueError, r"`start` must be >= 0"),
    (lambda x: PositionEmbedding(9, 4)(x), ValueError, r"d_model=4.*x.shape=\(2, 3, 8\)"),
    (lambda x: PositionEmbedding(0, 4), ValueError, r"`max_len` must be > 0"),
    (lambda x: NoPositionalEncoding()(x[0]), ValueError, r"`x` must have rank 3.*\(3, 8\)"),
])
def test_bad_input_is_named_in_the_error(rng, call, error, message):
    x = rng.normal(size=(2, 3, 8)).astype(np.float32)
    with pytest.raises(error, match=message):
        call(x)


def test_keras_mask_passes_through_both_layers():
    ids = np.array([[3, 1, 0, 0]])
    embedded = keras.layers.Embedding(5, 4, mask_zero=True)(ids)
    for layer in (PositionEmbedding(8, 4), NoPositionalEncoding()):
        np.testing.assert_array_equal(layer(embedded)._keras_mask.numpy(),
                                      [[True, True, False, False]])
