"""Self-checks for Chapter 5, self-attention."""

import math

import numpy as np

from attn_lib import reference
from attn_lib.exercises import exercise


@exercise("5.1", hint="A dot product of two d-dimensional vectors with unit-variance entries "
                      "has variance d; the blog's layer divides by the same number, 8, for "
                      "every d.")
def _(answer):
    expected = math.sqrt(16) / math.sqrt(64)
    return abs(float(answer) - expected) < 0.03


@exercise("5.2", hint="Query i may look at keys j <= i; give the other keys weight exactly 0 "
                      "and renormalise each row over the keys that are left.")
def _(answer):
    rng = np.random.default_rng(52)
    for shape in [(1, 1), (4, 4), (2, 6, 6), (3, 2, 5, 5)]:
        scores = rng.normal(scale=3.0, size=shape)
        mask = reference.causal_mask(shape[-1], shape[-1])
        expected = reference.masked_softmax(scores, mask=np.broadcast_to(mask, shape))
        got = np.asarray(answer(scores.copy()), dtype=float)
        if got.shape != shape:
            raise ValueError(f"expected weights of the scores' shape {shape}; got {got.shape}")
        if not np.allclose(got, expected, atol=1e-6):
            return False
    return True


@exercise("5.3", hint="The weights of one layer hold B * h * T * T float32 numbers of 4 bytes; "
                      "1 GiB is 2**30 bytes. Round down.")
def _(answer):
    expected = math.isqrt(2**30 // (16 * 12 * 4))
    return float(answer) == int(answer) and int(answer) == expected


@exercise("5.4", hint="Padding is a property of the *keys* (the columns of the scores): every "
                      "real query must give the padded keys weight 0.")
def _(answer):
    rng = np.random.default_rng(54)
    for length, valid in [(6, 4), (5, 5), (7, 1)]:
        x = rng.normal(size=(length, 8))
        x[valid:] = rng.normal(scale=50.0, size=(length - valid, 8))  # loud padding
        expected, _ = reference.dot_product_attention(x[None], x[None], x[None],
                                                      valid_lens=np.array([valid]))
        got = np.asarray(answer(x.copy(), valid), dtype=float)
        if got.shape != x.shape:
            raise ValueError(f"expected an output of the shape of x, (T, d) = {x.shape}, "
                             f"padded rows included; got {got.shape}")
        if not np.allclose(got[:valid], expected[0, :valid], atol=1e-6):
            return False
    return True
