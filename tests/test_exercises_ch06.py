"""Chapter 6's exercise checks (`attn_lib/exercises/ch06.py`): right answers in several forms
pass; the classic mistakes fail with the hint that names them, without giving the answer away.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf
from exercise_tables import table_tests

import attn_lib
from attn_lib.multihead import MultiHeadAttention

# ---------------------------------------------------------------------------------------------
# 6.1: parameters of MultiHeadAttention(num_heads=8, key_dim=32) on d_model = 512

d_model, h, key_dim = 512, 8, 32
x512 = np.zeros((1, 1, d_model), "float32")


def count_params(layer):
    layer(x512, x512, x512)  # builds the weights
    return layer.count_params()


projection = d_model * h * key_dim + h * key_dim  # one of W_q, W_k, W_v with its bias
output = h * key_dim * d_model + d_model  # W_o with its bias
by_hand = 3 * projection + output

# ---------------------------------------------------------------------------------------------
# 6.2: split heads, (B, T, h*d) -> (B, h, T, d)


def split_heads_numpy(x, num_heads):
    """The worked solution."""
    batch, length, features = x.shape
    x = x.reshape(batch, length, num_heads, features // num_heads)  # (B, T, h, d)
    return x.transpose(0, 2, 1, 3)  # (B, h, T, d)


def split_heads_tf(x, num_heads):
    x = tf.reshape(x, (x.shape[0], x.shape[1], num_heads, -1))
    return tf.transpose(x, (0, 2, 1, 3))


def split_heads_by_slicing(x, num_heads):
    size = x.shape[-1] // num_heads
    return np.stack([x[..., i * size:(i + 1) * size] for i in range(num_heads)], axis=1)


def reshape(x, num_heads, order):
    """`x` (B, T, h*d) reshaped to the sizes named by `order` ("BhTd", "BThd", "BTdh")."""
    batch, length, features = x.shape
    sizes = {"B": batch, "T": length, "h": num_heads, "d": features // num_heads}
    return x.reshape([sizes[axis] for axis in order])


# ---------------------------------------------------------------------------------------------
# 6.3: the rotation M_k with P[t + k] = P[t] M_k


def frequencies(d_model, exponents=None):
    exponents = np.arange(0, d_model, 2) if exponents is None else exponents
    return 1.0 / 10000 ** (exponents / d_model)


def shift_matrix(d_model, k, omega=None, halves=False, signs=(-1, 1)):
    """The worked solution: a 2x2 rotation by the angle w*k per (sin, cos) pair; the
    keywords reproduce the usual mistakes."""
    omega = frequencies(d_model) if omega is None else omega
    M = np.zeros((d_model, d_model))
    for i, w in enumerate(omega):
        c, s = np.cos(w * k), np.sin(w * k)
        a, b = (i, i + d_model // 2) if halves else (2 * i, 2 * i + 1)
        M[a, a], M[a, b], M[b, a], M[b, b] = c, signs[0] * s, signs[1] * s, c
    return M


def shift_matrix_vectorised(d_model, k):
    c, s = np.cos(frequencies(d_model) * k), np.sin(frequencies(d_model) * k)
    even = np.arange(0, d_model, 2)
    M = np.zeros((d_model, d_model))
    M[even, even], M[even, even + 1], M[even + 1, even], M[even + 1, even + 1] = c, -s, s, c
    return M


def shift_matrix_tf(d_model, k):
    angles = tf.constant(frequencies(d_model) * k)
    blocks = tf.stack([tf.stack([tf.cos(angles), -tf.sin(angles)], -1),
                       tf.stack([tf.sin(angles), tf.cos(angles)], -1)], -2)  # (d/2, 2, 2)
    return tf.linalg.LinearOperatorBlockDiag(
        [tf.linalg.LinearOperatorFullMatrix(b) for b in tf.unstack(blocks)]).to_dense()


def shift_matrix_by_powers(d_model, k):
    """M_1 (one step) raised to the power k; a negative power inverts it."""
    return np.linalg.matrix_power(shift_matrix(d_model, 1), k)


EXPECTED = {"6.1": by_hand, "6.2": None, "6.3": None}

RIGHT = [
    pytest.param("6.1", count_params(MultiHeadAttention(num_heads=h, key_dim=key_dim)),
                 id="6.1-count_params"),
    pytest.param("6.1", count_params(keras.layers.MultiHeadAttention(num_heads=h,
                                                                      key_dim=key_dim)),
                 id="6.1-keras-layer-count_params"),
    pytest.param("6.1", np.int64(4 * 512 * 256 + 3 * 256 + 512), id="6.1-by-hand-numpy-int64"),
    pytest.param("6.1", float(by_hand), id="6.1-integral-float"),
    pytest.param("6.2", split_heads_numpy, id="6.2-numpy-reshape-transpose"),
    pytest.param("6.2", split_heads_tf, id="6.2-tf-reshape-transpose"),
    pytest.param("6.2", lambda x, n: reshape(x, n, "BThd").swapaxes(1, 2), id="6.2-swapaxes"),
    pytest.param("6.2", split_heads_by_slicing, id="6.2-stacked-slices"),
    pytest.param("6.3", shift_matrix, id="6.3-loop"),
    pytest.param("6.3", shift_matrix_vectorised, id="6.3-vectorised"),
    pytest.param("6.3", shift_matrix_tf, id="6.3-tf-block-diagonal"),
    pytest.param("6.3", shift_matrix_by_powers, id="6.3-power-of-one-step"),
]

MISTAKES = [
    # 6.1
    pytest.param("6.1", 4 * (d_model * d_model + d_model), "key_dim_from_heads",
                 id="6.1-key_dim-as-d_model-over-h"),
    pytest.param("6.1", 4 * d_model * h * key_dim, "no_biases", id="6.1-no-biases"),
    pytest.param("6.1", 3 * projection + h * key_dim * d_model, "output_bias",
                 id="6.1-no-output-bias"),
    pytest.param("6.1", 4 * projection, "output_bias", id="6.1-output-bias-of-size-h*key_dim"),
    pytest.param("6.1", 3 * projection, "no_output_projection", id="6.1-forgot-W_o"),
    pytest.param("6.1", projection + output, "one_projection", id="6.1-one-projection"),
    pytest.param("6.1", count_params(MultiHeadAttention(num_heads=1, key_dim=key_dim)),
                 "per_head", id="6.1-one-head"),
    pytest.param("6.1", round(by_hand / 1e6, 2), "millions", id="6.1-in-millions"),
    # 6.2
    pytest.param("6.2", lambda x, n: reshape(x, n, "BhTd"), "bare_reshape",
                 id="6.2-split_heads_buggy"),
    pytest.param("6.2", lambda x, n: tf.reshape(x, (x.shape[0], n, x.shape[1], -1)),
                 "bare_reshape", id="6.2-tf-bare-reshape"),
    pytest.param("6.2", lambda x, n: reshape(x, n, "BThd"), "no_transpose",
                 id="6.2-no-transpose"),
    pytest.param("6.2", lambda x, n: reshape(x, n, "BTdh").transpose(0, 3, 1, 2), "d_h_split",
                 id="6.2-split-into-(d,h)"),
    pytest.param("6.2", lambda x, n: x.transpose(0, 2, 1).reshape(reshape(x, n, "BhTd").shape),
                 "transpose_first", id="6.2-transpose-first"),
    pytest.param("6.2", lambda x, n: reshape(x, n, "BThd").transpose(0, 2, 3, 1), "axis_order",
                 id="6.2-(B,h,d,T)"),
    pytest.param("6.2", lambda x, n: np.stack(np.split(x, n, axis=-1)), "axis_order",
                 id="6.2-np.split-stacked-in-front"),
    pytest.param("6.2", lambda x, n: attn_lib.multihead.split_heads(x, n), "library",
                 id="6.2-calls-attn_lib-split_heads"),
    # 6.3
    pytest.param("6.3", lambda d, k: shift_matrix(d, -k), "inverse", id="6.3-inverse-rotation"),
    pytest.param("6.3", lambda d, k: shift_matrix(d, k).T, "inverse",
                 id="6.3-rotation-for-column-vectors"),
    pytest.param("6.3", lambda d, k: shift_matrix(d, abs(k)), "negative_k",
                 id="6.3-positive-k-only"),
    pytest.param("6.3", lambda d, k: np.stack([shift_matrix(d, k)[i:i + 2, i:i + 2]
                                               for i in range(0, d, 2)]),
                 "blocks", id="6.3-the-blocks-not-the-matrix"),
    pytest.param("6.3", lambda d, k: shift_matrix(d, k, frequencies(d, np.arange(d // 2))),
                 "frequencies", id="6.3-exponent-i-not-2i"),
    pytest.param("6.3", lambda d, k: shift_matrix(d, 1), "ignores_k", id="6.3-one-step-only"),
    pytest.param("6.3", lambda d, k: shift_matrix(d, k, halves=True), "halves",
                 id="6.3-sines-first-cosines-after"),
    pytest.param("6.3", lambda d, k: shift_matrix(d, k, signs=(1, 1)), "not_rotation",
                 id="6.3-no-minus-sign"),
    # what the function returns, passed instead of the function
    pytest.param("6.2", np.zeros((2, 4, 3, 5)), "not_function", id="6.2-heads-not-the-function"),
    pytest.param("6.3", np.eye(16), "not_function", id="6.3-matrix-not-the-function"),
]


(test_right_answer_is_accepted, test_known_mistake_is_rejected_without_giving_the_answer_away,
 test_most_of_the_bank_gets_its_own_hint, test_no_hint_gives_the_answer_away,
 test_tables_cover_every_exercise_of_the_chapter) = table_tests(
    "attn_lib.exercises.ch06", RIGHT, MISTAKES, EXPECTED)
