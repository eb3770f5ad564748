"""Chapter 2's exercise checks (`attn_lib/exercises/ch02.py`): right answers in several forms
pass; the typical mistakes fail with a diagnosis that does not give the answer away.
"""

import numpy as np
import pytest
import tensorflow as tf
from exercise_tables import table_tests

from attn_lib import masked_softmax, reference

# ---------------------------------------------------------------------------------------------
# 2.1: all scores 0, valid lengths per query

lens = np.array([[1, 2, 4], [0, 3, 3]])  # (B, Tq) = (2, 3), as in the task
keep = np.arange(4) < lens[..., None]  # (B, Tq, Tv) = (2, 3, 4)
uniform_over_kept = keep / np.maximum(keep.sum(-1, keepdims=True), 1)  # the worked solution
with np.errstate(invalid="ignore"):
    nan_for_empty_row = keep / keep.sum(-1, keepdims=True)

# ---------------------------------------------------------------------------------------------
# 2.2: a masked softmax as a function (scores, mask) -> weights


def fixed(scores, mask):
    """The worked solution: -inf for masked keys, empty rows set to zero afterwards."""
    scores = tf.convert_to_tensor(scores)
    has_keys = np.any(mask, axis=-1, keepdims=True)
    fill = np.where(has_keys, -np.inf, 0.0).astype(scores.dtype.as_numpy_dtype)
    weights = tf.nn.softmax(tf.where(mask, scores, fill))
    return tf.where(has_keys, weights, tf.zeros_like(weights))


def numpy_masked_softmax(scores, mask, fill=-np.inf, dtype=None, kept_max=True):
    """Softmax over kept keys in NumPy; the arguments reproduce the usual variants."""
    scores = np.asarray(scores, dtype=dtype)
    filled = np.where(mask, scores, fill)
    top = (filled if kept_max else scores).max(axis=-1, keepdims=True)
    e = np.exp(filled - np.where(np.isfinite(top), top, 0))
    total = e.sum(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore"):
        return np.where(mask.any(axis=-1, keepdims=True), e / total, 0.0)


def minus_inf_without_empty_rows(scores, mask):
    return tf.nn.softmax(tf.where(mask, scores, -np.inf))  # a fully masked row: 0/0 = NaN


def d2l_large_negative(scores, mask):
    return tf.nn.softmax(tf.where(mask, scores, tf.constant(-1e9, scores.dtype)))


def additive_mask(scores, mask):
    """BERT's additive mask, empty rows handled: fine in float32, 0 * -inf = NaN in float16."""
    scores = tf.convert_to_tensor(scores)
    penalty = (1 - tf.cast(mask, scores.dtype)) * tf.constant(-1e9, scores.dtype)
    return tf.where(np.any(mask, -1, keepdims=True), tf.nn.softmax(scores + penalty), 0.0)


def zeroed_after_softmax(scores, mask):
    return tf.nn.softmax(scores) * mask  # masked keys zeroed, the rest not renormalised


# ---------------------------------------------------------------------------------------------
# 2.3: the temperature whose largest weight is 0.9

scores_2_3 = np.array([3.0, 1.0, 0.5, 0.0, -1.0])


def bisect(steps=60, falls=True, log_scale=True):
    """The worked solution's bisection; `falls=False` has the test the wrong way round."""
    low, high = 1e-3, 1e3  # largest weight above 0.9 at low, below at high
    for _ in range(steps):
        middle = np.sqrt(low * high) if log_scale else (low + high) / 2
        above = reference.softmax(scores_2_3 / middle).max() > 0.9
        low, high = (middle, high) if above == falls else (low, middle)
    return low


temperature = bisect()

EXPECTED = {"2.1": uniform_over_kept, "2.2": None, "2.3": temperature}

RIGHT = [
    pytest.param("2.1", uniform_over_kept, id="2.1-float64"),
    pytest.param("2.1", masked_softmax(np.zeros((2, 3, 4), "float32"), valid_lens=lens),
                 id="2.1-tf-float32"),
    pytest.param("2.1", uniform_over_kept.tolist(), id="2.1-nested-list"),
    pytest.param("2.1", reference.masked_softmax(np.zeros((2, 3, 4)), mask=keep),
                 id="2.1-reference-with-mask"),
    pytest.param("2.2", fixed, id="2.2-tf-worked-solution"),
    pytest.param("2.2", lambda scores, mask: masked_softmax(scores, mask=mask),
                 id="2.2-attn_lib-masked_softmax"),
    pytest.param("2.2", numpy_masked_softmax, id="2.2-numpy-minus-inf"),
    pytest.param("2.2", lambda s, m: numpy_masked_softmax(s, m, fill=-1e9, dtype="float64"),
                 id="2.2-numpy-large-constant-in-float64"),
    pytest.param("2.3", temperature, id="2.3-float"),
    pytest.param("2.3", np.float32(temperature), id="2.3-float32"),
    pytest.param("2.3", tf.constant(temperature), id="2.3-tf-scalar"),
    pytest.param("2.3", bisect(log_scale=False), id="2.3-linear-bisection"),
]

WRONG = [
    # 2.1
    pytest.param("2.1", np.full((2, 3, 4), 0.25), "spreads its weight evenly over its kept keys",
                 id="2.1-mask-ignored"),
    pytest.param("2.1", keep.astype(float), "spreads its weight evenly",
                 id="2.1-mask-not-normalised"),
    pytest.param("2.1", tf.nn.softmax(tf.where(keep, 0.0, -1e6)),
                 "a row whose valid length is 0 keeps none", id="2.1-large-negative-empty-row"),
    pytest.param("2.1", nan_for_empty_row, "a row whose valid length is 0 keeps none",
                 id="2.1-nan-for-empty-row"),
    pytest.param("2.1", (lambda k: k / k.sum(-1, keepdims=True))(np.arange(4) <= lens[..., None]),
                 "over its kept keys", id="2.1-off-by-one-keeps-j<=len"),
    pytest.param("2.1", uniform_over_kept[0], "expected weights of shape (B, Tq, Tv) = "
                 "(2, 3, 4); got (3, 4)", id="2.1-first-batch-row-only"),
    pytest.param("2.1", (lambda k: k / np.maximum(k.sum(-1, keepdims=True), 1))(
        np.arange(4) < lens.T[..., None]), "got (3, 2, 4)", id="2.1-lens-transposed"),
    # 2.2
    pytest.param("2.2", lambda scores, mask: tf.nn.softmax(scores * mask),
                 "Masked keys must leave the softmax entirely (weight exactly 0)",
                 id="2.2-multiply-by-mask"),
    pytest.param("2.2", zeroed_after_softmax, "leave the softmax entirely",
                 id="2.2-zeroed-after-softmax"),
    pytest.param("2.2", minus_inf_without_empty_rows, "a row with no kept key must be all zeros",
                 id="2.2-minus-inf-empty-row-nan"),
    pytest.param("2.2", d2l_large_negative, "a row with no kept key must be all zeros",
                 id="2.2-minus-1e9-empty-row-uniform"),
    pytest.param("2.2", additive_mask, "no constant may overflow float16",
                 id="2.2-additive-mask-overflows-float16"),
    pytest.param("2.2", lambda s, m: numpy_masked_softmax(s, m, kept_max=False),
                 "Take the row maximum over kept keys only", id="2.2-max-over-all-keys"),
    pytest.param("2.2", fixed(np.zeros((1, 2, 3), "float32"), np.ones((1, 2, 3), bool)),
                 "pass the function itself, not what it returns", id="2.2-weights-not-function"),
    # 2.3
    pytest.param("2.3", bisect(falls=False), "The largest weight falls as the temperature rises",
                 id="2.3-bisection-reversed"),
    pytest.param("2.3", bisect(steps=5), "bisect between", id="2.3-bisection-stopped-early"),
    # generic: the hint does not say that the answer is the temperature, positive, not 1/τ
    pytest.param("2.3", 1 / temperature, "bisect", id="2.3-inverse-temperature"),
    pytest.param("2.3", 0.9, "bisect", id="2.3-the-weight-not-the-temperature"),
    pytest.param("2.3", -temperature, "bisect", id="2.3-negative"),
]


(test_right_answer_is_accepted, test_typical_mistake_gets_its_diagnosis,
 test_tables_cover_every_exercise_of_the_chapter) = table_tests(
    "attn_lib.exercises.ch02", RIGHT, WRONG, EXPECTED)
