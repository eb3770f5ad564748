"""Self-checks for Chapter 6, multi-head attention.

Each check recognises the classic mistakes of its exercise (key_dim taken as d_model / h,
a reshape without a transpose, a rotation the wrong way round, ...) and names the one it
finds.
"""

import itertools

import numpy as np

from attn_lib import multihead, reference
from attn_lib.exercises import exercise


def _number(answer):
    """`answer` as one float; a TypeError for anything that is not one number."""
    values = np.asarray(answer, dtype=np.float64)
    if values.size != 1:
        raise TypeError(f"expected one number; got {values.size} values")
    return float(values.reshape(()))


# ---------------------------------------------------------------------------------------------
# 6.1: the parameters of MultiHeadAttention(num_heads=8, key_dim=32) on d_model = 512

_D_MODEL, _HEADS, _KEY_DIM = 512, 8, 32


def _count(d_model=_D_MODEL, heads=_HEADS, key_dim=_KEY_DIM, projections=3, biases=True,
           output=True, output_bias=_D_MODEL):
    """Weights and biases of `projections` input projections and the output projection."""
    width = heads * key_dim
    total = projections * (d_model * width + (width if biases else 0))
    if output:
        total += width * d_model + (output_bias if biases else 0)
    return total


@exercise(
    "6.1",
    hint="Count W_q, W_k, W_v (d_model x h*key_dim each), W_o (h*key_dim x d_model) and the "
         "four bias vectors; here key_dim is not d_model / h.",
    mistakes={
        "key_dim_from_heads": "You took key_dim = d_model / h = 64, as in most Transformers; "
                              "this layer was built with key_dim=32, so h*key_dim = 256 is "
                              "not d_model.",
        "no_biases": "You counted the weight matrices only: each of the four projections "
                     "also has a bias vector.",
        "output_bias": "Check the output projection's bias: W_o maps h*key_dim features back "
                       "to d_model, and its bias has one entry per output feature.",
        "no_output_projection": "You forgot the output projection W_o (h*key_dim x d_model) "
                                "and its bias, which merge the heads.",
        "one_projection": "Queries, keys and values each have their own projection: count "
                          "W_q, W_k and W_v.",
        "per_head": "That is the count for one head: W_q, W_k and W_v project to all h heads "
                    "at once (h*key_dim columns each), and count_params() counts them all.",
        "millions": "Give the exact number of parameters, as count_params() returns it, not "
                    "a rounded number of millions.",
    },
)
def _(answer):
    answer = _number(answer)
    if answer == _count():
        return True
    if answer < 10:  # millions
        return "millions" if abs(answer * 1e6 - _count()) <= 0.01e6 else False
    slips = [("key_dim_from_heads", _count(key_dim=_D_MODEL // _HEADS)),
             ("no_biases", _count(biases=False)),
             ("output_bias", _count(output_bias=0)),
             ("output_bias", _count(output_bias=_HEADS * _KEY_DIM)),
             ("no_output_projection", _count(output=False)),
             ("one_projection", _count(projections=1)),
             ("per_head", _count(heads=1)),
             ("per_head", _count() / _HEADS)]
    return next((name for name, value in slips if abs(answer - value) < 0.5), False)


# ---------------------------------------------------------------------------------------------
# 6.2: split heads, (B, T, h*d) -> (B, h, T, d), implemented with reshape and transpose


@exercise(
    "6.2",
    hint="Head i takes features i*d to (i+1)*d - 1 of every position: split the last axis "
         "into (h, d), then move the head axis in front of the positions.",
    mistakes={
        "bare_reshape": "A reshape straight to (B, h, T, d) only regroups the numbers in "
                        "memory order, so a head gets pieces of several positions (as "
                        "split_heads_buggy does). Split the last axis first, then move the "
                        "head axis.",
        "no_transpose": "Your heads are still behind the positions: the result has the axes "
                        "(B, T, h, d). Move the head axis in front of the positions.",
        "d_h_split": "You split the last axis as (d, h), so head i takes every h-th feature; "
                     "each head should take a contiguous block of d features.",
        "transpose_first": "You moved the features in front of the positions before "
                           "splitting them, which mixes positions into the heads. Split the "
                           "feature axis into (h, d) first, then transpose.",
        "axis_order": "Your numbers are right but the axes are in another order: the result "
                      "should be (B, h, T, d), batch first, then heads, positions, features.",
        "library": "Your function calls attn_lib's `split_heads`, the function this exercise "
                   "asks you to write. Build it from a reshape and a transpose instead.",
    },
    implements=(multihead.split_heads,),
)
def _(answer):
    rng = np.random.default_rng(62)
    for batch, length, heads, size in [(2, 3, 4, 5), (1, 6, 2, 3), (3, 1, 1, 4)]:
        x = rng.normal(size=(batch, length, heads * size))
        expected = x.reshape(batch, length, heads, size).transpose(0, 2, 1, 3)
        got = np.asarray(answer(x.copy(), heads), dtype=np.float64)
        if got.shape == expected.shape and np.allclose(got, expected):
            continue
        candidates = [
            ("bare_reshape", x.reshape(batch, heads, length, size)),
            ("no_transpose", x.reshape(batch, length, heads, size)),
            ("d_h_split", x.reshape(batch, length, size, heads).transpose(0, 3, 1, 2)),
            ("transpose_first", x.transpose(0, 2, 1).reshape(batch, heads, length, size)),
        ] + [("axis_order", expected.transpose(order))
             for order in itertools.permutations(range(4))]
        return next((name for name, want in candidates
                     if got.shape == want.shape and np.allclose(got, want)), False)
    return True


# ---------------------------------------------------------------------------------------------
# 6.3: the matrix M_k with P[t + k] = P[t] M_k for the sinusoidal encodings


def _frequencies(d_model):
    return 1.0 / 10000 ** (np.arange(0, d_model, 2) / d_model)


def _rotations(d_model, angles, halves=False):
    """Block-diagonal M turning each (sin, cos) pair by its angle, P_t M = P_(t+k)."""
    M = np.zeros((d_model, d_model))
    for i, angle in enumerate(angles):
        c, s = np.cos(angle), np.sin(angle)
        a, b = (i, i + d_model // 2) if halves else (2 * i, 2 * i + 1)
        M[a, a], M[a, b], M[b, a], M[b, b] = c, -s, s, c
    return M


def _pair_blocks(M):
    """The (d/2, 2, 2) diagonal blocks of M, or None when M has entries outside them."""
    d = M.shape[0]
    blocks = np.stack([M[i:i + 2, i:i + 2] for i in range(0, d, 2)])
    outside = M.copy()
    for i in range(0, d, 2):
        outside[i:i + 2, i:i + 2] = 0.0
    return None if np.abs(outside).max() > 1e-8 else blocks


def _shift_slip(M, d_model, k):
    """The mistake M shows for one (d_model, k), or None."""
    omega = _frequencies(d_model)
    if np.allclose(M, _rotations(d_model, -omega * k), atol=1e-8):
        return "inverse"
    if np.allclose(M, _rotations(d_model, omega * k, halves=True), atol=1e-8):
        return "halves"
    blocks = _pair_blocks(M)
    if blocks is None:
        return None
    c, s = blocks[:, 0, 0], blocks[:, 1, 0]
    is_rotation = (np.allclose(blocks[:, 1, 1], c, atol=1e-8)
                   and np.allclose(blocks[:, 0, 1], -s, atol=1e-8)
                   and np.allclose(c**2 + s**2, 1.0, atol=1e-8))
    if not is_rotation:
        same_diagonal = np.allclose(blocks[:, 1, 1], c, atol=1e-8)
        same_signs = np.allclose(blocks[:, 0, 1], s, atol=1e-8)
        return "not_rotation" if same_diagonal and same_signs else None
    angles = np.arctan2(s, c)

    def turns_by(want):
        return np.allclose(np.angle(np.exp(1j * (angles - want))), 0.0, atol=1e-8)

    if k not in (0, 1) and turns_by(omega):
        return "ignores_k"
    if not turns_by(0.0):
        return "frequencies"
    return None


@exercise(
    "6.3",
    hint="Each (sin, cos) pair of frequency w is a point on a circle; moving k positions on "
         "turns it by the angle w*k. Write that 2x2 rotation for every pair, on the diagonal "
         "of a (d_model, d_model) matrix.",
    mistakes={
        "inverse": "Your matrix moves the encodings k positions back, not forward: it is the "
                   "inverse (the transpose) of M_k. The rows P_t are multiplied from the "
                   "left, P_t M_k: check the signs of your sine terms.",
        "negative_k": "Right for positive k, wrong for negative k: the angle-addition "
                      "formulas hold for any integer k, so no special case is needed.",
        "blocks": "Return the whole (d_model, d_model) matrix, with your 2x2 blocks on its "
                  "diagonal and zeros elsewhere.",
        "frequencies": "Your blocks are rotations, but by the wrong angles: pair i of "
                       "reference.positional_encoding has the frequency "
                       "w_i = 1 / 10000**(2i / d_model), and the angle is w_i * k.",
        "ignores_k": "Your blocks turn each pair by w, the angle of one step, whatever k "
                     "is: a shift by k positions turns it by w*k.",
        "halves": "reference.positional_encoding interleaves sines and cosines: column 2i is "
                  "sin(w_i t) and column 2i+1 is cos(w_i t). Your matrix pairs column i with "
                  "column i + d_model/2, as if the sines came first and the cosines after.",
        "not_rotation": "Your 2x2 blocks are not rotations: a rotation keeps the length of "
                        "each (sin, cos) pair. Check the signs of your sine terms.",
    },
    takes_function=True,
)
def _(answer):
    positive_passed = False
    for d_model, k in [(16, 3), (8, 1), (32, -2), (6, 5)]:
        P = reference.positional_encoding(60, d_model)
        M = np.asarray(answer(d_model, k), dtype=np.float64)
        if M.shape == (d_model // 2, 2, 2):
            return "blocks"
        if M.shape != (d_model, d_model):
            raise ValueError(f"expected a (d_model, d_model) matrix, ({d_model}, {d_model}); "
                             f"got {M.shape}")
        before, after = (P[:-k], P[k:]) if k > 0 else (P[-k:], P[:k])
        if np.allclose(before @ M, after, atol=1e-8):
            positive_passed |= k > 0
            continue
        if k < 0 and positive_passed:
            return "negative_k"
        return _shift_slip(M, d_model, k) or False
    return True
