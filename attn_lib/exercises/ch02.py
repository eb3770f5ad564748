"""Self-checks for Chapter 2, the masked softmax.

Each check compares the answer with the right weights and, when they differ, looks for the
signature of the exercise's classic mistakes to name the one it recognises.
"""

import numpy as np

from attn_lib import masking, reference
from attn_lib.exercises import LIBRARY, exercise

EXERCISE_2_1_LENS = np.array([[1, 2, 4], [0, 3, 3]])
EXERCISE_2_3_SCORES = np.array([3.0, 1.0, 0.5, 0.0, -1.0])

# -------------------------------------------------------------------------------------------
# 2.1: all scores 0, valid lengths per query; weights by paper and pencil


def _uniform_over(keep):
    """Weights spread evenly over the kept keys of each row; a row with none stays 0."""
    keep = keep.astype(np.float64)
    return keep / np.maximum(keep.sum(-1, keepdims=True), 1)


def _wrong_2_1():
    positions = np.arange(4)
    lens = EXERCISE_2_1_LENS[..., None]  # (B, Tq, 1)
    keep = positions < lens  # (B, Tq, Tv)
    empty = ~keep.any(-1, keepdims=True)
    return [
        ("mask_ignored", np.full((2, 3, 4), 0.25)),
        ("not_normalised", keep.astype(np.float64)),
        ("not_renormalised", 0.25 * keep),  # softmax first, masked keys zeroed afterwards
        ("empty_row_uniform", np.where(empty, 0.25, _uniform_over(keep))),
        ("empty_row_nan", np.where(empty, np.nan, _uniform_over(keep))),
        ("off_by_one", _uniform_over(positions <= lens)),
        ("off_by_one", _uniform_over(positions < lens - 1)),
        ("kept_from_the_end", _uniform_over(positions >= 4 - lens)),
        ("inverted", _uniform_over(~keep)),
    ]


@exercise("2.1", hint="All scores are equal, so each row spreads its weight evenly over its "
                      "kept keys; a row whose valid length is 0 keeps none.",
          mistakes={
              "mask_ignored": "Every key has the same weight: the valid lengths were not "
                              "applied. Key j is kept for a query when j < its valid length.",
              "not_normalised": "Your rows do not sum to 1: you marked the kept keys, but "
                                "each row's weights must be spread over its kept keys.",
              "not_renormalised": "You zeroed the masked keys after a softmax over all four, "
                                  "so rows with masked keys sum to less than 1. Masked keys "
                                  "leave the softmax: renormalise over the kept keys.",
              "empty_row_uniform": "The row whose valid length is 0 has no key to attend to: "
                                   "its weights are all 0 (a large negative fill would "
                                   "spread them evenly instead).",
              "empty_row_nan": "The row whose valid length is 0 has NaN weights (0/0): such a "
                               "row keeps no key, and its weights are all 0.",
              "off_by_one": "Off by one: a valid length of n keeps exactly the first n keys, "
                            "positions 0 to n - 1.",
              "kept_from_the_end": "You kept the last keys; a valid length keeps the first "
                                   "ones (the padding is at the end).",
              "inverted": "Your mask is inverted: a valid length says how many keys are kept, "
                          "not how many are masked.",
              "rounded": "Nearly there, but rounded too coarsely: two decimals are enough, "
                         "one is not.",
              "lens_transposed": "Your array has shape (3, 2, 4): the valid lengths are "
                                 "given as (B, Tq) = (2, 3), one row per batch element.",
          })
def _(answer):
    answer = np.asarray(answer, dtype=np.float64)
    if answer.shape == (3, 2, 4):
        return "lens_transposed"
    if answer.shape != (2, 3, 4):
        raise ValueError(f"expected weights of shape (B, Tq, Tv) = (2, 3, 4); got {answer.shape}")
    expected = reference.masked_softmax(np.zeros((2, 3, 4)), valid_lens=EXERCISE_2_1_LENS)
    if np.allclose(answer, expected, rtol=0, atol=6e-3):  # two decimals: 0.33 for 1/3
        return True
    for name, wrong in _wrong_2_1():
        if np.allclose(answer, wrong, rtol=0, atol=6e-3, equal_nan=True):
            return name
    if np.abs(answer - expected).max() < 0.06:
        return "rounded"
    return False


# -------------------------------------------------------------------------------------------
# 2.2: a masked softmax as a function (scores, mask) -> weights


def _cases():
    """Scores and masks that catch the usual mistakes: fully masked rows, huge scores."""
    rng = np.random.default_rng(21)
    scores = rng.normal(size=(2, 3, 5)) * 3
    scores[0, 0, :2] = [1e4, -1e4]  # huge scores, the larger one masked below
    mask = rng.random((2, 3, 5)) < 0.6
    mask[0, 0] = [False, True, True, False, True]
    mask[1, 2] = False  # a fully masked row
    mask[1, 1] = [True, False, False, False, False]
    mask[0, 2] = [True, True, True, False, False]  # a row with two masked keys
    return [(scores.astype(dtype), mask) for dtype in ("float32", "float16")]


def _diagnose_2_2(weights, scores, mask):
    """The mistake `weights` show on float32 `scores` and `mask`, or False."""
    scores = scores.astype(np.float64)
    kept_rows = mask.any(-1)  # (B, Tq): rows with at least one kept key
    huge_rows = ((np.abs(scores) > 100) & ~mask).any(-1)  # a masked key with a huge score
    ordinary = kept_rows & ~huge_rows
    both = kept_rows & (~mask).any(-1)  # rows with kept and masked keys
    inverted = reference.masked_softmax(scores, mask=~mask)
    if both.any() and np.allclose(weights[both], inverted[both], atol=1e-4):
        return "inverted"
    by_queries = np.swapaxes(reference.masked_softmax(np.swapaxes(scores, -1, -2),
                                                      mask=np.swapaxes(mask, -1, -2)), -1, -2)
    finite = np.isfinite(weights)
    if finite.mean() > 0.5 and np.allclose(weights[finite], by_queries[finite], atol=1e-4):
        return "wrong_axis"
    if np.any(np.abs(weights[ordinary][~mask[ordinary]]) > 1e-6):
        return "masked_weight"
    if (np.all(finite[ordinary])
            and not np.allclose(weights[ordinary].sum(-1), 1, rtol=0, atol=1e-4)):
        return "not_renormalised"
    if not np.all(finite[huge_rows]) or np.allclose(weights[huge_rows], 0):
        return "max_over_all_keys"  # the masked key's huge score sank every kept one
    empty = weights[~kept_rows]
    if np.any(np.isnan(empty)):
        return "empty_row_nan"
    if np.any(empty != 0):
        return "empty_row_uniform"
    return False


@exercise("2.2", hint="Masked keys must leave the softmax entirely (weight exactly 0), a row "
                      "with no kept key must be all zeros, and no constant may overflow float16. "
                      "Take the row maximum over kept keys only.",
          mistakes={
              "not_function": "Pass the function itself (answer = fixed), not the weights it "
                              "returns: the check runs it on its own scores and masks.",
              "masked_weight": "A masked key still gets weight. A score of 0 (or any finite "
                               "score) is still a score, and exp(0) = 1: a masked key must "
                               "leave the softmax, weight exactly 0.",
              "not_renormalised": "The masked keys get 0, but the rows no longer sum to 1: "
                                  "zeroing after the softmax is too late. Mask the scores "
                                  "before it, so the kept keys share all the weight.",
              "empty_row_nan": "A row whose keys are all masked comes out as NaN (exp(-inf) "
                               "sums to 0, and 0/0 is NaN): give such rows all-zero weights "
                               "as a separate case.",
              "empty_row_uniform": "A row whose keys are all masked gets weight on its masked "
                                   "keys (a finite fill like -1e9 spreads it evenly): such a "
                                   "row must be all zeros, a separate case.",
              "float16": "Right in float32, wrong in float16: a constant like -1e9 is -inf "
                         "in float16 (its largest number is 65504), and 0 * -inf is NaN. "
                         "Fill masked scores with -inf directly, or compute in float32.",
              "max_over_all_keys": "The row with a huge masked score breaks: you shifted by "
                                   "the maximum over all keys, masked ones included, so every "
                                   "kept key underflows. Take the maximum over kept keys only.",
              "inverted": "Your mask is inverted: True means keep (attend), False means mask.",
              "wrong_axis": "Your softmax normalises over the queries: each query's weights "
                            "must sum to 1 over its keys, the last axis.",
              LIBRARY: "Your function calls attn_lib's `masked_softmax`, the function this "
                       "exercise asks you to write. Build it from NumPy (or TensorFlow) "
                       "operations instead.",
          },
          implements=(masking.masked_softmax, masking._masked_softmax,
                      reference.masked_softmax))
def _(answer):
    for scores, mask in _cases():
        weights = np.asarray(answer(scores, mask), dtype=np.float64)
        expected = reference.masked_softmax(scores.astype(np.float64), mask=mask)
        if weights.shape != expected.shape:
            raise ValueError(f"expected weights of the shape of the scores, {scores.shape}; "
                             f"got {weights.shape}")
        tolerance = 2e-3 if scores.dtype == np.float16 else 1e-5
        exact_zeros = np.all(weights[~mask] == 0)
        if exact_zeros and np.allclose(weights, expected, rtol=0, atol=tolerance):
            continue
        if scores.dtype == np.float16:  # float32 passed
            return "float16"
        return _diagnose_2_2(weights, scores, mask)
    return True


# -------------------------------------------------------------------------------------------
# 2.3: the temperature whose largest weight is 0.9


def _largest_weight(temperature):
    return reference.softmax(EXERCISE_2_3_SCORES / temperature).max()


@exercise("2.3", hint="The largest weight falls as the temperature rises; bisect between a "
                      "temperature where it is above 0.9 and one where it is below.",
          mistakes={
              "not_a_number": "The answer is one number, the temperature τ (not an array, a "
                              "pair of bounds or the weights).",
              "not_positive": "A temperature is positive: the scores are divided by τ > 0.",
              "inverse": "You gave 1/τ, the factor the scores are multiplied by. The scores "
                         "are divided by τ: pass τ itself.",
              "target_weight": "That is the target weight, not the temperature: find the τ "
                               "at which softmax(s / τ) has that largest weight.",
              "bracket_end": "Your search ended at one end of its bracket: the test that "
                             "decides which half to keep is the wrong way round (a larger τ "
                             "gives a smaller largest weight), or the bracket misses the "
                             "answer.",
              "not_converged": "Close, but the largest weight is not yet within 0.001 of the "
                               "target: run more bisection steps.",
          })
def _(answer):
    if np.size(answer) != 1:
        return "not_a_number"
    temperature = float(np.asarray(answer, dtype=np.float64).reshape(()))
    if not temperature > 0:
        return "not_positive"
    largest = _largest_weight(temperature)
    if abs(largest - 0.9) < 1e-3:
        return True
    if abs(_largest_weight(1 / temperature) - 0.9) < 1e-3:
        return "inverse"
    if abs(temperature - 0.9) < 1e-9:
        return "target_weight"
    if largest > 1 - 1e-3 or largest < 1 / len(EXERCISE_2_3_SCORES) + 1e-3:
        return "bracket_end"
    if abs(largest - 0.9) < 0.05:
        return "not_converged"
    return False
