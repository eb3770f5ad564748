"""Chapter 4's exercise checks (`attn_lib/exercises/ch04.py`): right answers in several forms
pass; the typical mistakes fail with the hint that names them, without giving the answer away.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf
from exercise_tables import table_tests

import attn_lib
from attn_lib import reference

# ---------------------------------------------------------------------------------------------
# 4.1: Chapter 0's query and keys, the second key padding

query = np.array([1.0, 1.0, 1.0, 3.0])
keys = np.array([[1.0, 1.0, 2.0, 4.0], [4.0, 1.0, 1.0, 3.0], [1.0, 1.0, 2.0, 1.0]])
kept = np.array([True, False, True])
scores = keys @ query  # (Tv,)


def softmax_where(keep, scores=scores):
    """Softmax over the kept entries of `scores`, 0 elsewhere (the worked solution)."""
    exps = np.where(keep, np.exp(scores - scores[keep].max()), 0.0)
    return exps / exps.sum()


def keras_weights(**options):
    _, weights = keras.layers.Attention(**options)(
        [query[None, None].astype("float32"), keys[None].astype("float32")],
        mask=[None, kept[None]], return_attention_scores=True)  # (1, 1, 3)
    return weights


def attn_lib_weights(scaled):
    layer = attn_lib.DotProductAttention(scaled=scaled)
    batched_keys = keys[None].astype("float32")
    layer(query[None, None].astype("float32"), batched_keys, batched_keys, mask=kept[None, None])
    return layer.attention_weights  # (1, 1, 3)


# ---------------------------------------------------------------------------------------------
# 4.2: PyTorch's key_padding_mask (B, Tv), True = padding -> valid_lens (B,)


def to_valid_lens(key_padding_mask):
    return np.sum(~np.asarray(key_padding_mask, dtype=bool), axis=-1)


def first_padding(key_padding_mask):
    """Where padding starts; a row without padding has all its positions."""
    m = np.asarray(key_padding_mask)
    return np.where(m.any(axis=1), m.argmax(axis=1), m.shape[1])


# ---------------------------------------------------------------------------------------------
# 4.3: attn_lib's call as a Keras Attention call


def to_keras_call(queries, keys, values, valid_lens):
    value_mask = attn_lib.sequence_mask(valid_lens, keys.shape[1])  # (B, Tv), True = attend
    return [queries, values, keys], [None, value_mask]


def numpy_value_mask(keys, valid_lens):
    return np.arange(keys.shape[1])[None, :] < np.asarray(valid_lens)[:, None]  # (B, Tv)


# ---------------------------------------------------------------------------------------------
# 4.4: does a causal model's (Tq, Tv) weight matrix look at the future?


def looks_at_future(weights, atol=1e-6):
    return bool((np.triu(np.asarray(weights), k=1) > atol).any())


def looks_at_future_loops(weights):
    rows, columns = np.shape(weights)
    return any(weights[i][j] > 1e-6 for i in range(rows) for j in range(i + 1, columns))


EXPECTED = {"4.1": softmax_where(kept), "4.2": None, "4.3": None, "4.4": None}

RIGHT = [
    pytest.param("4.1", softmax_where(kept), id="4.1-float64"),
    pytest.param("4.1", keras_weights(), id="4.1-keras-weights-(1,1,3)"),
    pytest.param("4.1", attn_lib_weights(scaled=False), id="4.1-attn_lib-unscaled"),
    pytest.param("4.1", reference.masked_softmax(scores[None, None], mask=kept).ravel().tolist(),
                 id="4.1-list-from-reference"),
    pytest.param("4.1", softmax_where(kept).astype("float32"), id="4.1-float32"),
    pytest.param("4.1", [1.0, 0.0, float(np.exp(-9.0))], id="4.1-by-hand-e-to-the-minus-9"),
    pytest.param("4.1", [0.9999, 0, 0.0001], id="4.1-by-hand-four-decimals"),
    pytest.param("4.2", to_valid_lens, id="4.2-numpy-count"),
    pytest.param("4.2", lambda m: tf.reduce_sum(tf.cast(tf.logical_not(m), tf.int32), axis=-1),
                 id="4.2-tf-int32"),
    pytest.param("4.2", first_padding, id="4.2-first-padding-position"),
    pytest.param("4.2", lambda m: [int(row.sum()) for row in ~m], id="4.2-list-of-ints"),
    pytest.param("4.2", lambda m: m.shape[1] - m.sum(axis=1), id="4.2-width-minus-padding"),
    pytest.param("4.3", to_keras_call, id="4.3-attn_lib-sequence_mask"),
    pytest.param("4.3", lambda q, k, v, lens: ((q, v, k), (None, numpy_value_mask(k, lens))),
                 id="4.3-tuples-numpy-mask"),
    pytest.param("4.3", lambda q, k, v, lens: (
        [q, v, k], [np.ones(q.shape[:2], bool), tf.sequence_mask(lens, k.shape[1])]),
        id="4.3-tf-mask-and-all-true-query-mask"),
    pytest.param("4.3", lambda q, k, v, lens: ([q, v, k], [None, keras.ops.arange(k.shape[1])[
        None, :] < keras.ops.expand_dims(keras.ops.cast(lens, "int32"), -1)]),
        id="4.3-keras-ops-mask"),
    pytest.param("4.4", looks_at_future, id="4.4-numpy-triu"),
    pytest.param("4.4", lambda w: tf.reduce_any(
        tf.linalg.band_part(w, 0, -1) - tf.linalg.band_part(w, 0, 0) > 1e-6),
        id="4.4-tf-band_part"),
    pytest.param("4.4", looks_at_future_loops, id="4.4-loops"),
    pytest.param("4.4", lambda w: bool(np.any(w[~attn_lib.causal_mask(*w.shape).numpy()] > 1e-6)),
                 id="4.4-outside-attn_lib-causal_mask"),
]

MISTAKES = [
    # 4.1
    pytest.param("4.1", softmax_where(np.ones(3, bool)), "mask_ignored", id="4.1-mask-ignored"),
    pytest.param("4.1", softmax_where(np.ones(3, bool)) * kept, "not_renormalised",
                 id="4.1-zeroed-not-renormalised"),
    pytest.param("4.1", reference.softmax(scores * kept), "masked_weight",
                 id="4.1-masked-score-multiplied-by-0"),
    pytest.param("4.1", softmax_where(~kept), "inverted", id="4.1-mask-inverted"),
    pytest.param("4.1", softmax_where(kept, scores / np.sqrt(4)), "scaled",
                 id="4.1-scaled-by-sqrt-d"),
    pytest.param("4.1", attn_lib_weights(scaled=True), "scaled",
                 id="4.1-attn_lib-default-scaled"),
    pytest.param("4.1", scores * kept, "scores", id="4.1-masked-scores"),
    pytest.param("4.1", [1.0, 0.0, 0.0], "rounded", id="4.1-third-weight-rounded-to-0"),
    pytest.param("4.1", softmax_where(kept)[kept], "kept_only", id="4.1-kept-weights-only"),
    pytest.param("4.1", softmax_where(kept) @ keys, "output", id="4.1-output-not-weights"),
    # 4.2
    pytest.param("4.2", lambda m: np.sum(m, axis=-1), "counted_padding",
                 id="4.2-counted-the-padding"),
    pytest.param("4.2", lambda m: to_valid_lens(m) - 1, "off_by_one", id="4.2-last-valid-index"),
    pytest.param("4.2", lambda m: to_valid_lens(m).astype(float), "float", id="4.2-float-numpy"),
    pytest.param("4.2", lambda m: tf.reduce_sum(tf.cast(~m, tf.float32), axis=-1), "float",
                 id="4.2-float-tf"),
    pytest.param("4.2", lambda m: np.mean(~m, axis=-1) * m.shape[1], "float",
                 id="4.2-mean-times-width"),
    pytest.param("4.2", lambda m: ~m.all(axis=-1), "bool", id="4.2-booleans-per-row"),
    pytest.param("4.2", lambda m: np.sum(~m, axis=0), "wrong_axis", id="4.2-summed-over-the-batch"),
    pytest.param("4.2", lambda m: ~m, "mask_not_lengths", id="4.2-inverted-mask-not-lengths"),
    pytest.param("4.2", lambda m: np.argmax(m, axis=1), "no_padding_row",
                 id="4.2-argmax-misses-rows-without-padding"),
    pytest.param("4.2", lambda m: (~m).sum(dim=-1), "torch_api", id="4.2-pytorch-dim-keyword"),
    pytest.param("4.2", to_valid_lens(np.array([[False, True]])), "not_function",
                 id="4.2-lengths-not-function"),
    # 4.3
    pytest.param("4.3", lambda q, k, v, lens: ([q, k, v], [None, numpy_value_mask(k, lens)]),
                 "order", id="4.3-textbook-order-q-k-v"),
    pytest.param("4.3", lambda q, k, v, lens: ([q, v], [None, numpy_value_mask(k, lens)]),
                 "keys_missing", id="4.3-keys-left-out"),
    pytest.param("4.3", lambda q, k, v, lens: ([q, v, k], [None, ~numpy_value_mask(k, lens)]),
                 "mask_inverted", id="4.3-mask-inverted"),
    pytest.param("4.3", lambda q, k, v, lens: ([q, v, k], [numpy_value_mask(k, lens), None]),
                 "mask_slot", id="4.3-mask-in-the-query-slot"),
    pytest.param("4.3", lambda q, k, v, lens: ([q, v, k], [None, lens]), "lens_as_mask",
                 id="4.3-valid_lens-as-mask"),
    pytest.param("4.3", lambda q, k, v, lens: ([q, v, k], [None, None]), "no_mask",
                 id="4.3-no-mask"),
    pytest.param("4.3", lambda q, k, v, lens: ([q, v, k], None), "no_mask",
                 id="4.3-mask-None"),
    pytest.param("4.3", to_keras_call(*np.ones((3, 1, 2, 4), "float32"), np.array([2])),
                 "not_function", id="4.3-call-not-function"),
    # 4.4
    pytest.param("4.4", lambda w: bool((np.tril(w, k=-1) > 1e-6).any()), "wrong_triangle",
                 id="4.4-below-the-diagonal"),
    pytest.param("4.4", lambda w: looks_at_future(np.transpose(w)), "wrong_triangle",
                 id="4.4-transposed-(Tv,Tq)"),
    pytest.param("4.4", lambda w: bool((np.triu(w, k=0) > 1e-6).any()), "diagonal",
                 id="4.4-diagonal-included"),
    pytest.param("4.4", lambda w: bool((np.triu(w, k=1) != 0).any()), "no_tolerance",
                 id="4.4-no-tolerance"),
    pytest.param("4.4", lambda w: np.triu(w, k=1) > 1e-6, "not_bool", id="4.4-forgot-any"),
    pytest.param("4.4", lambda w: (np.triu(w, k=1) > 1e-6).any(axis=1), "not_bool",
                 id="4.4-any-per-row"),
    pytest.param("4.4", lambda w: not looks_at_future(w), "inverted", id="4.4-verdict-inverted"),
    pytest.param("4.4", looks_at_future(np.eye(3)), "not_function",
                 id="4.4-verdict-not-function"),
]

(test_right_answer_is_accepted,
 test_known_mistake_is_rejected_without_giving_the_answer_away,
 test_most_of_the_bank_gets_its_own_hint,
 test_no_hint_gives_the_answer_away,
 test_tables_cover_every_exercise_of_the_chapter) = table_tests(
    "attn_lib.exercises.ch04", RIGHT, MISTAKES, EXPECTED)
