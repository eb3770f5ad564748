"""Self-checks for Chapter 2, the masked softmax."""

import numpy as np

from attn_lib import reference
from attn_lib.exercises import exercise

EXERCISE_2_1_LENS = np.array([[1, 2, 4], [0, 3, 3]])
EXERCISE_2_3_SCORES = np.array([3.0, 1.0, 0.5, 0.0, -1.0])


@exercise("2.1", hint="All scores are equal, so each row spreads its weight evenly over its "
                      "kept keys; a row whose valid length is 0 keeps none.")
def _(answer):
    answer = np.asarray(answer, dtype=np.float64)
    if answer.shape != (2, 3, 4):
        raise ValueError(f"expected weights of shape (B, Tq, Tv) = (2, 3, 4); got {answer.shape}")
    expected = reference.masked_softmax(np.zeros((2, 3, 4)), valid_lens=EXERCISE_2_1_LENS)
    return np.allclose(answer, expected, atol=1e-3)


def _cases():
    """Scores and masks that catch the usual mistakes: fully masked rows, huge scores."""
    rng = np.random.default_rng(21)
    scores = rng.normal(size=(2, 3, 5)) * 3
    scores[0, 0, :2] = [1e4, -1e4]  # huge scores, one of them masked below
    mask = rng.random((2, 3, 5)) < 0.6
    mask[0, 0] = [False, True, True, False, True]
    mask[1, 2] = False  # a fully masked row
    mask[1, 1] = [True, False, False, False, False]
    return [(scores.astype(dtype), mask) for dtype in ("float32", "float16")]


@exercise("2.2", hint="Masked keys must leave the softmax entirely (weight exactly 0), a row "
                      "with no kept key must be all zeros, and no constant may overflow float16. "
                      "Take the row maximum over kept keys only.")
def _(answer):
    if not callable(answer):
        raise TypeError("the answer is a function (scores, mask) -> weights: pass the "
                        "function itself, not what it returns")
    for scores, mask in _cases():
        weights = np.asarray(answer(scores, mask), dtype=np.float64)
        expected = reference.masked_softmax(scores.astype(np.float64), mask=mask)
        tolerance = 2e-3 if scores.dtype == np.float16 else 1e-5
        if weights.shape != expected.shape or not np.all(np.isfinite(weights)):
            return False
        if np.any(weights[~mask] != 0) or not np.allclose(weights, expected, atol=tolerance):
            return False
    return True


@exercise("2.3", hint="The largest weight falls as the temperature rises; bisect between a "
                      "temperature where it is above 0.9 and one where it is below.")
def _(answer):
    temperature = float(answer)
    if not temperature > 0:
        return False
    largest = reference.softmax(EXERCISE_2_3_SCORES / temperature).max()
    return abs(largest - 0.9) < 1e-3
