"""Self-checks for Chapter 0, attention in ten lines (the worked example)."""

import numpy as np

from attn_lib import reference
from attn_lib.exercises import exercise

#: Chapter 0's worked example: one query and three keys (the values are the keys).
QUERY = np.array([1.0, 1.0, 1.0, 3.0])
KEYS = np.array([[1.0, 1.0, 2.0, 4.0], [4.0, 1.0, 1.0, 3.0], [1.0, 1.0, 2.0, 1.0]])

#: A careful hand computation rounds the weights to two decimals.
_ATOL = 5e-3


def _wrong_weights():
    """Exercise 0.1's classic mistakes: (mistake name, the three numbers it gives)."""
    scores = KEYS @ (2 * QUERY)  # (Tv,)
    return [
        ("undoubled", reference.softmax(KEYS @ QUERY)),  # also 2q with the √d = 2 scaling
        ("scores", scores),
        ("not_normalised", np.exp(scores - scores.max())),
        ("not_normalised", np.exp(scores)),
        ("divided_by_sum", scores / scores.sum()),
        ("doubled_weights", 2 * reference.softmax(KEYS @ QUERY)),
        ("query_squared", reference.softmax(KEYS @ QUERY**2)),
        ("wrong_axis", np.ones(3)),  # a softmax over an axis of length 1
    ]


@exercise("0.1", hint="Score each key against the doubled query (a dot product), then take the "
                      "softmax of the three scores.",
          mistakes={
              "undoubled": "These are the weights of the original query q. Doubling the query "
                           "doubles every score; use 2q, and do not divide the scores by √d "
                           "(this exercise has no scaling).",
              "scores": "These are the three scores, not yet weights: the weights are the "
                        "softmax of the scores (positive, summing to 1).",
              "not_normalised": "Your numbers do not sum to 1: you took the exponentials of "
                                "the scores but did not divide them by their sum.",
              "divided_by_sum": "You divided the scores by their sum. The softmax "
                                "exponentiates first, then divides by the sum of the "
                                "exponentials.",
              "doubled_weights": "You doubled the weights, not the query: the factor 2 goes "
                                 "into the query, before the scores and the softmax.",
              "query_squared": "Your weights belong to the query squared component by "
                               "component (q**2); the exercise doubles it (2 * q).",
              "wrong_axis": "All three weights are equal to 1: your softmax ran over an axis of "
                            "length 1. Normalise over the keys (the last axis).",
              "rounded": "Nearly there, but rounded too coarsely: give each weight to at least "
                         "two decimals.",
              "output": "You passed four numbers, one per component: that is the output (the "
                        "mix of the values). The exercise asks for the three weights, one per "
                        "key.",
          })
def _(answer):
    answer = np.asarray(answer, dtype=np.float64).reshape(-1)
    if answer.shape == (4,):
        return "output"
    if answer.shape != (3,):
        raise ValueError(f"expected 3 weights, one per key; got {answer.size}")
    expected = reference.softmax(KEYS @ (2 * QUERY))
    if np.allclose(answer, expected, rtol=0, atol=_ATOL):
        return True
    for name, wrong in _wrong_weights():
        if np.allclose(answer, wrong, rtol=1e-3, atol=_ATOL):
            return name
    if np.abs(answer - expected).max() < 10 * _ATOL:
        return "rounded"
    return False
