"""Chapter 2's exercise checks (`attn_lib/exercises/ch02.py`): right answers in several forms
pass; the typical mistakes fail with the hint that names them, without giving the answer away.
"""

import fractions

import numpy as np
import pytest
import tensorflow as tf
from exercise_tables import table_tests

import attn_lib
from attn_lib import reference
from attn_lib.exercises import LIBRARY

# ---------------------------------------------------------------------------------------------
# 2.1: all scores 0, valid lengths per query

lens = np.array([[1, 2, 4], [0, 3, 3]])  # (B, Tq) = (2, 3), as in the task
keep = np.arange(4) < lens[..., None]  # (B, Tq, Tv) = (2, 3, 4)


def uniform_over(kept):
    """The worked solution: uniform over the kept keys, rows with none stay 0."""
    return kept / np.maximum(kept.sum(-1, keepdims=True), 1)


def by_hand(third):
    """The weights written down row by row, with `third` for 1/3."""
    return [[[1, 0, 0, 0], [0.5, 0.5, 0, 0], [0.25, 0.25, 0.25, 0.25]],
            [[0, 0, 0, 0], [third, third, third, 0], [third, third, third, 0]]]


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


def row_by_row(scores, mask):
    """Plain loops: a softmax over each row's kept scores."""
    weights = np.zeros(np.shape(scores))
    for index in np.ndindex(*np.shape(scores)[:-1]):
        kept = np.asarray(scores[index], dtype=np.float64)[mask[index]]
        if kept.size:
            e = np.exp(kept - kept.max())
            weights[index][mask[index]] = e / e.sum()
    return weights


def smallest_finite_fill(scores, mask):
    """The dtype's most negative finite number as the fill, empty rows zeroed."""
    scores = tf.convert_to_tensor(scores)
    weights = tf.nn.softmax(tf.where(mask, scores, scores.dtype.min))
    return tf.where(np.any(mask, axis=-1, keepdims=True), weights, 0.0)


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


def over_the_queries(scores, mask):
    """-inf fill, but the softmax over axis 1 (the queries)."""
    filled = np.where(mask, np.asarray(scores, np.float64), -np.inf)
    top = filled.max(axis=1, keepdims=True)
    e = np.exp(filled - np.where(np.isfinite(top), top, 0))
    total = e.sum(axis=1, keepdims=True)
    return np.where(total > 0, e / np.where(total > 0, total, 1), 0.0)


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


def secant(t0=0.5, t1=1.0, steps=20):
    """The secant method on largest_weight(τ) - 0.9."""
    def f(t):
        return reference.softmax(scores_2_3 / t).max() - 0.9

    for _ in range(steps):
        if f(t1) == f(t0):
            break
        t0, t1 = t1, t1 - f(t1) * (t1 - t0) / (f(t1) - f(t0))
    return t1


temperature = bisect()

EXPECTED = {"2.1": uniform_over(keep), "2.2": None, "2.3": temperature}

RIGHT = [
    pytest.param("2.1", uniform_over(keep), id="2.1-float64-worked-solution"),
    pytest.param("2.1", by_hand(0.33), id="2.1-by-hand-two-decimals"),
    pytest.param("2.1", by_hand(float(fractions.Fraction(1, 3))), id="2.1-by-hand-exact"),
    pytest.param("2.1", (lambda m: m / tf.maximum(tf.reduce_sum(m, -1, keepdims=True), 1.0))(
        tf.cast(tf.sequence_mask(lens, 4), tf.float32)), id="2.1-tf-sequence_mask-float32"),
    pytest.param("2.1", reference.masked_softmax(np.zeros((2, 3, 4)), mask=keep),
                 id="2.1-reference-with-mask"),
    pytest.param("2.2", fixed, id="2.2-tf-worked-solution"),
    pytest.param("2.2", numpy_masked_softmax, id="2.2-numpy-minus-inf"),
    pytest.param("2.2", lambda s, m: numpy_masked_softmax(s, m, fill=-1e9, dtype="float64"),
                 id="2.2-numpy-large-constant-in-float64"),
    pytest.param("2.2", row_by_row, id="2.2-loops-over-rows"),
    pytest.param("2.2", smallest_finite_fill, id="2.2-tf-dtype-min-fill"),
    pytest.param("2.3", temperature, id="2.3-float"),
    pytest.param("2.3", np.float32(temperature), id="2.3-float32"),
    pytest.param("2.3", tf.constant(temperature), id="2.3-tf-scalar"),
    pytest.param("2.3", bisect(log_scale=False), id="2.3-linear-bisection"),
    pytest.param("2.3", secant(), id="2.3-secant-method"),
    pytest.param("2.3", [temperature], id="2.3-one-element-list"),
]

MISTAKES = [
    # 2.1
    pytest.param("2.1", np.full((2, 3, 4), 0.25), "mask_ignored", id="2.1-mask-ignored"),
    pytest.param("2.1", keep.astype(float), "not_normalised", id="2.1-mask-not-normalised"),
    pytest.param("2.1", tf.nn.softmax(tf.zeros((2, 3, 4))) * keep, "not_renormalised",
                 id="2.1-zeroed-after-softmax"),
    pytest.param("2.1", tf.nn.softmax(tf.where(keep, 0.0, -1e6)), "empty_row_uniform",
                 id="2.1-large-negative-empty-row"),
    pytest.param("2.1", nan_for_empty_row, "empty_row_nan", id="2.1-nan-for-empty-row"),
    pytest.param("2.1", uniform_over(np.arange(4) <= lens[..., None]), "off_by_one",
                 id="2.1-off-by-one-keeps-j<=len"),
    pytest.param("2.1", uniform_over(np.arange(4) >= 4 - lens[..., None]), "kept_from_the_end",
                 id="2.1-kept-the-last-keys"),
    pytest.param("2.1", uniform_over(~keep), "inverted", id="2.1-mask-inverted"),
    pytest.param("2.1", by_hand(0.3), "rounded", id="2.1-one-decimal"),
    pytest.param("2.1", uniform_over(np.arange(4) < lens.T[..., None]), "lens_transposed",
                 id="2.1-lens-transposed"),
    # 2.2
    pytest.param("2.2", lambda scores, mask: tf.nn.softmax(scores * mask), "masked_weight",
                 id="2.2-multiply-by-mask"),
    pytest.param("2.2", lambda s, m: tf.nn.softmax(tf.where(m, s, tf.zeros_like(s))),
                 "masked_weight", id="2.2-masked-scores-set-to-zero"),
    pytest.param("2.2", zeroed_after_softmax, "not_renormalised", id="2.2-zeroed-after-softmax"),
    pytest.param("2.2", minus_inf_without_empty_rows, "empty_row_nan",
                 id="2.2-minus-inf-empty-row-nan"),
    pytest.param("2.2", d2l_large_negative, "empty_row_uniform",
                 id="2.2-minus-1e9-empty-row-uniform"),
    pytest.param("2.2", additive_mask, "float16", id="2.2-additive-mask-overflows-float16"),
    pytest.param("2.2", lambda s, m: numpy_masked_softmax(s, m, kept_max=False),
                 "max_over_all_keys", id="2.2-max-over-all-keys"),
    pytest.param("2.2", lambda scores, mask: fixed(scores, ~mask), "inverted",
                 id="2.2-mask-inverted"),
    pytest.param("2.2", over_the_queries, "wrong_axis", id="2.2-softmax-over-the-queries"),
    pytest.param("2.2", fixed(np.zeros((1, 2, 3), "float32"), np.ones((1, 2, 3), bool)),
                 "not_function", id="2.2-weights-not-function"),
    pytest.param("2.2", lambda scores, mask: attn_lib.masked_softmax(scores, mask=mask),
                 LIBRARY, id="2.2-wraps-attn_lib.masked_softmax"),
    pytest.param("2.2", lambda scores, mask: reference.masked_softmax(scores, mask=mask),
                 LIBRARY, id="2.2-wraps-reference.masked_softmax"),
    # 2.3
    pytest.param("2.3", bisect(falls=False), "bracket_end", id="2.3-bisection-reversed"),
    pytest.param("2.3", bisect(steps=8), "not_converged", id="2.3-bisection-stopped-early"),
    pytest.param("2.3", 1 / temperature, "inverse", id="2.3-inverse-temperature"),
    pytest.param("2.3", 0.9, "target_weight", id="2.3-the-weight-not-the-temperature"),
    pytest.param("2.3", -temperature, "not_positive", id="2.3-negative"),
    pytest.param("2.3", (bisect(steps=60), bisect(steps=61)), "not_a_number",
                 id="2.3-the-bracket-pair"),
    pytest.param("2.3", reference.softmax(scores_2_3 / temperature), "not_a_number",
                 id="2.3-the-weights"),
]

(test_right_answer_is_accepted,
 test_known_mistake_is_rejected_without_giving_the_answer_away,
 test_most_of_the_bank_gets_its_own_hint,
 test_no_hint_gives_the_answer_away,
 test_tables_cover_every_exercise_of_the_chapter) = table_tests(
    "attn_lib.exercises.ch02", RIGHT, MISTAKES, EXPECTED)
