"""Self-checks for Chapter 5, self-attention.

Each check recognises the classic mistakes of its exercise (a wrong triangle, a mask on
the queries instead of the keys, a forgotten renormalisation, ...) by recomputing them on
the same inputs, and names the one it finds.
"""

import math

import numpy as np

from attn_lib import masking, reference
from attn_lib.exercises import exercise


def _number(answer):
    """`answer` as one float; a TypeError for anything that is not one number."""
    values = np.asarray(answer, dtype=np.float64)
    if values.size != 1:
        raise TypeError(f"expected one number; got {values.size} values")
    return float(values.reshape(()))


def _close(got, want, atol=1e-6):
    """Same shape and values, except where `want` is NaN: a row with no key to attend to,
    which an answer may fill with NaN (0/0), zeros or uniform weights (a finite fill)."""
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    defined = ~np.isnan(want)
    return (got.shape == want.shape and defined.any()
            and np.allclose(got[defined], want[defined], atol=atol))


def _first(got, candidates):
    """The name of the first candidate `got` equals, or None."""
    return next((name for name, want in candidates if _close(got, want)), None)


# ---------------------------------------------------------------------------------------------
# 5.1: the spread of the scores of a layer that divides by √64 whatever d_k is

_D_K, _DIVISOR = 16, math.sqrt(64)


@exercise(
    "5.1",
    hint="A dot product of two d-dimensional vectors with independent unit-variance entries "
         "has variance d. xiaosongshine's layer (Chapter 5) divides every score by √64 = 8, "
         "whatever d is; here d_k = 16.",
    mistakes={
        "variance": "That is the variance of the scores, the square of their spread; the "
                    "exercise asks for the standard deviation.",
        "correct_layer": "That is the spread of a layer that divides by √d_k of its own "
                         "keys. xiaosongshine's layer (Chapter 5) divides by √64 whatever "
                         "d_k is, and here d_k = 16.",
        "not_divided": "That is the spread of the raw dot products, before the layer divides "
                       "every score by √64.",
        "divided_by_64": "You divided by 64; the layer divides by its square root, √64.",
        "ratio": "Your scores spread more than the correct layer's, yet this layer divides by "
                 "more than √d_k, so its scores must spread less. Check which number is "
                 "divided by which, and that you used the spread of a dot product (√d_k), "
                 "not its variance (d_k).",
        "unit_dot_product": "You divided 1 by √64, as if a dot product of 16 unit-variance "
                            "products had spread 1; its standard deviation grows with d_k.",
        "summed_samples": "Your scores spread far more than a sum of 16 products can: did you "
                          "sum over the samples instead of over the d_k entries of each "
                          "vector (the last axis)?",
    },
)
def _(answer):
    answer = _number(answer)
    expected = math.sqrt(_D_K) / _DIVISOR
    if abs(answer - expected) < 0.03:  # a simulation, or 0.5 written by hand
        return True
    slips = [("variance", _D_K / _DIVISOR**2), ("correct_layer", 1.0),
             ("not_divided", math.sqrt(_D_K)), ("divided_by_64", math.sqrt(_D_K) / 64),
             ("ratio", _DIVISOR / math.sqrt(_D_K)), ("ratio", _D_K / _DIVISOR),
             ("unit_dot_product", 1 / _DIVISOR)]
    for name, value in slips:
        if abs(answer - value) < 0.06 * value:  # a simulation's noise, or hand rounding
            return name
    return "summed_samples" if answer > _DIVISOR else False


# ---------------------------------------------------------------------------------------------
# 5.2: a causal softmax, implemented from NumPy operations


def _softmax(scores, keep, axis=-1):
    """Softmax of `scores` over `axis` with the entries outside `keep` at -inf (NaN: 0/0)."""
    shifted = np.where(keep, scores, -np.inf)
    with np.errstate(invalid="ignore"):
        e = np.exp(shifted - shifted.max(axis=axis, keepdims=True))
        return e / e.sum(axis=axis, keepdims=True)


def _fill_used(got, scores, keep):
    """The finite fill value `got` was computed with, if it is a softmax of that kind."""
    masked = ~keep & (np.asarray(got) > 0)
    if not masked.any():
        return None
    index = tuple(np.argwhere(masked)[0])
    row = index[:-1]
    kept = row + (int(np.argmax(keep[row])),)  # a kept key of the same row
    if not got[kept] > 0:
        return None
    return scores[kept] + math.log(got[index] / got[kept])


@exercise(
    "5.2",
    hint="Query i may look at keys j <= i: give the other keys weight exactly 0 and take the "
         "softmax over the keys that are left, separately for every query.",
    mistakes={
        "no_mask": "Your weights are not causal: every query also gives weight to the keys "
                   "after it. Hide the future keys before the softmax.",
        "wrong_triangle": "Your weights look at the future: query i gives weight to keys "
                          "j > i and none to some earlier ones. Rows are queries, columns are "
                          "keys: which triangle may a query see?",
        "diagonal_masked": "A query may also look at its own position: the diagonal belongs "
                           "to the allowed keys (else the first query sees nothing at all).",
        "not_renormalised": "You zeroed the future weights after the softmax, so the rows no "
                            "longer sum to 1. Hide the future keys before the softmax (or "
                            "renormalise each row).",
        "multiplied": "Multiplying the scores by the mask makes the hidden scores 0, not "
                      "-inf: exp(0) = 1, so the future keys still get weight.",
        "small_fill": "The future keys still get a little weight: your fill value is not "
                      "small enough against these scores. Use -inf (exp(-inf) is exactly 0) "
                      "or a huge negative number.",
        "wrong_axis": "Your weights are normalised over the queries (each column sums to 1), "
                      "not over the keys: the softmax runs over the last axis.",
        "transposed": "Your mask and softmax act on the transposed scores: scores[..., i, j] "
                      "is query i against key j, rows are queries.",
        "shape": "Return one weight per score: an array of the scores' shape (..., T, T), "
                 "for any number of leading axes.",
        "library": "Your function calls attn_lib's `masked_softmax` or `causal_mask`, which "
                   "compute what this exercise asks you to write. Build the mask and the "
                   "softmax from NumPy operations instead.",
    },
    implements=(masking.masked_softmax, reference.masked_softmax, masking.causal_mask,
                reference.causal_mask),
)
def _(answer):
    rng = np.random.default_rng(52)
    for shape in [(4, 4), (2, 6, 6), (3, 2, 5, 5), (1, 1)]:
        scores = rng.normal(scale=3.0, size=shape)
        T = shape[-1]
        lower = np.broadcast_to(np.tri(T, dtype=bool), shape)  # j <= i
        expected = _softmax(scores, lower)
        got = np.asarray(answer(scores.copy()), dtype=np.float64)
        if got.shape != shape:
            return "shape"
        if np.allclose(got, expected, atol=1e-6):
            continue
        upper = np.swapaxes(lower, -1, -2)
        strictly_lower = np.broadcast_to(np.tri(T, k=-1, dtype=bool), shape)
        everything = np.ones(shape, bool)
        name = _first(got, [
            ("no_mask", _softmax(scores, everything)),
            ("wrong_triangle", _softmax(scores, upper)),
            ("wrong_triangle", _softmax(scores, ~lower)),
            ("diagonal_masked", _softmax(scores, strictly_lower)),
            ("not_renormalised", _softmax(scores, everything) * lower),
            ("multiplied", _softmax(scores * lower, everything)),
            ("wrong_axis", _softmax(scores, lower, axis=-2)),
            ("transposed", _softmax(np.swapaxes(scores, -1, -2), lower)),
        ])
        if name:
            return name
        fill = _fill_used(got, scores, lower)
        if fill is not None and _close(got, _softmax(np.where(lower, scores, fill),
                                                     everything)):
            return "small_fill"
        return False
    return True


# ---------------------------------------------------------------------------------------------
# 5.3: the longest T whose attention weights (B, h, T, T) in float32 fit in 1 GiB

_GIB, _BATCH, _HEADS, _BYTES = 2**30, 16, 12, 4


@exercise(
    "5.3",
    hint="The weights of one layer hold B * h * T * T float32 numbers of 4 bytes each; "
         "1 GiB is 2**30 bytes. Give the largest whole T that fits.",
    mistakes={
        "rounded_up": "With your T the weights take a little more than 1 GiB: round down, "
                      "not up.",
        "not_integer": "T counts tokens: give a whole number, the largest T that fits "
                       "(round down).",
        "heads": "Each of the h = 12 heads has its own (T, T) weights: count them all.",
        "batch": "Each of the B = 16 sequences of the batch has its own weights: count them "
                 "all.",
        "bytes": "Count the bytes per number again: a float32 number takes 4 bytes (32 bits).",
        "gib": "1 GiB is 2**30 bytes, a little more than 10**9 (that is 1 GB).",
        "square": "The weights of one head are a (T, T) matrix: T appears twice in the "
                  "count.",
    },
)
def _(answer):
    answer = _number(answer)
    expected = math.isqrt(_GIB // (_BATCH * _HEADS * _BYTES))
    whole = math.floor(answer)
    if answer == whole and whole == expected:
        return True
    if answer != whole and whole == expected:
        return "not_integer"
    slips = {expected + 1: "rounded_up",
             math.isqrt(_GIB // (_BATCH * _BYTES)): "heads",
             math.isqrt(_GIB // (_HEADS * _BYTES)): "batch",
             math.isqrt(10**9 // (_BATCH * _HEADS * _BYTES)): "gib",
             _GIB // (_BATCH * _HEADS * _BYTES): "square"}
    for bytes_per_number in (1, 2, 8, 32):  # no bytes, float16, float64, bits
        slips.setdefault(math.isqrt(_GIB // (_BATCH * _HEADS * bytes_per_number)), "bytes")
    return slips.get(whole, False)


# ---------------------------------------------------------------------------------------------
# 5.4: self-attention of one padded sequence, W_q = W_k = W_v = I


def _padded_attention(x, valid_len, hidden, fill=-np.inf, divisor=None, zero_inputs=False,
                      zero_after=False):
    """softmax(x xᵀ / √d) x with the keys in `hidden` (a (T,) bool) handled as told."""
    x = np.where(np.arange(len(x))[:, None] < valid_len, x, 0.0) if zero_inputs else x
    scores = x @ x.T / (np.sqrt(x.shape[-1]) if divisor is None else divisor)  # (T, T)
    if zero_after:
        return (reference.softmax(scores) * ~hidden) @ x
    return reference.softmax(np.where(hidden, fill, scores)) @ x


@exercise(
    "5.4",
    hint="Padding is a property of the *keys* (the columns of the scores): every real query "
         "must give the padded keys weight exactly 0.",
    mistakes={
        "masked_rows": "The real words still attend to the padding: you hide padded *queries* "
                       "(rows of the scores), which leaves the real rows untouched. Padding is "
                       "a property of the keys, the columns.",
        "zero_fill": "A score of 0 is not a weight of 0: exp(0) = 1, so the padded keys keep "
                     "some weight. Fill their scores with -inf.",
        "off_by_one": "You hide one key too many or too few: the first `valid_len` keys "
                      "(positions 0 to valid_len - 1) are real.",
        "not_renormalised": "You zeroed the padded keys' weights after the softmax, so the "
                            "real rows no longer sum to 1. Hide them before the softmax.",
        "inverted": "Your real words attend only to the padding: the mask is inverted (you "
                    "hid the real keys and kept the padded ones).",
        "zeroed_inputs": "Zeroing the padded rows of `x` is not masking: a zero key still "
                         "scores 0 and takes weight exp(0) = 1 in the softmax. Hide the padded "
                         "keys' scores instead.",
        "scale": "The mask is right, but the scale is not the one of the function you were "
                 "given: divide the scores by √d, d = x.shape[-1].",
        "real_rows_only": "Return all T rows, padded ones included (they may hold anything; "
                          "only the real rows are checked).",
    },
    takes_function=True,
)
def _(answer):
    rng = np.random.default_rng(54)
    for length, valid in [(6, 4), (5, 5), (7, 1)]:
        x = rng.normal(size=(length, 8))
        x[valid:] = rng.normal(scale=50.0, size=(length - valid, 8))  # loud padding
        positions = np.arange(length)
        padded = positions >= valid
        expected = _padded_attention(x, valid, padded)
        got = np.asarray(answer(x.copy(), valid), dtype=np.float64)
        if got.shape == (valid, x.shape[1]) and valid < length:
            return "real_rows_only" if _close(got, expected[:valid]) else False
        if got.shape != x.shape:
            raise ValueError(f"expected an output of the shape of x, (T, d) = {x.shape}, "
                             f"padded rows included; got {got.shape}")
        if np.allclose(got[:valid], expected[:valid], atol=1e-6):
            continue
        with np.errstate(invalid="ignore"):  # the inverted mask hides every key of (5, 5)
            candidates = [
                ("masked_rows", _padded_attention(x, valid, np.zeros(length, bool))),
                ("zero_fill", _padded_attention(x, valid, padded, fill=0.0)),
                ("off_by_one", _padded_attention(x, valid, positions >= valid + 1)),
                ("off_by_one", _padded_attention(x, valid, positions >= valid - 1)),
                ("not_renormalised", _padded_attention(x, valid, padded, zero_after=True)),
                ("inverted", _padded_attention(x, valid, ~padded)),
                ("zeroed_inputs", _padded_attention(x, valid, np.zeros(length, bool),
                                                    zero_inputs=True)),
                ("scale", _padded_attention(x, valid, padded, divisor=1.0)),
                ("scale", _padded_attention(x, valid, padded, divisor=x.shape[-1])),
            ]
        return _first(got[:valid], [(name, want[:valid]) for name, want in candidates]) or False
    return True
