"""Chapters 5 and 6: each self-check accepts a right answer and rejects a wrong one."""

import math

import numpy as np

from attn_lib import reference
from attn_lib.exercises import is_correct


def causal_softmax(scores):
    T = scores.shape[-1]
    return reference.masked_softmax(scores, mask=np.broadcast_to(reference.causal_mask(T, T),
                                                                 scores.shape))


def test_5_1_accepts_the_seed_score_spread_and_rejects_the_correct_layers():
    assert is_correct("5.1", math.sqrt(16) / 8)
    assert is_correct("5.1", 0.51)  # a simulated estimate
    assert not is_correct("5.1", 1.0)
    assert not is_correct("5.1", 2.0)


def test_5_2_accepts_a_causal_softmax_and_rejects_a_plain_softmax():
    assert is_correct("5.2", causal_softmax)
    assert not is_correct("5.2", reference.softmax)
    assert not is_correct("5.2", lambda s: causal_softmax(np.swapaxes(s, -1, -2)))


def test_5_3_accepts_the_largest_length_that_fits_and_rejects_its_neighbour():
    largest = math.isqrt(2**30 // (16 * 12 * 4))
    assert 16 * 12 * 4 * largest**2 <= 2**30 < 16 * 12 * 4 * (largest + 1) ** 2
    assert is_correct("5.3", largest)
    assert not is_correct("5.3", largest + 1)
    assert not is_correct("5.3", largest + 0.5)


def test_5_4_accepts_key_padding_and_rejects_query_padding():
    def fixed(x, valid_len):
        return reference.dot_product_attention(x[None], x[None], x[None],
                                               valid_lens=np.array([valid_len]))[0][0]

    def masks_queries(x, valid_len):
        scores = x @ x.T / np.sqrt(x.shape[-1])
        scores[valid_len:, :] = -1e9
        return reference.softmax(scores) @ x

    assert is_correct("5.4", fixed)
    assert not is_correct("5.4", masks_queries)


def test_6_1_accepts_the_parameter_count_of_a_layer_with_narrow_heads():
    import attn_lib

    layer = attn_lib.MultiHeadAttention(num_heads=8, key_dim=32)
    x = np.zeros((1, 1, 512), np.float32)
    layer(x, x, x)
    assert is_correct("6.1", layer.count_params())
    assert not is_correct("6.1", 4 * (512 * 512 + 512))  # as if key_dim were 64


def test_6_2_accepts_reshape_then_transpose_and_rejects_a_bare_reshape():
    def split(x, h):
        b, t, hd = x.shape
        return x.reshape(b, t, h, hd // h).transpose(0, 2, 1, 3)

    def bare_reshape(x, h):
        b, t, hd = x.shape
        return x.reshape(b, h, t, hd // h)

    assert is_correct("6.2", split)
    assert not is_correct("6.2", bare_reshape)


def test_6_3_accepts_the_rotation_and_rejects_its_inverse_and_the_identity():
    def shift(d_model, k):
        M = np.zeros((d_model, d_model))
        for i, w in enumerate(1.0 / 10000 ** (np.arange(0, d_model, 2) / d_model)):
            c, s = np.cos(w * k), np.sin(w * k)
            M[2 * i:2 * i + 2, 2 * i:2 * i + 2] = [[c, -s], [s, c]]
        return M

    assert is_correct("6.3", shift)
    assert not is_correct("6.3", lambda d_model, k: shift(d_model, -k))
    assert not is_correct("6.3", lambda d_model, k: np.eye(d_model))
