"""Chapter 5's exercise checks (`attn_lib/exercises/ch05.py`): right answers in several forms
pass; the classic mistakes fail with the hint that names them, without giving the answer away.
"""

import math

import numpy as np
import pytest
import tensorflow as tf
from exercise_tables import table_tests

import attn_lib
from attn_lib import reference
from attn_lib.diagnostics import attention_weights_bytes

# ---------------------------------------------------------------------------------------------
# 5.1: the spread of the scores of xiaosongshine's layer, d_k = 16, divided by √64

d_k, divisor = 16, math.sqrt(64)
q, k = np.random.default_rng(51).normal(size=(2, 100_000, d_k))  # (samples, d_k) each
dots = (q * k).sum(axis=1)  # one score per sample
spread = math.sqrt(d_k) / divisor

# ---------------------------------------------------------------------------------------------
# 5.2: a causal softmax for scores (..., T, T)


def causal_softmax(scores, fill=-np.inf):
    """The worked solution."""
    T = scores.shape[-1]
    allowed = np.tril(np.ones((T, T), dtype=bool))  # j <= i
    shifted = np.where(allowed, scores, fill)
    e = np.exp(shifted - shifted.max(axis=-1, keepdims=True))  # exp(-inf) = 0
    return e / e.sum(axis=-1, keepdims=True)


def tf_causal_softmax(scores):
    allowed = tf.linalg.band_part(tf.ones_like(scores, dtype=tf.bool), -1, 0)  # lower triangle
    return tf.nn.softmax(tf.where(allowed, scores, -np.inf))


def causal_softmax_loop(scores):
    """Row by row: query i takes a softmax of its first i + 1 scores."""
    weights = np.zeros_like(scores)
    for i in range(scores.shape[-1]):
        seen = scores[..., i, :i + 1]
        e = np.exp(seen - seen.max(axis=-1, keepdims=True))
        weights[..., i, :i + 1] = e / e.sum(axis=-1, keepdims=True)
    return weights


def softmax_with(scores, allowed, fill=-np.inf, axis=-1):
    """A softmax after filling the scores outside `allowed` with `fill`: the usual slips."""
    shifted = np.where(allowed, scores, fill)
    with np.errstate(invalid="ignore"):  # a row with nothing allowed is 0/0
        e = np.exp(shifted - shifted.max(axis=axis, keepdims=True))
        return e / e.sum(axis=axis, keepdims=True)


def lower(scores):
    return np.tril(np.ones(scores.shape[-2:], dtype=bool))


# ---------------------------------------------------------------------------------------------
# 5.3: the longest T whose weights (B, h, T, T) float32 fit in 1 GiB, B = 16, h = 12

budget, batch, heads = 2**30, 16, 12
T_max = 1
while attention_weights_bytes(T_max + 1, batch_size=batch, num_heads=heads) <= budget:
    T_max += 1  # the worked solution


# ---------------------------------------------------------------------------------------------
# 5.4: self-attention of one padded sequence x (T, d), W_q = W_k = W_v = I


def padded_self_attention(x, valid_len, fill=-np.inf):
    """The worked solution."""
    scores = x @ x.T / np.sqrt(x.shape[-1])  # (T, T): rows = queries, columns = keys
    scores[:, valid_len:] = fill  # mask the padded *keys*, i.e. columns
    return reference.softmax(scores) @ x


def tf_padded_self_attention(x, valid_len):
    keys_kept = tf.sequence_mask([valid_len], x.shape[0])  # (1, T)
    scores = tf.matmul(x, x, transpose_b=True) / np.sqrt(x.shape[-1])
    return tf.nn.softmax(tf.where(keys_kept, scores, -np.inf)) @ x


def rows_and_columns_masked(x, valid_len):
    """Padded keys and padded queries both hidden: the padded rows are NaN, never read."""
    real = np.arange(len(x)) < valid_len
    scores = np.where(real[:, None] & real[None, :], x @ x.T / np.sqrt(x.shape[-1]), -np.inf)
    with np.errstate(invalid="ignore"):
        e = np.exp(scores - scores.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True) @ x


def padded_self_attention_buggy(x, valid_len):
    """The function of the exercise, unchanged."""
    scores = x @ x.T / np.sqrt(x.shape[-1])
    scores[valid_len:, :] = -1e9  # "mask the padding"
    return reference.softmax(scores) @ x


def attention_with(x, valid_len, scale=True, keys=None, zero_after=False):
    """Self-attention with the keys `keys(T, valid_len)` hidden: the usual slips."""
    scores = x @ x.T / (np.sqrt(x.shape[-1]) if scale else 1.0)
    hidden = keys(len(x), valid_len) if keys else np.zeros(len(x), bool)
    if zero_after:
        return (reference.softmax(scores) * ~hidden) @ x
    return reference.softmax(np.where(hidden, -np.inf, scores)) @ x


def zeroed_padding_rows(x, valid_len):
    x = x.copy()
    x[valid_len:] = 0.0  # "remove the padding"
    return reference.softmax(x @ x.T / np.sqrt(x.shape[-1])) @ x


EXPECTED = {"5.1": spread, "5.2": None, "5.3": T_max, "5.4": None}

RIGHT = [
    pytest.param("5.1", spread, id="5.1-derived"),
    pytest.param("5.1", float((dots / divisor).std()), id="5.1-simulated"),
    pytest.param("5.1", np.float32(0.5), id="5.1-by-hand-float32"),
    pytest.param("5.1", tf.math.reduce_std(tf.reduce_sum(q[:2000] * k[:2000], axis=1) / 8),
                 id="5.1-tf-simulated-2000-samples"),
    pytest.param("5.2", causal_softmax, id="5.2-numpy-minus-inf"),
    pytest.param("5.2", lambda s: causal_softmax(s, fill=-1e9), id="5.2-numpy-minus-1e9"),
    pytest.param("5.2", tf_causal_softmax, id="5.2-tf-band_part"),
    pytest.param("5.2", causal_softmax_loop, id="5.2-loop-over-queries"),
    pytest.param("5.3", T_max, id="5.3-int-by-search"),
    pytest.param("5.3", math.isqrt(budget // (batch * heads * 4)), id="5.3-isqrt"),
    pytest.param("5.3", np.int64(np.floor(np.sqrt(budget / (batch * heads * 4)))),
                 id="5.3-numpy-floor-sqrt"),
    pytest.param("5.3", float(int((2**30 / 768) ** 0.5)), id="5.3-integral-float"),
    pytest.param("5.4", padded_self_attention, id="5.4-numpy-minus-inf-columns"),
    pytest.param("5.4", lambda x, n: padded_self_attention(x, n, fill=-1e9),
                 id="5.4-numpy-minus-1e9-columns"),
    pytest.param("5.4", tf_padded_self_attention, id="5.4-tf"),
    pytest.param("5.4", rows_and_columns_masked, id="5.4-rows-and-columns-masked"),
]

MISTAKES = [
    # 5.1
    pytest.param("5.1", float((dots / divisor).var()), "variance", id="5.1-variance"),
    pytest.param("5.1", float((dots / math.sqrt(d_k)).std()), "correct_layer",
                 id="5.1-divided-by-sqrt-d_k"),
    pytest.param("5.1", float(dots.std()), "not_divided", id="5.1-not-divided"),
    pytest.param("5.1", float((dots / 64).std()), "divided_by_64", id="5.1-divided-by-64"),
    pytest.param("5.1", 8 / 4, "ratio", id="5.1-upside-down"),
    pytest.param("5.1", 16 / 8, "ratio", id="5.1-variance-over-divisor"),
    pytest.param("5.1", 1 / 8, "unit_dot_product", id="5.1-dot-product-spread-1"),
    pytest.param("5.1", float(((q * k).sum(axis=0) / divisor).std()), "summed_samples",
                 id="5.1-summed-over-samples"),
    # 5.2
    pytest.param("5.2", reference.softmax, "no_mask", id="5.2-plain-softmax"),
    pytest.param("5.2", lambda s: softmax_with(s, np.triu(np.ones(s.shape[-2:], bool))),
                 "wrong_triangle", id="5.2-np.triu"),
    pytest.param("5.2", lambda s: softmax_with(s, ~lower(s), fill=-1e9), "wrong_triangle",
                 id="5.2-inverted-mask"),
    pytest.param("5.2", lambda s: softmax_with(s, np.tri(s.shape[-1], k=-1, dtype=bool)),
                 "diagonal_masked", id="5.2-strictly-before"),
    pytest.param("5.2", lambda s: reference.softmax(s) * lower(s), "not_renormalised",
                 id="5.2-zeroed-after-softmax"),
    pytest.param("5.2", lambda s: reference.softmax(s * lower(s)), "multiplied",
                 id="5.2-scores-multiplied-by-mask"),
    pytest.param("5.2", lambda s: softmax_with(s, lower(s), fill=-10.0), "small_fill",
                 id="5.2-fill-minus-10"),
    pytest.param("5.2", lambda s: softmax_with(s, lower(s), axis=-2), "wrong_axis",
                 id="5.2-softmax-over-queries"),
    pytest.param("5.2", lambda s: causal_softmax(np.swapaxes(s, -1, -2)), "transposed",
                 id="5.2-scores-transposed"),
    pytest.param("5.2", lambda s: causal_softmax(s)[..., -1, :], "shape",
                 id="5.2-last-query-only"),
    pytest.param("5.2", lambda s: reference.masked_softmax(
        s, mask=np.broadcast_to(reference.causal_mask(s.shape[-1], s.shape[-1]), s.shape)),
        "library", id="5.2-calls-reference.masked_softmax"),
    pytest.param("5.2", lambda s: np.where(attn_lib.causal_mask(s.shape[-1]).numpy(),
                                           causal_softmax(s), 0.0),
                 "library", id="5.2-calls-attn_lib.causal_mask"),
    # 5.3
    pytest.param("5.3", math.ceil(math.sqrt(budget / (batch * heads * 4))), "rounded_up",
                 id="5.3-rounded-up"),
    pytest.param("5.3", math.sqrt(budget / (batch * heads * 4)), "not_integer",
                 id="5.3-not-rounded"),
    pytest.param("5.3", math.isqrt(budget // (batch * 4)), "heads", id="5.3-forgot-heads"),
    pytest.param("5.3", math.isqrt(budget // (heads * 4)), "batch", id="5.3-forgot-batch"),
    pytest.param("5.3", math.isqrt(budget // (batch * heads)), "bytes",
                 id="5.3-forgot-4-bytes"),
    pytest.param("5.3", math.isqrt(budget // (batch * heads * 32)), "bytes",
                 id="5.3-bits-not-bytes"),
    pytest.param("5.3", math.isqrt(10**9 // (batch * heads * 4)), "gib", id="5.3-GB-not-GiB"),
    pytest.param("5.3", budget // (batch * heads * 4), "square", id="5.3-forgot-the-square"),
    # 5.4
    pytest.param("5.4", padded_self_attention_buggy, "masked_rows",
                 id="5.4-the-buggy-function-unchanged"),
    pytest.param("5.4", lambda x, n: attention_with(x, n), "masked_rows", id="5.4-no-mask"),
    pytest.param("5.4", lambda x, n: padded_self_attention(x, n, fill=0.0), "zero_fill",
                 id="5.4-padded-scores-set-to-0"),
    pytest.param("5.4", lambda x, n: padded_self_attention(x, n + 1), "off_by_one",
                 id="5.4-one-padded-key-kept"),
    pytest.param("5.4", lambda x, n: attention_with(
        x, n, keys=lambda T, n: np.arange(T) >= n, zero_after=True), "not_renormalised",
        id="5.4-zeroed-after-softmax"),
    pytest.param("5.4", lambda x, n: attention_with(x, n, keys=lambda T, n: np.arange(T) < n),
                 "inverted", id="5.4-inverted-mask"),
    pytest.param("5.4", zeroed_padding_rows, "zeroed_inputs", id="5.4-padding-rows-zeroed"),
    pytest.param("5.4", lambda x, n: attention_with(
        x, n, scale=False, keys=lambda T, n: np.arange(T) >= n), "scale", id="5.4-not-scaled"),
    pytest.param("5.4", lambda x, n: padded_self_attention(x, n)[:n], "real_rows_only",
                 id="5.4-real-rows-only"),
    # what the function returns, passed instead of the function
    pytest.param("5.2", np.zeros((4, 4)), "not_function", id="5.2-weights-not-the-function"),
    pytest.param("5.4", np.zeros((6, 8)), "not_function", id="5.4-outputs-not-the-function"),
]


(test_right_answer_is_accepted, test_known_mistake_is_rejected_without_giving_the_answer_away,
 test_most_of_the_bank_gets_its_own_hint, test_no_hint_gives_the_answer_away,
 test_tables_cover_every_exercise_of_the_chapter) = table_tests(
    "attn_lib.exercises.ch05", RIGHT, MISTAKES, EXPECTED)
