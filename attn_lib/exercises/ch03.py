"""Checks for the exercises of Chapter 3 (scoring functions).

Each check recomputes the expected answer (or tests the reader's function on
fresh data) and says only whether the answer is right.
"""

import numpy as np

from attn_lib import reference
from attn_lib.exercises import exercise


@exercise("3.1", hint="Multiply the four sizes B, Tq, Tv and h, then the bytes per float32.")
def _(answer):
    expected = 32 * 512 * 512 * 128 * 4
    return abs(float(answer) - expected) <= 1e-3 * expected


@exercise("3.2", hint="Each product q_i k_i has variance Var(q_i) Var(k_i); there are d of them.")
def _(answer):
    expected = 4.0 * 4.0 * 64
    return abs(float(answer) - expected) <= 0.1 * expected


@exercise("3.3", hint="Which matrix W makes q W kᵀ the plain dot product, and what factor is left?")
def _(answer):
    answer = np.asarray(answer, dtype=np.float64)
    if answer.shape != (8, 8):
        raise ValueError(f"expected a matrix W of shape (8, 8); got shape {answer.shape}")
    return np.allclose(answer, np.eye(8) / np.sqrt(8), atol=1e-5)


@exercise("3.4", hint="Within one query's row, the grid softmax keeps the ratios "
                      "exp(s_ij)/exp(s_ik); only the row's total is wrong.")
def _(answer):
    if not callable(answer):
        raise TypeError("the answer is a function (grid weights) -> per-query weights: pass "
                        "the function itself, not what it returns")
    rng = np.random.default_rng(304)
    for shape in [(2, 3, 5), (1, 4, 4), (3, 1, 6)]:
        scores = rng.normal(scale=2.0, size=shape)
        batch, num_queries, num_kv = shape
        grid = reference.softmax(scores.reshape(batch, -1)).reshape(shape)
        repaired = np.asarray(answer(grid.astype(np.float32)), dtype=np.float64)
        if repaired.shape != shape or not np.allclose(repaired, reference.softmax(scores),
                                                       atol=1e-5):
            return False
    return True
