"""Self-checks for Chapter 12, positions: RoPE with complex numbers, the permutation
between RoPE's two pairings, and ALiBi's slopes.

Each check compares the answer with the NumPy oracle (`attn_lib.reference`) and, when it
is wrong, with the classic slips rebuilt here, and names the one it behaves like.
"""

import numpy as np

from attn_lib import positions, reference
from attn_lib.exercises import exercise

BASE = 10000.0


def _close(got, want, atol=1e-4):
    got = np.asarray(got, dtype=np.float64)
    return got.shape == want.shape and bool(np.allclose(got, want, atol=atol))


# ---------------------------------------------------------------------------------------------
# 12.1: RoPE, interleaved pairing, written with complex numbers: (x (T, d), positions (T,))

def _rope_slip(x, pos, exponent=2.0, sign=1.0, pairing="interleaved", shift=0):
    """RoPE with one of the classic slips (the defaults: none)."""
    d = x.shape[-1]
    theta = BASE ** (-exponent * np.arange(d // 2) / d)  # (d/2,)
    angles = sign * (pos[:, None] + shift) * theta  # (T, d/2)
    if pairing == "interleaved":
        z = x[..., 0::2] + 1j * x[..., 1::2]
    else:
        z = x[..., :d // 2] + 1j * x[..., d // 2:]
    z = z * np.exp(1j * angles)
    out = np.empty_like(x)
    if pairing == "interleaved":
        out[..., 0::2], out[..., 1::2] = z.real, z.imag
    else:
        out[..., :d // 2], out[..., d // 2:] = z.real, z.imag
    return out


_RoPE_SLIPS = {
    "sin_sign": dict(sign=-1.0),
    "frequency_exponent": dict(exponent=1.0),
    "half_pairing": dict(pairing="half"),
    "positions_from_one": dict(shift=1),
}


def _rope_cases():
    rng = np.random.default_rng(121)
    for length, d in [(5, 8), (3, 16), (6, 4)]:
        x = rng.normal(size=(length, d))
        pos = rng.integers(0, 200, size=length)
        yield x, pos


@exercise(
    "12.1",
    hint="View features (2i, 2i + 1) as one complex number, multiply it by e^(i m θ_i) "
         "with θ_i = base^(-2i/d) and m the position, and write the real and imaginary "
         "parts back to features 2i and 2i + 1.",
    mistakes={
        "sin_sign": "Your vectors turn the wrong way round: a rotation by +mθ multiplies by "
                    "e^(+i m θ) (a + ib -> a cos - b sin + i(a sin + b cos)); check the "
                    "sign of the angle or a conjugate.",
        "frequency_exponent": "Your frequencies fall too slowly: θ_i has the exponent -2i/d "
                              "(pair i of d/2 pairs), not -i/d.",
        "half_pairing": "You paired feature i with feature i + d/2 (the half-split "
                        "layout). This exercise asks for the interleaved layout: feature "
                        "2i with 2i + 1.",
        "no_rotation": "Your function returns its input unchanged: every pair must turn by "
                       "its position times its frequency.",
        "positions_from_one": "Your rotation is one position too far: use the positions "
                              "you are given as they are (the first token is at 0, and is "
                              "not rotated).",
        "not_rotation": "Your function changes the length of the pairs: a rotation keeps "
                        "|a + ib|. Multiply by e^(iφ), whose size is 1.",
    },
    implements=(positions.rope, reference.rope),
)
def _(answer):
    outputs, cases = [], list(_rope_cases())
    for x, pos in cases:
        outputs.append(np.asarray(answer(x.copy(), pos.copy()), dtype=np.float64))
    wants = [reference.rope(x, pos, base=BASE, pairing="interleaved") for x, pos in cases]
    if all(_close(out, want) for out, want in zip(outputs, wants)):
        return True
    for name, slip in _RoPE_SLIPS.items():
        if all(_close(out, _rope_slip(x, pos, **slip))
               for out, (x, pos) in zip(outputs, cases)):
            return name
    if all(_close(out, x) for out, (x, _) in zip(outputs, cases)):
        return "no_rotation"
    for out, (x, _) in zip(outputs, cases):
        if out.shape == x.shape:
            lengths = np.hypot(out[..., 0::2], out[..., 1::2])
            if not np.allclose(lengths, np.hypot(x[..., 0::2], x[..., 1::2]), atol=1e-4):
                return "not_rotation"
    return False


# ---------------------------------------------------------------------------------------------
# 12.2: the permutation between the pairings, d = 8

_D = 8


def _permutation():
    return np.concatenate([np.arange(0, _D, 2), np.arange(1, _D, 2)])


@exercise(
    "12.2",
    hint="Interleaved pairs features (2i, 2i + 1), half-split pairs (i, i + d/2). Reorder "
         "the interleaved features so that the first member of every pair comes first, in "
         "order, then the second members.",
    mistakes={
        "inverse": "Your index array undoes the reordering instead of doing it: x[..., perm] "
                   "must take the interleaved layout to the half-split one. Try the inverse "
                   "permutation.",
        "identity": "That is no reordering at all: with d > 2 the two layouts pair different "
                    "features.",
        "swapped_pairs": "Your pairs come out with their two members swapped: (b, a) "
                         "instead of (a, b) turns the other way. Keep the first member of "
                         "each pair in the first half.",
        "one_based": "Python counts from 0: the features are 0 ... d - 1.",
        "wrong_size": "The answer is an index array of length d = 8, one index per feature.",
        "not_permutation": "An index array that uses some feature twice (or skips one) is "
                           "not a reordering: every feature 0 ... d - 1 must appear once.",
    },
)
def _(answer):
    perm = np.asarray(answer)
    if perm.shape != (_D,) or not np.issubdtype(perm.dtype, np.number):
        return "wrong_size"
    if not np.all(perm == np.round(perm)):
        return "not_permutation"
    perm = perm.astype(int)
    right = _permutation()
    if np.array_equal(perm, right):
        return True
    if np.array_equal(np.sort(perm), np.arange(1, _D + 1)):
        return "one_based"
    if not np.array_equal(np.sort(perm), np.arange(_D)):
        return "not_permutation"
    if np.array_equal(perm, np.argsort(right)):
        return "inverse"
    if np.array_equal(perm, np.arange(_D)):
        return "identity"
    if np.array_equal(perm, np.concatenate([right[_D // 2:], right[:_D // 2]])):
        return "swapped_pairs"
    return False


# ---------------------------------------------------------------------------------------------
# 12.3: ALiBi's slopes for h heads, (h) -> (h,)

_HEADS = (1, 2, 3, 4, 5, 6, 8, 12, 16)


def _slopes(h):
    return np.array(positions._alibi_slopes(h))  # private: not what 12.3 spies on


def _slopes_slip(h, kind):
    k = np.arange(1, h + 1)
    if kind == "base_two":
        return 2.0 ** -k
    if kind == "no_eight":
        return 2.0 ** (-k / h)
    if kind == "start_at_zero":
        return 2.0 ** (-8.0 * (k - 1) / h)
    if kind == "no_power_rule":
        return 2.0 ** (-8.0 * k / h)
    if kind == "reversed":
        return _slopes(h)[::-1]
    if kind == "fill_first":
        power = 2 ** int(np.floor(np.log2(h)))
        extra = _slopes(2 * power)[:h - power] if power < h else []
        return np.concatenate([_slopes(power), extra])
    raise ValueError(kind)


@exercise(
    "12.3",
    hint="For h a power of two the slopes are a geometric sequence that starts below 1 and "
         "ends at 2^-8; for other h, follow the paper's rule for the heads beyond the "
         "largest power of two.",
    mistakes={
        "base_two": "Your slopes halve from head to head whatever h is: the ratio between "
                    "neighbours depends on h (the exponent is scaled by 8/h).",
        "no_eight": "Your slopes shrink too slowly: the last head of a power-of-two h "
                    "should reach 2^-8.",
        "start_at_zero": "Your first head has slope 1: count the heads from k = 1.",
        "no_power_rule": "Right for powers of two; for other h, the paper does not use "
                         "2^(-8k/h): it takes the slopes of the largest power of two "
                         "below h, then fills in from twice as many heads.",
        "fill_first": "The extra heads (beyond the largest power of two) take every other "
                      "slope of the doubled count, the ones that fall between the first "
                      "slopes, not its first ones.",
        "reversed": "Your slopes are in the opposite order: head 1 has the steepest slope.",
    },
    implements=(positions.alibi_slopes, reference.alibi_slopes),
)
def _(answer):
    outputs = {h: np.asarray(answer(h), dtype=np.float64).reshape(-1) for h in _HEADS}
    if all(_close(outputs[h], _slopes(h), atol=1e-6) for h in _HEADS):
        return True
    for kind in ("no_power_rule", "base_two", "no_eight", "start_at_zero", "reversed",
                 "fill_first"):
        if all(_close(outputs[h], _slopes_slip(h, kind), atol=1e-6) for h in _HEADS):
            return kind
    return False
