"""Self-checks for Chapter 6, multi-head attention."""

import numpy as np

from attn_lib import reference
from attn_lib.exercises import exercise


@exercise("6.1", hint="Count W_q, W_k, W_v (d_model x h*key_dim each), W_o (h*key_dim x d_model) "
                      "and the four bias vectors; key_dim is not d_model / h here.")
def _(answer):
    d_model, h, key_dim = 512, 8, 32
    projections = 3 * (d_model * h * key_dim + h * key_dim)
    output = h * key_dim * d_model + d_model
    return float(answer) == int(answer) and int(answer) == projections + output


@exercise("6.2", hint="A reshape only regroups numbers in memory order: first split the last "
                      "axis into (h, d), then move the head axis in front of the positions.")
def _(answer):
    rng = np.random.default_rng(62)
    for batch, length, heads, size in [(2, 3, 4, 5), (1, 6, 2, 3), (3, 1, 1, 4)]:
        x = rng.normal(size=(batch, length, heads * size))
        expected = x.reshape(batch, length, heads, size).transpose(0, 2, 1, 3)
        got = np.asarray(answer(x.copy(), heads))
        if got.shape != expected.shape or not np.allclose(got, expected):
            return False
    return True


@exercise("6.3", hint="Each (sin, cos) pair of frequency w is a point on a circle; moving k "
                      "positions on turns it by the angle w*k. Write that 2x2 rotation per pair.")
def _(answer):
    for d_model, k in [(16, 3), (8, 1), (32, -2), (6, 5)]:
        P = reference.positional_encoding(60, d_model)
        M = np.asarray(answer(d_model, k), dtype=float)
        if M.shape != (d_model, d_model):
            raise ValueError(f"expected a (d_model, d_model) matrix, ({d_model}, {d_model}); "
                             f"got {M.shape}")
        before, after = (P[:-k], P[k:]) if k > 0 else (P[-k:], P[:k])
        if not np.allclose(before @ M, after, atol=1e-8):
            return False
    return True
