"""Chapter 6's exercise checks (`attn_lib/exercises/ch06.py`): right answers in several forms
pass; the typical mistakes fail with a diagnosis that does not give the answer away.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf
from exercise_tables import table_tests

from attn_lib.multihead import MultiHeadAttention, split_heads

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
    batch, length, features = x.shape
    x = x.reshape(batch, length, num_heads, features // num_heads)  # (B, T, h, d)
    return x.transpose(0, 2, 1, 3)  # (B, h, T, d)


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


def shift_matrix(d_model, k, omega=None):
    """The worked solution: a 2x2 rotation by the angle w*k per (sin, cos) pair."""
    omega = frequencies(d_model) if omega is None else omega
    M = np.zeros((d_model, d_model))
    for i, w in enumerate(omega):
        c, s = np.cos(w * k), np.sin(w * k)
        M[2 * i:2 * i + 2, 2 * i:2 * i + 2] = [[c, -s], [s, c]]
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


EXPECTED = {"6.1": by_hand, "6.2": None, "6.3": None}

RIGHT = [
    pytest.param("6.1", count_params(MultiHeadAttention(num_heads=h, key_dim=key_dim)),
                 id="6.1-count_params"),
    pytest.param("6.1", count_params(keras.layers.MultiHeadAttention(num_heads=h,
                                                                      key_dim=key_dim)),
                 id="6.1-keras-layer-count_params"),
    pytest.param("6.1", np.int64(by_hand), id="6.1-numpy-int64"),
    pytest.param("6.1", float(by_hand), id="6.1-integral-float"),
    pytest.param("6.2", split_heads_numpy, id="6.2-numpy-reshape-transpose"),
    pytest.param("6.2", split_heads, id="6.2-attn_lib-split_heads-tf"),
    pytest.param("6.2", lambda x, n: reshape(x, n, "BThd").swapaxes(1, 2), id="6.2-swapaxes"),
    pytest.param("6.2", split_heads_by_slicing, id="6.2-stacked-slices"),
    pytest.param("6.3", shift_matrix, id="6.3-loop"),
    pytest.param("6.3", shift_matrix_vectorised, id="6.3-vectorised"),
    pytest.param("6.3", shift_matrix_tf, id="6.3-tf-block-diagonal"),
    pytest.param("6.3", lambda d, k: shift_matrix(d, -k).T if k < 0 else shift_matrix(d, k),
                 id="6.3-negative-k-as-transpose"),
]

WRONG = [
    # 6.1
    pytest.param("6.1", 4 * (d_model * d_model + d_model), "key_dim is not d_model / h here",
                 id="6.1-key_dim-as-d_model-over-h"),
    pytest.param("6.1", 3 * d_model * h * key_dim + h * key_dim * d_model,
                 "and the four bias vectors", id="6.1-no-biases"),
    pytest.param("6.1", 3 * projection + h * key_dim * d_model, "and the four bias vectors",
                 id="6.1-no-output-bias"),
    pytest.param("6.1", 3 * projection, "W_o (h*key_dim x d_model)", id="6.1-forgot-W_o"),
    pytest.param("6.1", projection + output, "Count W_q, W_k, W_v", id="6.1-one-projection"),
    # generic: per head, or in millions
    pytest.param("6.1", by_hand // h, "Count W_q, W_k, W_v", id="6.1-per-head"),
    pytest.param("6.1", round(by_hand / 1e6, 2), "Count W_q, W_k, W_v", id="6.1-in-millions"),
    # 6.2
    pytest.param("6.2", lambda x, n: reshape(x, n, "BhTd"),
                 "A reshape only regroups numbers in memory order", id="6.2-bare-reshape-buggy"),
    pytest.param("6.2", lambda x, n: reshape(x, n, "BThd"),
                 "then move the head axis in front of the positions", id="6.2-no-transpose"),
    pytest.param("6.2", lambda x, n: reshape(x, n, "BTdh").transpose(0, 3, 1, 2),
                 "first split the last axis into (h, d)", id="6.2-split-into-(d,h)"),
    pytest.param("6.2", lambda x, n: x.transpose(0, 2, 1).reshape(reshape(x, n, "BhTd").shape),
                 "A reshape only regroups numbers in memory order", id="6.2-transpose-first"),
    # 6.3
    pytest.param("6.3", lambda d, k: shift_matrix(d, -k), "turns it by the angle w*k",
                 id="6.3-inverse-rotation"),
    pytest.param("6.3", lambda d, k: shift_matrix(d, k).T, "turns it by the angle w*k",
                 id="6.3-rotation-for-column-vectors"),
    pytest.param("6.3", lambda d, k: np.eye(d), "Write that 2x2 rotation per pair",
                 id="6.3-identity"),
    pytest.param("6.3", lambda d, k: shift_matrix(d, abs(k)), "turns it by the angle w*k",
                 id="6.3-positive-k-only"),
    pytest.param("6.3", lambda d, k: np.stack([shift_matrix(d, k)[i:i + 2, i:i + 2]
                                               for i in range(0, d, 2)]),
                 "expected a (d_model, d_model) matrix, (16, 16); got (8, 2, 2)",
                 id="6.3-the-blocks-not-the-matrix"),
    # generic: the hint does not point at the frequencies
    pytest.param("6.3", lambda d, k: shift_matrix(d, k, frequencies(d, np.arange(d // 2))),
                 "frequency w", id="6.3-wrong-frequencies"),
]


(test_right_answer_is_accepted, test_typical_mistake_gets_its_diagnosis,
 test_tables_cover_every_exercise_of_the_chapter) = table_tests(
    "attn_lib.exercises.ch06", RIGHT, WRONG, EXPECTED)
