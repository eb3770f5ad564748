"""Chapter 5's exercise checks (`attn_lib/exercises/ch05.py`): right answers in several forms
pass; the typical mistakes fail with a diagnosis that does not give the answer away.
"""

import math

import numpy as np
import pytest
import tensorflow as tf
from exercise_tables import table_tests

from attn_lib import reference
from attn_lib.diagnostics import attention_weights_bytes

# 5.1: the spread of the blog layer's scores, d_k = 16 divided by √64
d_k, divisor = 16, math.sqrt(64)
q, k = np.random.default_rng(51).normal(size=(2, 100_000, d_k))
simulated_spread = float(((q * k).sum(axis=1) / divisor).std())  # the worked solution
spread = math.sqrt(d_k) / divisor


# 5.2: a causal softmax for scores (..., T, T)
def causal_softmax(scores, fill=-np.inf):
    T = scores.shape[-1]
    allowed = np.tril(np.ones((T, T), dtype=bool))  # j <= i
    shifted = np.where(allowed, scores, fill)
    e = np.exp(shifted - shifted.max(axis=-1, keepdims=True))  # exp(-inf) = 0
    return e / e.sum(axis=-1, keepdims=True)


def tf_causal_softmax(scores):
    allowed = tf.linalg.band_part(tf.ones_like(scores, dtype=tf.bool), -1, 0)  # lower triangle
    return tf.nn.softmax(tf.where(allowed, scores, -np.inf))


def masked_with(allowed):
    """A causal softmax with another `allowed(T)` pattern: the usual off-by-ones."""
    return lambda scores: reference.masked_softmax(
        scores, mask=np.broadcast_to(allowed(scores.shape[-1]), scores.shape))


# 5.3: the longest T whose weights (B, h, T, T) float32 fit in 1 GiB, B = 16, h = 12
budget, batch, heads = 2**30, 16, 12
T_max = 1
while attention_weights_bytes(T_max + 1, batch_size=batch, num_heads=heads) <= budget:
    T_max += 1  # the worked solution


# 5.4: self-attention of one padded sequence x (T, d), W_q = W_k = W_v = I
def padded_self_attention(x, valid_len, scale=True, fill=-np.inf):
    scores = x @ x.T / (np.sqrt(x.shape[-1]) if scale else 1.0)  # (T, T): rows are queries
    scores[:, valid_len:] = fill  # the padded *keys*, i.e. columns
    return reference.softmax(scores) @ x


def padded_self_attention_buggy(x, valid_len):
    scores = x @ x.T / np.sqrt(x.shape[-1])
    scores[valid_len:, :] = -1e9  # the chapter's bug: the padded *queries*
    return reference.softmax(scores) @ x


def tf_padded_self_attention(x, valid_len):
    keys_kept = tf.sequence_mask([valid_len], x.shape[0])  # (1, T)
    scores = tf.matmul(x, x, transpose_b=True) / np.sqrt(x.shape[-1])
    return tf.nn.softmax(tf.where(keys_kept, scores, -np.inf)) @ x


def zeroed_after_softmax(x, valid_len):
    weights = reference.softmax(x @ x.T / np.sqrt(x.shape[-1]))
    weights[:, valid_len:] = 0  # not renormalised
    return weights @ x


EXPECTED = {"5.1": spread, "5.2": None, "5.3": T_max, "5.4": None}

RIGHT = [
    pytest.param("5.1", spread, id="5.1-derived"),
    pytest.param("5.1", simulated_spread, id="5.1-simulated"),
    pytest.param("5.1", np.float32(spread), id="5.1-float32"),
    pytest.param("5.1", tf.math.reduce_std(tf.reduce_sum(q * k, axis=1) / divisor),
                 id="5.1-tf-simulated"),
    pytest.param("5.2", causal_softmax, id="5.2-numpy-minus-inf"),
    pytest.param("5.2", lambda s: causal_softmax(s, fill=-1e9), id="5.2-numpy-minus-1e9"),
    pytest.param("5.2", tf_causal_softmax, id="5.2-tf"),
    pytest.param("5.2", masked_with(lambda T: reference.causal_mask(T, T)),
                 id="5.2-reference-masked_softmax"),
    pytest.param("5.3", T_max, id="5.3-int-by-search"),
    pytest.param("5.3", math.isqrt(budget // (batch * heads * 4)), id="5.3-isqrt"),
    pytest.param("5.3", np.int64(T_max), id="5.3-numpy-int64"),
    pytest.param("5.3", float(T_max), id="5.3-integral-float"),
    pytest.param("5.4", padded_self_attention, id="5.4-numpy-minus-inf-columns"),
    pytest.param("5.4", lambda x, n: reference.dot_product_attention(
        x[None], x[None], x[None], valid_lens=np.array([n]))[0][0], id="5.4-reference"),
    pytest.param("5.4", tf_padded_self_attention, id="5.4-tf"),
    pytest.param("5.4", lambda x, n: np.where(np.arange(len(x))[:, None] < n,
                                              padded_self_attention(x, n), 0.0),
                 id="5.4-padded-rows-zeroed-too"),
]

WRONG = [
    # generic (5.1): every mistake gets the one hint about the variance of a dot product
    pytest.param("5.1", 1.0, "has variance d", id="5.1-the-correct-layers-spread"),
    pytest.param("5.1", spread**2, "has variance d", id="5.1-variance-not-spread"),
    pytest.param("5.1", 1 / spread, "has variance d", id="5.1-ratio-upside-down"),
    pytest.param("5.1", math.sqrt(d_k), "has variance d", id="5.1-not-divided"),
    pytest.param("5.1", 1 / divisor, "has variance d", id="5.1-forgot-sqrt-dk"),
    # 5.2
    pytest.param("5.2", reference.softmax, "Query i may look at keys j <= i",
                 id="5.2-plain-softmax"),
    pytest.param("5.2", masked_with(lambda T: reference.causal_mask(T, T).T), "keys j <= i",
                 id="5.2-upper-triangle"),
    pytest.param("5.2", masked_with(lambda T: np.tri(T, k=-1, dtype=bool)), "keys j <= i",
                 id="5.2-strictly-before"),
    pytest.param("5.2", lambda s: reference.softmax(s) * np.tril(np.ones(s.shape[-2:])),
                 "renormalise each row", id="5.2-zeroed-after-softmax"),
    pytest.param("5.2", lambda s: reference.softmax(s * np.tril(np.ones(s.shape[-2:]))),
                 "weight exactly 0", id="5.2-scores-multiplied-by-mask"),
    pytest.param("5.2", lambda s: causal_softmax(np.swapaxes(s, -1, -2)), "keys j <= i",
                 id="5.2-scores-transposed"),
    pytest.param("5.2", lambda s: causal_softmax(s)[..., -1, :], "expected weights of the "
                 "scores' shape (1, 1); got (1,)", id="5.2-last-query-only"),
    # 5.3
    pytest.param("5.3", T_max + 1, "Round down.", id="5.3-rounded-up"),
    pytest.param("5.3", math.sqrt(budget / (batch * heads * 4)), "Round down.",
                 id="5.3-not-rounded"),
    pytest.param("5.3", math.isqrt(budget // (batch * 4)), "B * h * T * T",
                 id="5.3-forgot-heads"),
    pytest.param("5.3", math.isqrt(budget // (batch * heads)), "float32 numbers of 4 bytes",
                 id="5.3-forgot-4-bytes"),
    pytest.param("5.3", math.isqrt(10**9 // (batch * heads * 4)), "1 GiB is 2**30 bytes",
                 id="5.3-GB-not-GiB"),
    pytest.param("5.3", budget // (batch * heads * 4), "T * T", id="5.3-forgot-the-square"),
    # 5.4
    pytest.param("5.4", padded_self_attention_buggy,
                 "Padding is a property of the *keys* (the columns of the scores)",
                 id="5.4-buggy-padded-queries"),
    pytest.param("5.4", lambda x, n: padded_self_attention(x, n, fill=0.0),
                 "must give the padded keys weight 0", id="5.4-padded-scores-set-to-0"),
    pytest.param("5.4", lambda x, n: padded_self_attention(x, n + 1),
                 "must give the padded keys weight 0", id="5.4-off-by-one"),
    pytest.param("5.4", zeroed_after_softmax, "must give the padded keys weight 0",
                 id="5.4-zeroed-after-softmax"),
    pytest.param("5.4", lambda x, n: padded_self_attention(x, n)[:n],
                 "expected an output of the shape of x, (T, d) = (6, 8), padded rows included",
                 id="5.4-real-rows-only"),
    # generic: the hint is about the mask, not the forgotten scale
    pytest.param("5.4", lambda x, n: padded_self_attention(x, n, scale=False),
                 "Padding is a property of the *keys*", id="5.4-not-scaled"),
]


(test_right_answer_is_accepted, test_typical_mistake_gets_its_diagnosis,
 test_tables_cover_every_exercise_of_the_chapter) = table_tests(
    "attn_lib.exercises.ch05", RIGHT, WRONG, EXPECTED)
