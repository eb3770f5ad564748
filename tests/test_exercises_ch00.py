"""Chapter 0's exercise check (`attn_lib/exercises/ch00.py`): right answers in several forms
pass; the typical mistakes fail with the hint that names them, without giving the answer away.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf
from exercise_tables import table_tests

import attn_lib
from attn_lib import reference

# 0.1: the worked example's keys against the doubled query 2q = (2, 2, 2, 6), no scaling
query = np.array([1.0, 1.0, 1.0, 3.0])
keys = np.array([[1.0, 1.0, 2.0, 4.0], [4.0, 1.0, 1.0, 3.0], [1.0, 1.0, 2.0, 1.0]])
scores = keys @ (2 * query)  # (Tv,)
weights = np.exp(scores) / np.exp(scores).sum()  # the worked solution
weights_of_q = reference.softmax(keys @ query)  # the worked example's weights

batched_query = (2 * query)[None, None].astype("float32")  # (B=1, Tq=1, d=4)
batched_keys = keys[None].astype("float32")  # (B=1, Tv=3, d=4)
_, keras_weights = keras.layers.Attention()([batched_query, batched_keys],
                                            return_attention_scores=True)  # (1, 1, 3)


def attn_lib_weights(scaled):
    layer = attn_lib.DotProductAttention(scaled=scaled)
    layer(batched_query, batched_keys, batched_keys)
    return layer.attention_weights  # (1, 1, 3)


EXPECTED = {"0.1": weights}

RIGHT = [
    pytest.param("0.1", weights, id="0.1-numpy-worked-solution"),
    pytest.param("0.1", tf.nn.softmax(tf.linalg.matvec(tf.constant(keys, tf.float32),
                                                       tf.constant(2 * query, tf.float32))),
                 id="0.1-tf-float32"),
    pytest.param("0.1", keras_weights, id="0.1-keras-weights-(1,1,3)"),
    pytest.param("0.1", attn_lib_weights(scaled=False), id="0.1-attn_lib-unscaled"),
    pytest.param("0.1", weights_of_q**2 / np.sum(weights_of_q**2),
                 id="0.1-squared-weights-renormalised"),
    pytest.param("0.1", [0.88, 0.12, 0.0], id="0.1-by-hand-two-decimals"),
]

MISTAKES = [
    pytest.param("0.1", weights_of_q, "undoubled", id="0.1-query-not-doubled"),
    pytest.param("0.1", attn_lib_weights(scaled=True), "undoubled", id="0.1-scaled-by-sqrt-d"),
    pytest.param("0.1", scores, "scores", id="0.1-scores-not-weights"),
    pytest.param("0.1", np.exp(scores), "not_normalised", id="0.1-exp-not-divided"),
    pytest.param("0.1", np.exp(scores - scores.max()), "not_normalised",
                 id="0.1-shifted-exp-not-divided"),
    pytest.param("0.1", scores / scores.sum(), "divided_by_sum", id="0.1-scores-over-their-sum"),
    pytest.param("0.1", 2 * weights_of_q, "doubled_weights", id="0.1-doubled-the-weights"),
    pytest.param("0.1", reference.softmax(keys @ query**2), "query_squared",
                 id="0.1-query-squared"),
    pytest.param("0.1", tf.nn.softmax(tf.constant(scores[None, None]), axis=1), "wrong_axis",
                 id="0.1-softmax-over-the-query-axis"),
    pytest.param("0.1", weights @ keys, "output", id="0.1-output-not-weights"),
    pytest.param("0.1", [0.9, 0.1, 0.0], "rounded", id="0.1-one-decimal"),
]

(test_right_answer_is_accepted,
 test_known_mistake_is_rejected_without_giving_the_answer_away,
 test_most_of_the_bank_gets_its_own_hint,
 test_no_hint_gives_the_answer_away,
 test_tables_cover_every_exercise_of_the_chapter) = table_tests(
    "attn_lib.exercises.ch00", RIGHT, MISTAKES, EXPECTED)
